defmodule SnakeBridge.CrashTest do
  # Worker crashes, against real Python: each ends only its own worker. The module
  # crashes workers on purpose, so it has pools of its own and captures their logs.
  use ExUnit.Case, async: true
  @moduletag :capture_log

  import SnakeBridge.Test.Lifecycle

  alias SnakeBridge.{PythonError, RefError, WorkerCrashError}
  require SnakeBridge.Pool.Entry
  alias SnakeBridge.Pool.{Entry, Frames, Table}

  @crashes [
    {"os._exit(1)", "import os\nos._exit(1)", status: 1},
    {"a segfault", "import ctypes\nctypes.string_at(0)", signal: 11},
    {"kill -9", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", signal: 9},
    {"a C-level abort", "import os\nos.abort()", signal: 6}
  ]

  # Each crash test has a fresh pool: crashes soon after a worker's start count towards
  # its restart back-off, tested on its own below.
  for {{name, code, [{field, value}]}, n} <- Enum.with_index(@crashes) do
    @pool :"crash_test_#{n}"
    test "#{name} ends only its own worker" do
      start_supervised!({SnakeBridge.Pool, name: @pool, size: 2})
      await_pool(@pool)

      doomed =
        SnakeBridge.eval!("[1]", %{}, pool: @pool, session: session_on(@pool, 0), return: :ref)

      kept =
        SnakeBridge.eval!("[2]", %{}, pool: @pool, session: session_on(@pool, 1), return: :ref)

      {doomed_pid, kept_pid} = {os_pid(doomed), os_pid(kept)}
      refute doomed_pid == kept_pid

      # Routed by the ref to worker 0; says something on stderr first.
      words = "last words before #{unquote(name)}"
      code = "import sys\nprint('#{words}', file=sys.stderr)\n" <> unquote(code)

      assert {:error, %WorkerCrashError{} = error} =
               SnakeBridge.eval(code, %{"doomed" => doomed}, timeout: 10_000)

      assert Map.fetch!(error, unquote(field)) == unquote(value)
      assert error.stderr =~ words
      assert Exception.message(error) =~ words

      # The other worker, its session and its refs are untouched.
      assert SnakeBridge.to_elixir!(kept) == [2]
      assert os_pid(kept) == kept_pid

      # The crashed worker's refs are gone for good, never resolved by its successor.
      assert {:error, %RefError{reason: :worker_lost}} = SnakeBridge.to_elixir(doomed)
      eventually("the crashed process's exit", 2_000, fn -> not os_alive?(doomed_pid) end)

      # A replacement starts and the next call on that worker succeeds.
      replacement =
        SnakeBridge.eval!("[3]", %{}, pool: @pool, session: session_on(@pool, 0), return: :ref)

      assert SnakeBridge.to_elixir!(replacement) == [3]
      refute os_pid(replacement) in [doomed_pid, kept_pid]
    end
  end

  describe "the routing a process keeps (see Call.Route)" do
    test "is not used once the worker is replaced" do
      start_supervised!({SnakeBridge.Pool, name: :crash_route_copy, size: 1})
      await_pool(:crash_route_copy)
      getpid = "import os\nos.getpid()"
      doomed = SnakeBridge.eval!(getpid, %{}, pool: :crash_route_copy)

      assert {_facts, 0, Entry.ready(load: load, incarnation: first) = copied} =
               Process.get(:snakebridge_route)

      assert copied == Table.entry(:crash_route_copy, 0)
      refute Table.retired?(load)

      # Killed from outside, so no call of this process sees the crash.
      System.cmd("kill", ["-9", "#{doomed}"])

      eventually("the replacement", 10_000, fn ->
        match?(
          Entry.ready(incarnation: next) when next != first,
          Table.entry(:crash_route_copy, 0)
        )
      end)

      assert Table.retired?(load)
      # With the old copy, this would write to the closed port until its timeout.
      assert {:ok, replacement} =
               SnakeBridge.eval(getpid, %{}, pool: :crash_route_copy, timeout: 5_000)

      refute replacement == doomed
      assert {_facts, 0, Entry.ready(incarnation: next)} = Process.get(:snakebridge_route)
      refute next == first
    end

    test "is not used once its pool is killed outright, and a new pool's options are seen" do
      spec = {SnakeBridge.Pool, name: :crash_route_killed, size: 1, timeout: 10_000}
      pool = start_supervised!(Supervisor.child_spec(spec, restart: :temporary))
      await_pool(:crash_route_killed)
      assert SnakeBridge.eval!("1", %{}, pool: :crash_route_killed) == 1
      {_facts, 0, Entry.ready(server: server)} = Process.get(:snakebridge_route)

      watch = Process.monitor(server)
      Process.exit(pool, :kill)
      assert_receive {:DOWN, ^watch, :process, ^server, _reason}, 5_000

      eventually("the pool's facts erased", 5_000, fn ->
        Table.lookup(:crash_route_killed) == nil
      end)

      assert_gone_then_new_options_seen(:crash_route_killed)
    end

    test "is not used once its pool is restarted with other options" do
      start_supervised!({SnakeBridge.Pool, name: :crash_route_restart, size: 1, timeout: 10_000})
      await_pool(:crash_route_restart)
      assert SnakeBridge.eval!("1", %{}, pool: :crash_route_restart) == 1
      stop_supervised!({SnakeBridge.Pool, :crash_route_restart})
      assert_gone_then_new_options_seen(:crash_route_restart)
    end
  end

  # A call to the stopped `pool` is refused at once (not after its 10 s timeout), and
  # one to a new pool of that name runs with the new pool's timeout.
  defp assert_gone_then_new_options_seen(pool) do
    assert_raise ArgumentError, ~r/no SnakeBridge pool named #{inspect(pool)}/, fn ->
      SnakeBridge.eval("1", %{}, pool: pool)
    end

    start_supervised!({SnakeBridge.Pool, name: pool, size: 1, timeout: 300})
    await_pool(pool)

    assert {:error, %SnakeBridge.TimeoutError{timeout: 300}} =
             SnakeBridge.eval("import time\ntime.sleep(3)", %{}, pool: pool)
  end

  describe "calls queued behind a call that kills its worker" do
    # A call that waits for `go` to exist, then runs `then` (Python code); what is
    # queued behind it is sent meanwhile, so it is surely waiting in the pipe.
    defp hold(pool, go, then) do
      code = """
      import os, time
      while not os.path.exists(go):
          time.sleep(0.01)
      #{then}
      """

      eval_async(pool, code, %{"go" => go})
    end

    defp eval_async(pool, code, bindings \\ %{}),
      do: Task.async(fn -> SnakeBridge.eval(code, bindings, pool: pool, timeout: 30_000) end)

    # Python that appends a line to the file `log` (a binding), then runs `then`.
    defp append_then(then), do: "with open(log, 'a') as f: f.write('ran\\n')\n" <> then

    defp await_in_flight(pool, count) do
      meta = SnakeBridge.Pool.Table.meta(pool)

      eventually("#{count} calls in flight", 10_000, fn ->
        SnakeBridge.Pool.Table.in_flight(meta, 0) == count
      end)
    end

    defp start_pool(pool) do
      start_supervised!({SnakeBridge.Pool, name: pool, size: 1})
      await_pool(pool)
    end

    test "run on the replacement" do
      start_pool(:crash_queued)
      go = tmp_path("go")
      killer = hold(:crash_queued, go, "os._exit(3)")
      await_in_flight(:crash_queued, 1)

      queued =
        for n <- 1..5 do
          Task.async(fn ->
            SnakeBridge.call("math", "sqrt", [n * n], [], pool: :crash_queued, timeout: 30_000)
          end)
        end

      # One in a session opened here, shared with the caller: it stays usable.
      {:ok, session} = SnakeBridge.open_session(pool: :crash_queued)

      shared =
        Task.async(fn -> SnakeBridge.eval("7", %{}, pool: :crash_queued, session: session) end)

      await_in_flight(:crash_queued, 7)
      File.touch!(go)

      assert {:error, %WorkerCrashError{status: 3}} = Task.await(killer, 30_000)
      assert Task.await_many(queued, 30_000) == for(n <- 1..5, do: {:ok, n * 1.0})
      assert Task.await(shared, 30_000) == {:ok, 7}
      assert SnakeBridge.eval("8", %{}, pool: :crash_queued, session: session) == {:ok, 8}
      # Counted in on the replacement, and out again: nothing left (see Pool.Table).
      await_in_flight(:crash_queued, 0)
    end

    test "are not run again when the worker died in the middle of a frame" do
      # Its last frames, a :started among them, may be lost in the unfinished one: the
      # queued calls are failed, not run twice.
      start_pool(:crash_queued_mid_frame)
      go = tmp_path("go")
      log = tmp_path("log")

      killer =
        hold(:crash_queued_mid_frame, go, "os.write(4, b'\\x00\\x00\\x01\\x00ab')\nos._exit(3)")

      await_in_flight(:crash_queued_mid_frame, 1)

      queued =
        for _ <- 1..3,
            do: eval_async(:crash_queued_mid_frame, append_then("1"), %{"log" => log})

      await_in_flight(:crash_queued_mid_frame, 4)
      File.touch!(go)

      for task <- [killer | queued] do
        assert {:error, %WorkerCrashError{status: 3, reason: reason}} = Task.await(task, 30_000)
        assert reason =~ "in the middle of writing a frame"
      end

      refute File.exists?(log)
      assert SnakeBridge.eval("1 + 1", %{}, pool: :crash_queued_mid_frame) == {:ok, 2}
    end

    test "get RefError :worker_lost if they carry the lost worker's refs" do
      start_pool(:crash_queued_refs)
      ref = SnakeBridge.eval!("[1, 2, 3]", %{}, pool: :crash_queued_refs, return: :ref)
      go = tmp_path("go")
      killer = hold(:crash_queued_refs, go, "os._exit(3)")
      await_in_flight(:crash_queued_refs, 1)

      with_ref =
        Task.async(fn -> SnakeBridge.call("builtins", "len", [ref], [], timeout: 30_000) end)

      plain = eval_async(:crash_queued_refs, "4")
      await_in_flight(:crash_queued_refs, 3)
      File.touch!(go)

      assert {:error, %WorkerCrashError{status: 3}} = Task.await(killer, 30_000)
      assert {:error, %RefError{reason: :worker_lost}} = Task.await(with_ref, 30_000)
      assert Task.await(plain, 30_000) == {:ok, 4}
    end

    test "a queued call that started and killed the worker is not run again" do
      start_pool(:crash_queued_started)
      {go, log} = {tmp_path("go"), tmp_path("log")}
      blocker = hold(:crash_queued_started, go, "'done'")
      await_in_flight(:crash_queued_started, 1)

      # Queued too, so it asks to be told when it starts; it kills the worker once it has.
      killer =
        eval_async(:crash_queued_started, append_then("import os\nos._exit(4)"), %{"log" => log})

      await_in_flight(:crash_queued_started, 2)
      behind = eval_async(:crash_queued_started, "5")
      await_in_flight(:crash_queued_started, 3)
      File.touch!(go)

      assert Task.await(blocker, 30_000) == {:ok, "done"}
      assert {:error, %WorkerCrashError{status: 4}} = Task.await(killer, 30_000)
      assert Task.await(behind, 30_000) == {:ok, 5}
      assert File.read!(log) == "ran\n"
    end

    test "one read while the running call waits on a callback, and set aside, runs on the replacement" do
      pool = :crash_queued_callback
      start_pool(pool)

      # Returns once the worker, serving its requests while it waits on this callback,
      # has read the queued call and set it aside: two requests pending.
      set_aside = fn ->
        eventually("the queued call set aside", 10_000, fn ->
          match?(%{per_worker: [%{pending: 2}]}, SnakeBridge.stats(pool))
        end)
      end

      killer = eval_async(pool, "f()\nimport os\nos._exit(3)", %{"f" => set_aside})
      await_in_flight(pool, 1)
      queued = eval_async(pool, "6 * 7")

      assert {:error, %WorkerCrashError{status: 3}} = Task.await(killer, 30_000)
      assert Task.await(queued, 30_000) == {:ok, 42}
    end

    test "a queued call with a side effect runs exactly once" do
      start_pool(:crash_queued_once)
      {go, log} = {tmp_path("go"), tmp_path("log")}
      killer = hold(:crash_queued_once, go, "os._exit(3)")
      await_in_flight(:crash_queued_once, 1)

      append = eval_async(:crash_queued_once, append_then("'appended'"), %{"log" => log})

      await_in_flight(:crash_queued_once, 2)
      File.touch!(go)

      assert {:error, %WorkerCrashError{status: 3}} = Task.await(killer, 30_000)
      assert Task.await(append, 30_000) == {:ok, "appended"}
      assert File.read!(log) == "ran\n"
    end
  end

  test "malformed request frames are dropped or answered, and the worker goes on" do
    start_supervised!({SnakeBridge.Pool, name: :crash_malformed, size: 1})
    await_pool(:crash_malformed)
    getpid = fn -> SnakeBridge.eval("import os\nos.getpid()", %{}, pool: :crash_malformed) end
    {:ok, os_pid} = getpid.()

    {:ready, _server, %{port: port}, _incarnation, _load} =
      SnakeBridge.Pool.Table.entry(:crash_malformed, 0)

    # No header to answer: dropped (and said so on the worker's stderr, see
    # tests/python/test_requests.py).
    for frame <- [<<>>, <<1>>, <<1, 0, 200, 0::240>>],
        do: Port.command(port, Frames.frame(frame))

    assert getpid.() == {:ok, os_pid}

    # A readable header with an unknown op: answered with an error. Uncounted, as it was
    # never counted in (see Pool).
    reply_to = :erlang.alias()
    tag = :erlang.term_to_binary({:uncounted, reply_to})
    Port.command(port, Frames.frame(<<250, 0, byte_size(tag), tag::binary, 0::128, 0, 131, 106>>))
    assert_receive {^reply_to, :uncounted, _kind, payload}, 5_000

    assert %PythonError{type: "ValueError", message: "unknown op code 250"} =
             :erlang.binary_to_term(payload)

    assert getpid.() == {:ok, os_pid}
  end

  defp innocent_loop(pool, errors) do
    receive do
      :stop -> errors
    after
      0 ->
        case SnakeBridge.eval("import math\nmath.sqrt(4)", %{}, pool: pool, timeout: 30_000) do
          {:ok, 2.0} -> innocent_loop(pool, errors)
          {:error, error} -> innocent_loop(pool, [error | errors])
        end
    end
  end

  describe "restart storms" do
    @tag :tmp_dir
    test "a python that exits at start does not spin, and calls fail fast", %{tmp_dir: dir} do
      counter = Path.join(dir, "starts")
      script = script!(dir, "python", "#!/bin/sh\necho start >> #{counter}\nexit 3\n")

      start_supervised!({SnakeBridge.Pool, name: :crash_storm, size: 1, python: script})
      Process.sleep(50)

      # Calls are answered with the start failure, not held for their 30 s timeout.
      for _ <- 1..5 do
        assert {:error, %WorkerCrashError{} = error} =
                 SnakeBridge.eval("1", %{}, pool: :crash_storm, timeout: 30_000)

        assert Exception.message(error) =~ "status 3"
        Process.sleep(400)
      end

      # Backing off: the worker is marked failed and waits before its next attempt
      # (how many attempts fit in a span of time is bench material, not a test's).
      assert %{per_worker: [%{status: :failed}]} = SnakeBridge.stats(:crash_storm)

      assert {:error, %WorkerCrashError{reason: reason}} =
               SnakeBridge.eval("1", %{}, pool: :crash_storm)

      assert reason =~ "next start in"
      assert File.exists?(counter)
    end

    test "a call that kills its worker costs no back-off: the next calls wait for the replacement" do
      start_supervised!({SnakeBridge.Pool, name: :crash_quick, size: 1})
      await_pool(:crash_quick)
      {:ok, session} = SnakeBridge.open_session(pool: :crash_quick)
      crash = "import os\nos._exit(5)"

      # Each crash is a call's own failure, however soon after its worker started; the
      # call right after it, on the same session, runs on the replacement.
      for _ <- 1..4 do
        assert {:error, %WorkerCrashError{status: 5}} =
                 SnakeBridge.eval(crash, %{}, pool: :crash_quick, session: session)

        assert SnakeBridge.eval("import math\nmath.sqrt(4)", %{},
                 pool: :crash_quick,
                 session: session
               ) == {:ok, 2.0}
      end
    end

    test "a crash storm costs an innocent session no back-off errors" do
      start_supervised!({SnakeBridge.Pool, name: :crash_storm_innocent, size: 1})
      await_pool(:crash_storm_innocent)
      parent = self()

      innocent =
        spawn_link(fn ->
          errors = innocent_loop(:crash_storm_innocent, [])
          send(parent, {:innocent, errors})
        end)

      for _ <- 1..8 do
        assert {:error, %WorkerCrashError{status: 5}} =
                 SnakeBridge.eval("import os\nos._exit(5)", %{}, pool: :crash_storm_innocent)
      end

      send(innocent, :stop)
      assert_receive {:innocent, errors}, 30_000

      # At most a call queued behind a crash without asking to be told of its start
      # (see "Not guaranteed" in LIFECYCLE.md); never the back-off's "keeps crashing"
      # answer, and never a crash report as a stale result.
      assert length(errors) <= 8
      refute Enum.any?(errors, &(Exception.message(&1) =~ "keeps crashing"))
    end

    test "a worker that keeps dying while idle backs off, and calls get its crash" do
      start_supervised!({SnakeBridge.Pool, name: :crash_idle, size: 1})
      await_pool(:crash_idle)
      # Dies a moment after answering: idle, soon after its start.
      die_later = "import os, threading\nthreading.Timer(0.05, os._exit, (6,)).start()\n1"

      error =
        eventually("a back-off", 20_000, fn ->
          case SnakeBridge.eval(die_later, %{}, pool: :crash_idle) do
            {:error, %WorkerCrashError{reason: "it keeps crashing" <> _} = error} -> error
            _ -> nil
          end
        end)

      assert error.status == 6
      assert %{per_worker: [%{status: :failed}]} = SnakeBridge.stats(:crash_idle)

      # After the back-off, it is up again.
      eventually("the worker's return", 20_000, fn ->
        SnakeBridge.eval("1", %{}, pool: :crash_idle) == {:ok, 1}
      end)
    end
  end
end
