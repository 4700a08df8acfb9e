defmodule SnakeBridge.FaultsTest do
  # Faults the pool must survive without a stuck caller or a wrong answer: a worker
  # whose descriptors outlive it, frames with lying headers, callers killed mid-send.
  use ExUnit.Case, async: true
  @moduletag :capture_log

  import SnakeBridge.Test.Lifecycle

  alias SnakeBridge.{OverloadError, TimeoutError, WorkerCrashError}

  setup do
    pool = :"faults_test_#{System.unique_integer([:positive])}"
    %{pool: pool}
  end

  defp start_pool(pool, opts \\ []) do
    start_supervised!({SnakeBridge.Pool, [name: pool, size: 1] ++ opts})
    await_pool(pool)
  end

  describe "a worker's death" do
    @tag :tmp_dir
    test "is reported at once even when a daemonized grandchild holds fds 3 and 4",
         %{pool: pool, tmp_dir: dir} do
      start_pool(pool)
      pid_file = Path.join(dir, "grandchild")

      code = """
      import os, subprocess
      child = subprocess.Popen(["sleep", "600"], pass_fds=(3, 4), start_new_session=True)
      with open(#{inspect(pid_file)}, "w") as f:
          f.write(str(child.pid))
      os._exit(3)
      """

      on_exit(fn ->
        with {:ok, pid} <- File.read(pid_file), do: System.cmd("kill", ["-9", pid])
      end)

      # With :infinity, a lost report would hang this call forever.
      task = Task.async(fn -> SnakeBridge.eval(code, %{}, pool: pool, timeout: :infinity) end)

      assert {:error, %WorkerCrashError{status: 3}} = Task.await(task, 20_000)
      grandchild = pid_file |> File.read!() |> String.to_integer()
      assert os_alive?(grandchild), "the grandchild should still hold the descriptors"
      assert SnakeBridge.eval("1 + 1", %{}, pool: pool) == {:ok, 2}
    end

    test "mid-frame reports the worker's real status", %{pool: pool} do
      start_pool(pool)
      # Half a frame on fd 4: the nanny's report is swallowed by it.
      code = "import os\nos.write(4, (4096).to_bytes(4, 'big') + b'x' * 100)\nos._exit(3)"

      assert {:error, %WorkerCrashError{status: 3, signal: nil}} =
               SnakeBridge.eval(code, %{}, pool: pool, timeout: 30_000)
    end

    test "racing callers' writes is reported with the worker's status", %{pool: pool} do
      start_pool(pool)
      # Frames far bigger than the pipe: when the worker dies, callers' bytes are still
      # waiting to be written, and a write that meets a closed pipe would close the
      # port before the worker's report was read (the report must win every time).
      big = SnakeBridge.bytes(:binary.copy("w", 1_000_000))

      for _round <- 1..10 do
        stop = :atomics.new(1, [])
        writers = for _ <- 1..4, do: Task.async(fn -> write_until(stop, pool, big, []) end)

        crash = SnakeBridge.eval("import os\nos._exit(3)", %{}, pool: pool, timeout: :infinity)

        :atomics.put(stop, 1, 1)
        assert {:error, %WorkerCrashError{status: 3}} = crash

        for {:error, error} <- List.flatten(Task.await_many(writers, 60_000)) do
          assert %WorkerCrashError{status: 3} = error
        end

        await_pool(pool, 20_000)
      end
    end
  end

  defp write_until(stop, pool, big, results) do
    if :atomics.get(stop, 1) == 1 do
      results
    else
      result = SnakeBridge.call("builtins", "len", [big], [], pool: pool, timeout: :infinity)
      write_until(stop, pool, big, [result | results])
    end
  end

  describe "a big request queued behind a long call" do
    # The port's queue holds the big request until the worker reads it: the port is busy.
    defp busy_pool(pool) do
      start_pool(pool, max_queue: 2)

      long =
        Task.async(fn ->
          SnakeBridge.eval("import time\ntime.sleep(4)\n'done'", %{},
            pool: pool,
            timeout: :infinity
          )
        end)

      eventually("the long call running", 5_000, fn ->
        SnakeBridge.stats(pool).queued == 0 and in_flight(pool) == 1
      end)

      big = SnakeBridge.bytes(:binary.copy("b", 64_000_000))

      queued =
        Task.async(fn ->
          SnakeBridge.call("builtins", "len", [big], [], pool: pool, timeout: :infinity)
        end)

      eventually("the big request queued", 5_000, fn -> in_flight(pool) == 2 end)
      {long, queued}
    end

    defp in_flight(pool),
      do: SnakeBridge.Pool.Table.in_flight(SnakeBridge.Pool.Table.meta(pool), 0)

    test "holds no other caller past its own timeout, nor the shared Sessions server", %{
      pool: pool
    } do
      {long, queued} = busy_pool(pool)

      # If this caller were suspended on the port, it would wait for the long call.
      small = Task.async(fn -> SnakeBridge.eval("1", %{}, pool: pool, timeout: 300) end)
      assert {:ok, {:error, %TimeoutError{}}} = Task.yield(small, 3_000)
      assert Task.yield(long, 0) == nil, "the long call was to be still running"

      # A caller of the busy pool exits: its clean-up frames must not suspend the
      # Sessions server, which every pool shares.
      {pid, monitor} =
        spawn_monitor(fn -> SnakeBridge.eval("2", %{}, pool: pool, timeout: 100) end)

      assert_receive {:DOWN, ^monitor, :process, ^pid, _}, 3_000
      assert %{processes: _} = SnakeBridge.Pool.Sessions.count()
      assert {:ok, ref} = SnakeBridge.eval("object()", %{}, return: :ref)
      assert SnakeBridge.release(ref) == :ok
      assert Task.yield(long, 0) == nil, "the long call was to be still running"

      assert Task.await(long, 20_000) == {:ok, "done"}
      assert Task.await(queued, 20_000) == {:ok, 64_000_000}
    end

    test "callers killed while sending leave no in-flight count behind", %{pool: pool} do
      {long, queued} = busy_pool(pool)
      arg = SnakeBridge.bytes(:binary.copy("k", 8_000_000))

      for _ <- 1..3 do
        {pid, monitor} =
          spawn_monitor(fn ->
            SnakeBridge.call("builtins", "len", [arg], [], pool: pool, timeout: :infinity)
          end)

        Process.sleep(100)
        Process.exit(pid, :kill)
        assert_receive {:DOWN, ^monitor, :process, ^pid, :killed}, 5_000
      end

      assert Task.await(long, 20_000) == {:ok, "done"}
      assert Task.await(queued, 20_000) == {:ok, 64_000_000}
      eventually("an idle worker", 10_000, fn -> in_flight(pool) == 0 end)

      # max_queue: 2 would refuse these if counts had leaked.
      for n <- 1..3 do
        refute match?({:error, %OverloadError{}}, SnakeBridge.eval("#{n}", %{}, pool: pool))
      end
    end
  end
end

defmodule SnakeBridge.FaultsTest.WithPython do
  use ExUnit.Case, async: true
  @moduletag :capture_log

  import SnakeBridge.Test.Lifecycle

  alias SnakeBridge.WorkerCrashError

  setup do
    pool = :"faults_with_python_#{System.unique_integer([:positive])}"
    start_supervised!({SnakeBridge.Pool, name: pool, size: 1})
    await_pool(pool)

    {:ok, cm} =
      SnakeBridge.eval("import contextlib\ncontextlib.nullcontext(1)", %{},
        pool: pool,
        return: :ref
      )

    %{pool: pool, cm: cm}
  end

  @crash "import os\nos._exit(3)"

  test "with_python reports the crash that ended its block (raised in it)", %{cm: cm} do
    assert_raise WorkerCrashError, ~r/status 3/, fn ->
      SnakeBridge.with_python(cm, fn _ -> SnakeBridge.eval!(@crash, %{"cm" => cm}) end)
    end
  end

  test "with_python reports the crash that ended its block (returned by it)", %{cm: cm} do
    assert_raise WorkerCrashError, ~r/status 3/, fn ->
      SnakeBridge.with_python(cm, fn _ -> SnakeBridge.eval(@crash, %{"cm" => cm}) end)
    end
  end
end

defmodule SnakeBridge.FaultsTest.Memory do
  # Async: false, as it reads the VM's binary memory, which other tests move.
  use ExUnit.Case, async: false

  import SnakeBridge.Test.Lifecycle

  @size 100_000_000

  test "a big result's memory comes back once its caller drops it" do
    start_supervised!({SnakeBridge.Pool, name: :faults_memory, size: 1})
    await_pool(:faults_memory)
    :erlang.garbage_collect()
    before = :erlang.memory(:binary)

    task =
      Task.async(fn ->
        {:ok, %SnakeBridge.Bytes{data: data}} =
          SnakeBridge.eval("b'x' * #{@size}", %{}, pool: :faults_memory)

        byte_size(data)
      end)

    assert Task.await(task, 30_000) == @size

    eventually("the result's memory freed", 10_000, fn ->
      :erlang.garbage_collect()
      :erlang.memory(:binary) < before + div(@size, 2)
    end)
  end
end

defmodule SnakeBridge.FaultsTest.UndeliveredReplies do
  # A reply that is not delivered leaves no ref behind in its session.
  use ExUnit.Case, async: true

  import SnakeBridge.Test.Lifecycle

  alias SnakeBridge.{EncodeError, RefError}

  test "refs made for a reply over :max_frame are dropped" do
    start_supervised!({SnakeBridge.Pool, name: :undelivered_frame, size: 1, max_frame: 10_000})
    await_pool(:undelivered_frame)
    before = live_refs(:undelivered_frame)
    code = "[object() for _ in range(10)] + ['x' * 20_000]"

    assert {:error, error} = SnakeBridge.eval(code, %{}, pool: :undelivered_frame)
    assert Exception.message(error) =~ "over the limit"
    # Only the error's own exception stays (PythonError.ref, the session's last error).
    assert %SnakeBridge.PythonError{ref: %SnakeBridge.Ref{}} = error
    assert live_refs(:undelivered_frame) == before + 1
  end

  test "refs made before :max_refs was reached partway are dropped" do
    start_supervised!({SnakeBridge.Pool, name: :undelivered_refs, size: 1, max_refs: 5})
    await_pool(:undelivered_refs)
    {:ok, session} = SnakeBridge.open_session(pool: :undelivered_refs)
    opts = [pool: :undelivered_refs, session: session]

    assert {:error, %RefError{reason: :limit}} =
             SnakeBridge.eval("[object() for _ in range(10)]", %{}, opts)

    # The session's whole allowance is still there.
    assert {:ok, refs} = SnakeBridge.eval("[object() for _ in range(5)]", %{}, opts)
    assert length(refs) == 5
  end

  describe "refs in a reply the VM cannot decode are released" do
    setup do
      pool = :"undelivered_undecodable_#{System.unique_integer([:positive])}"
      start_supervised!({SnakeBridge.Pool, name: pool, size: 1})
      await_pool(pool)
      %{pool: pool, before: live_refs(pool)}
    end

    test "a dict with two NaN keys", ctx do
      code = "{float('nan'): object(), float('nan'): [object(), object()]}"
      refused_without_leak(ctx, code, "NaN keys")
    end

    test "an atom this VM does not have", ctx do
      # The name is only ever a string on this side: no code here creates the atom.
      code = """
      from snakebridge._etf import Atom
      [object(), Atom("snakebridge_no_such_atom_xyz123"), object()]
      """

      refused_without_leak(ctx, code, "the atom snakebridge_no_such_atom_xyz123, which does not")
    end

    test "arguments of a callback", ctx do
      %{pool: pool, before: before} = ctx
      parent = self()
      f = fn _ -> send(parent, :callback_ran) end
      code = "f({float('nan'): object(), float('nan'): object()})"

      # Each call's cancel races the next call's frame into the worker, which waits on
      # the callback: that frame must be neither run early nor lost.
      for _ <- 1..20 do
        # Without an answer the Python call would wait on the callback until the timeout.
        assert {:error, %EncodeError{} = error} =
                 SnakeBridge.eval(code, %{f: f}, pool: pool, timeout: :infinity)

        assert error.reason =~ "NaN keys"
      end

      refute_received :callback_ran
      assert SnakeBridge.call("math", "sqrt", [16], [], pool: pool) == {:ok, 4.0}
      eventually("the callbacks' refs released", 5_000, fn -> live_refs(pool) == before end)
    end

    test "but not a ref the caller already held", %{pool: pool} do
      held = SnakeBridge.eval!("object()", %{}, pool: pool)
      before = live_refs(pool)
      code = "{float('nan'): held, float('nan'): [object(), held, object()]}"

      assert {:error, %EncodeError{}} = SnakeBridge.eval(code, %{"held" => held}, pool: pool)

      eventually("the new refs released", 5_000, fn -> live_refs(pool) == before end)
      assert SnakeBridge.eval("type(held).__name__", %{"held" => held}) == {:ok, "object"}
    end

    defp refused_without_leak(%{pool: pool, before: before}, code, reason) do
      for _ <- 1..10 do
        assert {:error, %EncodeError{} = error} = SnakeBridge.eval(code, %{}, pool: pool)
        assert error.reason =~ reason
      end

      eventually("the replies' refs released", 5_000, fn -> live_refs(pool) == before end)
    end
  end
end

defmodule SnakeBridge.FaultsTest.LyingHeader do
  # A frame header on fd 4 that declares more than :max_frame. Async: false, as it
  # reads the VM's memory, which other tests move.
  use ExUnit.Case, async: false
  @moduletag :capture_log

  import SnakeBridge.Test.Lifecycle

  alias SnakeBridge.WorkerCrashError

  @max_frame 64_000_000
  @lie "import os\nos.write(4, b'\\xff\\xff\\xff\\xf0')\n"

  setup do
    start_supervised!({SnakeBridge.Pool, name: :lying, size: 1, max_frame: @max_frame},
      id: :lying
    )

    start_supervised!({SnakeBridge.Pool, name: :bystander, size: 1}, id: :bystander)
    await_pool(:lying)
    await_pool(:bystander)
    :ok
  end

  defp worker_pid(pool), do: SnakeBridge.eval!("import os\nos.getpid()", %{}, pool: pool)

  defp memory do
    for pid <- Process.list(), do: :erlang.garbage_collect(pid)
    :erlang.memory(:total)
  end

  for {name, rest} <- [{"returns", "'done'"}, {"keeps running", "import time\ntime.sleep(600)"}] do
    test "ends that worker only, costing no memory, when the code then #{name}" do
      {:ok, bystander_ref} = SnakeBridge.eval("object()", %{}, pool: :bystander, return: :ref)
      bystander = os_pid(bystander_ref)
      liar = worker_pid(:lying)
      before = memory()

      # With :infinity, a reply swallowed by the lying frame would hang this call.
      task =
        Task.async(fn ->
          SnakeBridge.eval(@lie <> unquote(rest), %{}, pool: :lying, timeout: :infinity)
        end)

      assert {:ok, {:error, %WorkerCrashError{reason: reason}}} = Task.yield(task, 20_000)
      assert reason =~ "declaring 4294967280 bytes, above :max_frame (64000000 bytes)"
      assert memory() - before < 100_000_000

      eventually("the lying worker gone", 10_000, fn -> not os_alive?(liar) end)
      assert SnakeBridge.eval("1 + 1", %{}, pool: :lying) == {:ok, 2}
      assert worker_pid(:lying) != liar
      assert os_pid(bystander_ref) == bystander
    end
  end

  test "a lying header within :max_frame (the default) ends its worker once the frame stalls" do
    start_supervised!({SnakeBridge.Pool, name: :lying_within, size: 1}, id: :lying_within)
    await_pool(:lying_within)
    liar = worker_pid(:lying_within)
    before = memory()

    task =
      Task.async(fn ->
        SnakeBridge.eval(@lie <> "'done'", %{}, pool: :lying_within, timeout: :infinity)
      end)

    # A guard against a hang, not a timing check: the bound is 10 s of silence.
    assert {:ok, {:error, %WorkerCrashError{reason: reason}}} = Task.yield(task, 60_000)
    assert reason =~ ~r/stopped sending a frame with \d+ bytes of it still to come/
    assert memory() - before < 100_000_000
    eventually("the lying worker gone", 10_000, fn -> not os_alive?(liar) end)
    assert SnakeBridge.eval("1 + 1", %{}, pool: :lying_within) == {:ok, 2}
  end

  test "frames up to :max_frame still cross the pipe, big ones and many small ones at once" do
    # Under the shared-memory threshold: through the port, in 64 KiB chunks.
    assert SnakeBridge.Shm.threshold() > 10_000_000
    payload = :crypto.strong_rand_bytes(10_000_000)

    assert {:ok, %SnakeBridge.Bytes{data: ^payload}} =
             SnakeBridge.call("builtins", "bytes", [SnakeBridge.bytes(payload)], [], pool: :lying)

    # Replies written while the router is busy come several to a chunk.
    results =
      1..200
      |> Enum.map(fn n ->
        Task.async(fn -> SnakeBridge.eval("#{n} * 2", %{}, pool: :lying) end)
      end)
      |> Task.await_many(20_000)

    assert results == for(n <- 1..200, do: {:ok, n * 2})
  end
end
