defmodule SnakeBridge.PoolTest do
  # Pools of real Python workers: size, environment, affinity, balancing, queueing and
  # start-up. Each test starts its own pools, so what it counts is its own.
  use ExUnit.Case, async: true

  import SnakeBridge.Test.Lifecycle

  alias SnakeBridge.{OverloadError, Ref, RefError}

  @getpid "import os\nos.getpid()"

  defp start_pool(name, opts) do
    start_supervised!({SnakeBridge.Pool, [name: name] ++ opts}, id: name)
    await_pool(name)
  end

  # A process whose own session is on the worker with OS pid `os_pid` (fresh processes
  # are tried until one is bound there); it runs what run_in/2 sends it until the test
  # ends, so the refs it creates live that long.
  defp process_bound_to(pool, os_pid) do
    Enum.find_value(1..50, fn _ ->
      parent = self()

      pid =
        spawn(fn ->
          send(parent, {:bound, self(), SnakeBridge.eval!(@getpid, %{}, pool: pool)})
          serve(parent)
        end)

      on_exit(fn -> Process.exit(pid, :kill) end)
      assert_receive {:bound, ^pid, bound}, 5_000
      if bound == os_pid, do: pid, else: Process.exit(pid, :kill) && nil
    end)
  end

  defp serve(parent) do
    receive do
      {:run, fun} -> send(parent, {:ran, fun.()})
    end

    serve(parent)
  end

  defp run_in(pid, fun) do
    send(pid, {:run, fun})
    assert_receive {:ran, result}, 10_000
    result
  end

  test "a pool has N workers, each its own OS process" do
    stats = start_pool(:pool_size3, size: 3)
    assert stats.workers == 3
    pids = Enum.map(stats.per_worker, & &1.os_pid)
    assert length(Enum.uniq(pids)) == 3
    assert Enum.all?(pids, &os_alive?/1)
  end

  test "named pools each see their own environment variables" do
    start_pool(:pool_env_a, size: 1, env: [{"SNAKEBRIDGE_TEST_FOO", "1"}])
    start_pool(:pool_env_b, size: 1, env: [{"SNAKEBRIDGE_TEST_FOO", "2"}])
    code = "import os\nos.environ.get('SNAKEBRIDGE_TEST_FOO')"
    assert SnakeBridge.eval(code, %{}, pool: :pool_env_a) == {:ok, "1"}
    assert SnakeBridge.eval(code, %{}, pool: :pool_env_b) == {:ok, "2"}
    assert SnakeBridge.eval(code, %{}) == {:ok, nil}
  end

  describe "affinity" do
    setup do
      start_pool(:pool_affinity, size: 2)
      :ok
    end

    test "every call that carries a ref goes to the worker holding it" do
      [x, y] = Enum.map(SnakeBridge.stats(:pool_affinity).per_worker, & &1.os_pid)
      creator = process_bound_to(:pool_affinity, x)

      list =
        run_in(creator, fn -> SnakeBridge.eval!("[]", %{}, pool: :pool_affinity, return: :ref) end)

      assert os_pid(list) == x

      # A process whose own session is on the other worker uses the ref many times,
      # in every way a ref can travel: target, argument, nested in a binding.
      user = process_bound_to(:pool_affinity, y)

      pids =
        run_in(user, fn ->
          for i <- 1..200 do
            case rem(i, 3) do
              0 ->
                SnakeBridge.method!(list, "append", [i])
                SnakeBridge.eval!(@getpid, %{"l" => list})

              1 ->
                SnakeBridge.call!("operator", "add", [list, [i]], [], return: :ref) |> os_pid()

              2 ->
                SnakeBridge.eval!(@getpid, %{"nested" => %{"in" => [{list}]}})
            end
          end
        end)

      assert Enum.uniq(pids) == [x]
      # The user's own session is still on its own worker.
      assert run_in(user, fn -> SnakeBridge.eval!(@getpid, %{}, pool: :pool_affinity) end) == y
      assert length(SnakeBridge.to_elixir!(list)) == div(200, 3)
    end

    test "a call mixing refs from two workers is refused with RefError :cross_worker" do
      [x, y] = Enum.map(SnakeBridge.stats(:pool_affinity).per_worker, & &1.os_pid)

      make = fn os_pid ->
        pid = process_bound_to(:pool_affinity, os_pid)
        run_in(pid, fn -> SnakeBridge.eval!("[1]", %{}, pool: :pool_affinity, return: :ref) end)
      end

      {a, b} = {make.(x), make.(y)}

      assert {:error, %RefError{reason: :cross_worker} = error} =
               SnakeBridge.call("operator", "add", [a, b])

      assert Exception.message(error) =~ "two workers"
      assert {:error, %RefError{reason: :cross_worker}} = SnakeBridge.method(a, "extend", [b])

      assert {:error, %RefError{reason: :cross_worker}} =
               SnakeBridge.eval("0", %{"a" => a, "b" => b})

      assert SnakeBridge.to_elixir!(a) == [1]
    end
  end

  describe "balancing" do
    test "ref-less calls from fresh processes go to the least busy worker" do
      %{per_worker: [%{os_pid: x}, %{os_pid: y}]} = start_pool(:pool_balance, size: 2)
      sleeper = "import os, time\ntime.sleep(s)\nos.getpid()"

      # Two concurrent long calls from two fresh processes land on different workers.
      pids =
        for _ <- 1..2 do
          Task.async(fn -> SnakeBridge.eval!(sleeper, %{"s" => 0.5}, pool: :pool_balance) end)
        end
        |> Task.await_many()

      assert Enum.sort(pids) == Enum.sort([x, y])

      # While one worker is busy, every new process is sent to the other one.
      busy = Task.async(fn -> SnakeBridge.eval!(sleeper, %{"s" => 1.5}, pool: :pool_balance) end)

      eventually("a busy worker", 1_000, fn ->
        Enum.any?(SnakeBridge.stats(:pool_balance).per_worker, &(&1.pending == 1))
      end)

      fresh =
        for _ <- 1..6 do
          Task.async(fn -> SnakeBridge.eval!(@getpid, %{}, pool: :pool_balance) end)
          |> Task.await()
        end

      busy_pid = Task.await(busy)
      assert length(Enum.uniq(fresh)) == 1
      refute hd(fresh) == busy_pid
    end
  end

  describe "queueing" do
    test "is bounded: a full queue gives OverloadError and no call hangs" do
      start_pool(:pool_queue, size: 1, max_queue: 1)

      results =
        for _ <- 1..12 do
          Task.async(fn ->
            SnakeBridge.eval("import time\ntime.sleep(0.2)\n'done'", %{}, pool: :pool_queue)
          end)
        end
        |> Task.await_many(5_000)

      done = Enum.count(results, &(&1 == {:ok, "done"}))
      refused = Enum.filter(results, &match?({:error, %OverloadError{}}, &1))
      assert done >= 2
      assert done + length(refused) == 12
      assert length(refused) >= 1

      assert %OverloadError{pool: :pool_queue, worker: 0} = error = elem(hd(refused), 1)
      assert Exception.message(error) =~ "max_queue"

      # Nothing is left counted once the flood is over.
      eventually("an empty queue", 1_000, fn -> SnakeBridge.stats(:pool_queue).queued == 0 end)
      assert SnakeBridge.eval("1", %{}, pool: :pool_queue) == {:ok, 1}
    end
  end

  describe "in-flight accounting" do
    test "a caller killed mid-call leaves nothing counted against the worker" do
      start_pool(:pool_killed, size: 1, max_queue: 0)
      sleep = "import time\ntime.sleep(10)"

      caller =
        spawn(fn -> SnakeBridge.eval(sleep, %{}, pool: :pool_killed, timeout: :infinity) end)

      eventually("the call running", 1_000, fn ->
        hd(SnakeBridge.stats(:pool_killed).per_worker).pending == 1
      end)

      # Full: max_queue 0 allows one request in flight, and stats still answer.
      assert {:error, %OverloadError{}} = SnakeBridge.eval("1", %{}, pool: :pool_killed)
      Process.exit(caller, :kill)

      eventually("the worker taking calls again", 2_000, fn ->
        SnakeBridge.eval("1", %{}, pool: :pool_killed) == {:ok, 1}
      end)

      assert SnakeBridge.stats(:pool_killed).queued == 0
    end

    test "an abandoned call counts until Python is done with it" do
      start_pool(:pool_abandon, size: 1, max_queue: 0)

      # Busy for a second whatever happens: the cancellation that inspect/1 sends when it
      # gives up is ignored, so the call is still in Python when the next one comes.
      slow =
        SnakeBridge.eval!(
          """
          import time
          class Slow:
              def __repr__(self):
                  end = time.monotonic() + 1
                  while time.monotonic() < end:
                      try:
                          time.sleep(end - time.monotonic())
                      except KeyboardInterrupt:
                          pass
                  return "s"
          Slow()
          """,
          %{},
          pool: :pool_abandon
        )

      # inspect/1 gives up on a slow __repr__ after a moment, without waiting for it.
      assert inspect(slow) =~ "repr timed out"
      assert {:error, %OverloadError{}} = SnakeBridge.eval("1", %{}, pool: :pool_abandon)

      eventually("the abandoned call ending", 3_000, fn ->
        SnakeBridge.eval("1", %{}, pool: :pool_abandon) == {:ok, 1}
      end)
    end
  end

  describe "start-up" do
    @tag :tmp_dir
    test "workers start concurrently", %{tmp_dir: dir} do
      log = Path.join(dir, "starts.log")
      {:ok, python} = SnakeBridge.Interpreter.python(%{})

      wrapper =
        script!(dir, "python", """
        #!/bin/sh
        echo start >> #{log}
        sleep 0.5
        echo end >> #{log}
        exec #{python} "$@"
        """)

      start_supervised!({SnakeBridge.Pool, name: :pool_startup, size: 2, python: wrapper})
      assert %{workers: 2} = await_pool(:pool_startup, 5_000)
      # Both had started before either finished its 0.5 s wait: concurrently.
      # (How long a pool takes to start is measured by bench/startup.exs.)
      assert File.read!(log) == "start\nstart\nend\nend\n"
      assert SnakeBridge.eval("1 + 1", %{}, pool: :pool_startup) == {:ok, 2}
    end

    test "calls made while workers start wait for them" do
      start_supervised!({SnakeBridge.Pool, name: :pool_startup_call, size: 2})
      assert SnakeBridge.eval("2 * 21", %{}, pool: :pool_startup_call) == {:ok, 42}
    end
  end

  test "a stopped pool's calls and refs get a clear error" do
    {:ok, sup} = SnakeBridge.Pool.start_link(name: :pool_stopped, size: 1)
    await_pool(:pool_stopped)
    ref = SnakeBridge.eval!("[1]", %{}, pool: :pool_stopped, return: :ref)
    Process.unlink(sup)
    Supervisor.stop(sup)
    message = "no SnakeBridge pool named :pool_stopped is running"
    assert_raise ArgumentError, message, fn -> SnakeBridge.eval("1", %{}, pool: :pool_stopped) end
    # A ref is not a wrong argument: its worker is gone with its pool.
    assert {:error, %SnakeBridge.RefError{reason: :worker_lost}} = SnakeBridge.to_elixir(ref)
    assert SnakeBridge.release(ref) == :ok
  end

  test "refs carry their pool, and calls on them need no :pool option" do
    start_pool(:pool_refs, size: 1)
    ref = SnakeBridge.eval!("[7]", %{}, pool: :pool_refs, return: :ref)
    assert %Ref{worker: {:pool_refs, 0, _}} = ref
    assert SnakeBridge.get_item!(ref, 0) == 7
  end
end
