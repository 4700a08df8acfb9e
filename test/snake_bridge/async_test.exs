defmodule SnakeBridge.AsyncTest do
  use ExUnit.Case, async: true

  alias SnakeBridge.PythonError

  describe "coroutine results" do
    test "a coroutine returned by eval is awaited" do
      code = "import asyncio\nasync def f():\n    await asyncio.sleep(0.01)\n    return 5\nf()"
      assert SnakeBridge.eval(code) == {:ok, 5}
    end

    test "a coroutine returned by call is awaited" do
      assert SnakeBridge.call("asyncio", "sleep", [0.01, "x"]) == {:ok, "x"}
    end

    test "any awaitable (an object with __await__) is awaited" do
      code = """
      import asyncio
      class Later:
          def __await__(self):
              yield from asyncio.sleep(0.01).__await__()
              return "done"
      Later()
      """

      assert SnakeBridge.eval(code) == {:ok, "done"}
    end

    test "only the result is awaited, as in Python: a coroutine's own result is not" do
      code = """
      import asyncio
      async def inner():
          return 1
      async def outer():
          return inner()
      outer()
      """

      assert {:ok, %SnakeBridge.Ref{type: "coroutine"} = coroutine} = SnakeBridge.eval(code)
      SnakeBridge.method!(coroutine, "close")
    end

    test "a coroutine that raises gives PythonError" do
      code = "async def f():\n    raise KeyError('missing')\nf()"
      assert {:error, %PythonError{} = error} = SnakeBridge.eval(code)
      assert error.type == "KeyError"
      assert error.traceback =~ "in f"
    end

    test "the worker's event loop persists between calls" do
      code = "import asyncio\nasync def f():\n    return id(asyncio.get_running_loop())\nf()"
      assert {:ok, loop} = SnakeBridge.eval(code)
      assert SnakeBridge.eval(code) == {:ok, loop}
    end

    test "a coroutine can call an Elixir function" do
      code = "import asyncio\nasync def f(g):\n    await asyncio.sleep(0)\n    return g(20)\nf(g)"
      assert SnakeBridge.eval(code, %{g: &(&1 + 1)}) == {:ok, 21}
    end
  end

  describe "async generators" do
    @agen """
    import asyncio
    async def agen(log, n):
        try:
            for i in range(n):
                await asyncio.sleep(0)
                yield i
        finally:
            log.append("closed")
    agen(log, n)
    """

    test "are Enumerable" do
      log = SnakeBridge.eval!("[]", %{}, return: :ref)
      agen = SnakeBridge.eval!(@agen, %{log: log, n: 5})
      assert Enum.to_list(agen) == [0, 1, 2, 3, 4]
      assert agen |> Enum.to_list() == []
    end

    test "halting early closes them (aclose), so their finally block runs" do
      log = SnakeBridge.eval!("[]", %{}, return: :ref)
      agen = SnakeBridge.eval!(@agen, %{log: log, n: 1_000})
      assert agen |> Stream.map(&(&1 * 2)) |> Enum.take(3) == [0, 2, 4]
      assert SnakeBridge.to_elixir!(log) == ["closed"]
    end

    test "an error inside an async generator arrives after the items before it" do
      code = """
      async def failing():
          yield 1
          raise ValueError("async boom")
      failing()
      """

      parent = self()

      assert_raise PythonError, "ValueError: async boom", fn ->
        SnakeBridge.eval!(code) |> Enum.each(&send(parent, {:item, &1}))
      end

      assert_received {:item, 1}
    end
  end

  describe "async context managers" do
    test "work with with_python: __aenter__ and __aexit__ are awaited" do
      manager = """
      import asyncio, contextlib
      @contextlib.asynccontextmanager
      async def managed(log):
          await asyncio.sleep(0)
          log.append("enter")
          try:
              yield 42
          finally:
              await asyncio.sleep(0)
              log.append("exit")
      managed(log)
      """

      log = SnakeBridge.eval!("[]", %{}, return: :ref)
      ref = SnakeBridge.eval!(manager, %{log: log})

      assert SnakeBridge.with_python(ref, fn value ->
               assert SnakeBridge.to_elixir!(log) == ["enter"]
               value + 1
             end) == 43

      assert SnakeBridge.to_elixir!(log) == ["enter", "exit"]
    end

    test "__aexit__ receives the Elixir error and the raise continues" do
      manager = """
      class Managed:
          def __init__(self):
              self.seen = None
          async def __aenter__(self):
              return self
          async def __aexit__(self, kind, value, tb):
              self.seen = (type(value).__name__, str(value).splitlines()[0])
              return False
      Managed()
      """

      ref = SnakeBridge.eval!(manager)

      assert_raise ArgumentError, "bad", fn ->
        SnakeBridge.with_python(ref, fn _ -> raise ArgumentError, "bad" end)
      end

      assert SnakeBridge.attr!(ref, "seen") == {"ElixirError", "** (ArgumentError) bad"}
    end
  end

  describe "concurrency" do
    @timed """
    import asyncio, time
    async def timed(seconds):
        start = time.monotonic()
        await asyncio.sleep(seconds)
        return (start, time.monotonic())
    timed
    """

    test "awaits from different Elixir processes on one worker overlap" do
      # One shared session, so that both calls go to the same worker.
      {:ok, session} = SnakeBridge.open_session()
      timed = SnakeBridge.use_session(session, fn -> SnakeBridge.eval!(@timed) end)

      tasks =
        for _ <- 1..2 do
          Task.async(fn ->
            SnakeBridge.use_session(session, fn -> SnakeBridge.call!(timed, "__call__", [0.5]) end)
          end)
        end

      [{start_a, end_a}, {start_b, end_b}] = Task.await_many(tasks, 10_000)
      # Each await began before the other one ended: they ran at the same time.
      assert start_a < end_b and start_b < end_a
      SnakeBridge.release_session(session)
    end

    test "a plain call is answered while a coroutine is still awaiting" do
      {:ok, session} = SnakeBridge.open_session()

      {gate, timed} =
        SnakeBridge.use_session(session, fn ->
          gate = SnakeBridge.eval!("import threading\nthreading.Event()")

          code = """
          import asyncio
          async def waiting(gate):
              while not gate.is_set():
                  await asyncio.sleep(0.005)
              return "released"
          waiting
          """

          {gate, SnakeBridge.eval!(code)}
        end)

      task =
        Task.async(fn ->
          SnakeBridge.use_session(session, fn ->
            SnakeBridge.call!(timed, "__call__", [gate], [], timeout: 10_000)
          end)
        end)

      # The coroutine waits for the gate; only a call served meanwhile can open it.
      SnakeBridge.use_session(session, fn ->
        assert SnakeBridge.call!("math", "sqrt", [16]) == 4.0
        SnakeBridge.method!(gate, "set")
      end)

      assert Task.await(task, 10_000) == "released"
      SnakeBridge.release_session(session)
    end
  end
end

defmodule SnakeBridge.AsyncTest.NeverAwaits do
  # A coroutine that never awaits holds the worker's event loop: it cannot be
  # cancelled, so it costs the worker, like a C call holding the GIL.
  use ExUnit.Case, async: true
  @moduletag :capture_log

  import SnakeBridge.Test.Lifecycle

  alias SnakeBridge.TimeoutError

  test "a coroutine that never awaits: its worker is replaced after the grace period" do
    start_supervised!({SnakeBridge.Pool, name: :async_never_awaits, size: 1, kill_grace: 300})
    await_pool(:async_never_awaits)
    opts = [pool: :async_never_awaits]
    {:ok, old_pid} = SnakeBridge.eval("import os\nos.getpid()", %{}, opts)

    spin = "import time\nasync def spin():\n    while True:\n        time.sleep(0.01)\nspin()"

    assert {:error, %TimeoutError{worker_restarted: true}} =
             SnakeBridge.eval(spin, %{}, Keyword.put(opts, :timeout, 200))

    # The replacement's event loop is free: coroutines run again.
    awaited = "import asyncio\nasync def f():\n    await asyncio.sleep(0.01)\n    return 5\nf()"
    assert SnakeBridge.eval(awaited, %{}, opts) == {:ok, 5}
    refute SnakeBridge.eval("import os\nos.getpid()", %{}, opts) == {:ok, old_pid}
  end

  test "a coroutine that awaits is cancelled, and its worker kept" do
    start_supervised!({SnakeBridge.Pool, name: :async_awaits, size: 1, kill_grace: 300})
    await_pool(:async_awaits)
    opts = [pool: :async_awaits]
    {:ok, old_pid} = SnakeBridge.eval("import os\nos.getpid()", %{}, opts)
    sleeper = "import asyncio\nasync def f():\n    await asyncio.sleep(10)\nf()"

    assert {:error, %TimeoutError{worker_restarted: false}} =
             SnakeBridge.eval(sleeper, %{}, Keyword.put(opts, :timeout, 200))

    assert SnakeBridge.eval("import os\nos.getpid()", %{}, opts) == {:ok, old_pid}
  end
end
