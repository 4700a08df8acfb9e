defmodule SnakeBridge.CallbackTest do
  use ExUnit.Case, async: true

  alias SnakeBridge.{PythonError, Ref}

  defp pid_text, do: self() |> :erlang.pid_to_list() |> to_string()

  describe "Elixir functions as arguments" do
    test "a keyword argument: sorted(key=...)" do
      assert SnakeBridge.call("builtins", "sorted", [["bb", "a", "ccc"]], key: &String.length/1) ==
               {:ok, ["a", "bb", "ccc"]}
    end

    test "a positional argument: functools.reduce" do
      assert SnakeBridge.call("functools", "reduce", [fn a, b -> a + b end, [1, 2, 3, 4]]) ==
               {:ok, 10}
    end

    test "an objective for scipy.optimize.minimize_scalar" do
      result =
        SnakeBridge.call!("scipy.optimize", "minimize_scalar", [fn x -> (x - 2) * (x - 2) end])

      assert SnakeBridge.attr!(result, "success") == true
      assert_in_delta SnakeBridge.attr!(result, "x"), 2.0, 1.0e-6
    end

    test "nested inside lists and maps" do
      funs = %{"double" => &(&1 * 2), "inc" => &(&1 + 1)}
      assert SnakeBridge.eval!("fs['double'](fs['inc'](4))", %{fs: funs}) == 10

      assert SnakeBridge.eval!("[f(10) for f in fs]", %{fs: [&(&1 - 1), &(&1 * &1)]}) ==
               [9, 100]

      assert SnakeBridge.eval!("t[1]('x')", %{t: {:ignored, &String.upcase/1}}) == "X"
    end

    test "a function of any arity, including zero" do
      assert SnakeBridge.eval!("f()", %{f: fn -> "none" end}) == "none"
      assert SnakeBridge.eval!("f(1, 2, 3)", %{f: fn a, b, c -> a + b + c end}) == 6
    end

    test "arguments and results cross by the type rules, refs included" do
      code = """
      import fractions
      value = fractions.Fraction(1, 3)
      back = f(value, [1, 2.5, "s", None, {"k": (1, 2)}])
      (back[0] is value, back[1])
      """

      echo = fn %Ref{type: "fractions.Fraction"} = ref, data -> [ref, data] end
      assert SnakeBridge.eval!(code, %{f: echo}) == {true, [1, 2.5, "s", nil, %{"k" => {1, 2}}]}
    end

    test "a callback may use the refs it receives (a nested call)" do
      code = "import collections\nf(collections.Counter('abracadabra'))"
      most_common = fn counter -> SnakeBridge.method!(counter, "most_common", [1]) end
      assert SnakeBridge.eval!(code, %{f: most_common}) == [{"a", 5}]
    end

    test "scalar results cross with their exact types" do
      code =
        "[(type(v).__name__, v) for v in (f(7), f(-300), f(2**70), f(2.5), f(None), f(True))]"

      assert SnakeBridge.eval!(code, %{f: fn x -> x end}) == [
               {"int", 7},
               {"int", -300},
               {"int", 1_180_591_620_717_411_303_424},
               {"float", 2.5},
               {"NoneType", nil},
               {"bool", true}
             ]

      assert SnakeBridge.eval!("type(f()).__name__, f()", %{f: fn -> :an_atom end}) ==
               {"str", "an_atom"}
    end

    test "Python sees a callable with the function's arity in its signature" do
      code = "import inspect\n(callable(f), len(inspect.signature(f).parameters), f.arity)"
      assert SnakeBridge.eval!(code, %{f: fn _a, _b -> :ok end}) == {true, 2, 2}
    end
  end

  describe "where a callback runs" do
    test "in the calling process: it sees its pid and process dictionary" do
      Process.put(:callback_test_key, "visible")
      me = pid_text()

      seen =
        SnakeBridge.eval!("f()", %{
          f: fn -> {pid_text(), Process.get(:callback_test_key)} end
        })

      assert seen == {me, "visible"}
    end

    test "a nested callback puts its caller's parent mark back, and none is left behind" do
      parent = self()
      marks = fn -> for {{:snakebridge_parent, _, _}, _} = mark <- Process.get(), do: mark end

      outer = fn x ->
        before = marks.()
        y = SnakeBridge.eval!("g(x)", %{g: &(&1 + 1), x: x})
        send(parent, {:marks, before, marks.()})
        y
      end

      assert SnakeBridge.eval!("f(1)", %{f: outer}) == 2
      assert_received {:marks, [_mark] = before, after_nested}
      assert after_nested == before
      assert marks.() == []
    end

    test "in the caller's session: refs made inside belong to it" do
      outer = SnakeBridge.call!("collections", "Counter", ["a"])

      inner =
        SnakeBridge.eval!("f()", %{
          f: fn -> SnakeBridge.call!("collections", "Counter", ["b"]) end
        })

      assert %Ref{} = inner
      assert inner.session == outer.session
    end
  end

  describe "re-entrancy" do
    @apply """
    import os
    def apply(f, n):
        return [os.getpid()] + f(n)
    apply
    """

    defp nest(_apply, 0), do: []
    defp nest(apply, n), do: SnakeBridge.call!(apply, "__call__", [&nest(apply, &1), n - 1])

    test "Elixir → Python → Elixir … 100 levels deep, on one worker, without deadlock" do
      apply = SnakeBridge.eval!(@apply)
      pids = nest(apply, 100)
      assert length(pids) == 100
      assert [_one_worker] = Enum.uniq(pids)
    end

    test "nesting beyond the worker's stack is a catchable RecursionError, not a hang" do
      code = """
      def apply(f, n):
          try:
              return f(n)
          except RecursionError:
              return ("stopped at", n)
      apply
      """

      apply = SnakeBridge.eval!(code)

      deep = fn deep, n ->
        SnakeBridge.call!(apply, "__call__", [&deep.(deep, &1), n + 1], [], timeout: 20_000)
      end

      assert {"stopped at", depth} = deep.(deep, 0)
      assert depth > 100
      assert SnakeBridge.call!("math", "sqrt", [9]) == 3.0
    end

    test "a nested call carrying a large binary (sent out of band) runs at once" do
      # Its header has the blob flag: the engine must still read its parent, or it
      # queues the call behind the one waiting for this callback (a deadlock).
      big = SnakeBridge.bytes(:binary.copy("x", 200_000))
      nested = fn -> SnakeBridge.call!("builtins", "len", [big]) end
      assert SnakeBridge.eval("f()", %{"f" => nested}, timeout: 10_000) == {:ok, 200_000}
    end

    test "a callback's nested calls may themselves pass callbacks" do
      code = "f(lambda g: g(2))"

      outer = fn python_fun ->
        # python_fun is a Python lambda (a ref); calling it passes an Elixir fun back.
        SnakeBridge.call!(python_fun, "__call__", [fn x -> x * 21 end])
      end

      assert SnakeBridge.eval!(code, %{f: outer}) == 42
    end
  end

  describe "callbacks from Python threads" do
    test "ThreadPoolExecutor.map over an Elixir function" do
      code = """
      import concurrent.futures
      with concurrent.futures.ThreadPoolExecutor(4) as pool:
          results = list(pool.map(f, range(50)))
      results
      """

      assert SnakeBridge.eval!(code, %{f: &(&1 * 3)}) == Enum.map(0..49, &(&1 * 3))
    end

    test "they run in the calling process too, and may call Python back" do
      code = """
      import concurrent.futures
      with concurrent.futures.ThreadPoolExecutor(4) as pool:
          results = list(pool.map(f, [1, 4, 9, 16]))
      results
      """

      me = pid_text()
      f = fn x -> {pid_text(), SnakeBridge.call!("math", "sqrt", [x])} end
      assert SnakeBridge.eval!(code, %{f: f}) == Enum.map([1.0, 2.0, 3.0, 4.0], &{me, &1})
    end

    test "a thread may call a stored function after the call returned" do
      parent = self()
      code = "import threading\nthreading.Timer(0.05, f, ['late']).start()"
      assert SnakeBridge.eval!(code, %{f: fn arg -> send(parent, {:called, arg}) end}) == nil
      assert_receive {:called, "late"}, 5_000
    end

    test "an error in a thread's callback is raised in that thread" do
      code = """
      import concurrent.futures, snakebridge
      with concurrent.futures.ThreadPoolExecutor(2) as pool:
          future = pool.submit(f, 1)
          try:
              future.result()
          except snakebridge.ElixirError as error:
              caught = str(error).splitlines()[0]
      caught
      """

      assert SnakeBridge.eval!(code, %{f: fn _ -> raise "in thread" end}) ==
               "** (RuntimeError) in thread"
    end
  end

  describe "errors" do
    test "an Elixir raise is catchable in Python as snakebridge.ElixirError" do
      code = """
      import snakebridge
      try:
          f(1)
      except snakebridge.ElixirError as error:
          caught = (type(error).__name__, error.kind, str(error).splitlines()[0])
      caught
      """

      assert SnakeBridge.eval!(code, %{f: fn _ -> raise ArgumentError, "boom" end}) ==
               {"ElixirError", "ArgumentError", "** (ArgumentError) boom"}
    end

    test "throw and exit are ElixirErrors too" do
      code =
        "import snakebridge\ntry:\n    f()\nexcept snakebridge.ElixirError as e:\n    r = (e.kind, str(e).splitlines()[0])\nr"

      assert SnakeBridge.eval!(code, %{f: fn -> throw(:t) end}) == {"throw", "** (throw) :t"}
      assert SnakeBridge.eval!(code, %{f: fn -> exit(:x) end}) == {"exit", "** (exit) :x"}
    end

    test "uncaught, it is a PythonError whose traceback shows the Elixir error" do
      assert {:error, %PythonError{} = error} =
               SnakeBridge.eval("def outer():\n    return f()\nouter()", %{
                 f: fn -> raise "deep failure" end
               })

      assert error.type == "snakebridge.ElixirError"
      assert error.message =~ "** (RuntimeError) deep failure"
      assert error.traceback =~ "in outer"
      assert error.traceback =~ "snakebridge.ElixirError: ** (RuntimeError) deep failure"
      assert error.traceback =~ "callback_test.exs"
    end

    test "the wrong number of arguments is a catchable Python TypeError" do
      code = "try:\n    f(1, 2)\nexcept TypeError as e:\n    r = str(e)\nr"
      assert SnakeBridge.eval!(code, %{f: fn _ -> :never end}) =~ "takes 1 positional argument"
    end

    test "uncaught, the wrong arity is a PythonError of type TypeError and the worker lives on" do
      assert {:error, %PythonError{type: "TypeError"}} =
               SnakeBridge.eval("f()", %{f: fn _ -> :never end})

      assert {:error, %PythonError{type: "TypeError"}} =
               SnakeBridge.eval("f(1, key=2)", %{f: fn _ -> :never end})

      assert SnakeBridge.eval!("f(1)", %{f: fn x -> x end}) == 1
    end

    test "a result Python cannot receive becomes an ElixirError" do
      assert {:error, %PythonError{} = error} = SnakeBridge.eval("f()", %{f: fn -> self() end})
      assert error.type == "snakebridge.ElixirError"
      assert error.message =~ "a pid has no Python form"
    end
  end

  describe "stored callbacks" do
    @registry """
    class Registry:
        def __init__(self):
            self.handler = None
        def register(self, handler):
            self.handler = handler
        def fire(self, value):
            return self.handler(value)
    Registry()
    """

    defp register_from_another_process(registry, session, fun) do
      parent = self()

      pid =
        spawn(fn ->
          SnakeBridge.use_session(session, fn ->
            SnakeBridge.method!(registry, "register", [fun])
          end)

          send(parent, :registered)
          receive do: (:stop -> :ok)
        end)

      assert_receive :registered, 5_000
      pid
    end

    test "work in a later call while the owner lives, and raise once it has exited" do
      {:ok, session} = SnakeBridge.open_session()
      registry = SnakeBridge.use_session(session, fn -> SnakeBridge.eval!(@registry) end)
      owner = register_from_another_process(registry, session, &{"handled", &1})

      assert SnakeBridge.method!(registry, "fire", [1]) == {"handled", 1}
      assert SnakeBridge.method!(registry, "fire", [2]) == {"handled", 2}

      ref = Process.monitor(owner)
      send(owner, :stop)
      assert_receive {:DOWN, ^ref, :process, _, _}

      error = wait_for_owner_gone(registry, 2_000)
      assert error.type == "snakebridge.CallbackOwnerGone"
      assert error.message =~ "has exited"
      assert "snakebridge.ElixirError" in error.bases

      code = """
      import snakebridge
      try:
          registry.fire(3)
      except snakebridge.CallbackOwnerGone:
          outcome = "owner gone"
      outcome
      """

      assert SnakeBridge.eval!(code, %{registry: registry}) == "owner gone"
      SnakeBridge.release_session(session)
    end
  end

  defp wait_for_owner_gone(registry, timeout) do
    case SnakeBridge.method(registry, "fire", [0]) do
      {:error, %PythonError{type: "snakebridge.CallbackOwnerGone"} = error} ->
        error

      {:ok, _still_alive} when timeout > 0 ->
        Process.sleep(20)
        wait_for_owner_gone(registry, timeout - 20)
    end
  end
end

defmodule SnakeBridge.CallbackLeakTest do
  # Not async: it reads pool-wide ref counts and the worker's RSS.
  use ExUnit.Case, async: false

  @mib 1024 * 1024

  defp worker_stats do
    session = SnakeBridge.call!("collections", "Counter", [])
    {_pool, index, _incarnation} = session.worker
    SnakeBridge.release(session)
    SnakeBridge.stats().per_worker |> Enum.find(&(&1.index == index))
  end

  test "passing the same function a million times leaks nothing" do
    fun = fn x -> x + 1 end
    copies = List.duplicate(fun, 10_000)

    loop =
      SnakeBridge.eval!(
        "def loop(f, n):\n    for i in range(n):\n        f(i)\n    return n\nloop"
      )

    pass = fn ->
      # 10,000 copies per call; each call also invokes the function 100 times.
      assert SnakeBridge.eval!("[c(1) for c in cs[:100]] and len(cs)", %{cs: copies}) == 10_000
    end

    for _ <- 1..10, do: pass.()
    assert SnakeBridge.call!(loop, "__call__", [fun, 1_000]) == 1_000
    before = worker_stats()

    for _ <- 1..100, do: pass.()
    assert SnakeBridge.call!(loop, "__call__", [fun, 20_000]) == 20_000
    later = worker_stats()

    assert later.refs <= before.refs
    assert later.callbacks == 0
    assert later.rss - before.rss < 16 * @mib
  end
end
