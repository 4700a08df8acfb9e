defmodule SnakeBridge.Call.FastCallTest do
  # SnakeBridge.call/3's fast path (SnakeBridge.Call.fast_call/3) against real Python:
  # which calls take it, and that they get what the general path gives. Each test runs
  # in a process of its own, whose kept route is its own.
  use ExUnit.Case, async: true

  alias SnakeBridge.{Call, PythonError, Session}
  alias SnakeBridge.Call.Route

  defp in_own_process(fun), do: fun |> Task.async() |> Task.await(30_000)

  test "a process's first call goes the general way and keeps the route its next ones take" do
    in_own_process(fn ->
      assert Call.fast_call("math", "sqrt", [16]) == :general
      assert SnakeBridge.call("math", "sqrt", [16]) == {:ok, 4.0}

      {:ok, session} = Session.resolve(:default, nil)
      assert {%{name: :default}, _entry} = Route.kept(:default, session.worker)
      assert Route.kept(:default, session.worker + 1) == nil
      assert Route.kept(:no_such_pool, session.worker) == nil

      assert Call.fast_call("math", "sqrt", [16]) == {:ok, 4.0}
    end)
  end

  test "plain arguments of each kind give what the general path gives" do
    in_own_process(fn ->
      {:ok, _} = SnakeBridge.call("math", "sqrt", [16])

      cases = [
        {"operator", "add", [1.5, 2]},
        {"operator", "add", ["ab", "cd"]},
        {"builtins", "max", [1, -2 ** 70, 2 ** 70]},
        {"builtins", "repr", [nil]},
        {"builtins", "repr", [true]},
        {"builtins", "repr", [:an_atom]},
        {"builtins", "len", [:binary.copy("x", SnakeBridge.Wire.blob_min() - 1)]},
        {"os.path", "join", ["a", "b"]},
        {"builtins", "list", []}
      ]

      for {module, name, args} <- cases do
        fast = Call.fast_call(module, name, args)
        refute fast == :general
        assert {:ok, _} = fast
        assert fast == SnakeBridge.call(module, name, args, [], timeout: 30_000)
      end
    end)
  end

  test "arguments that need preparing go the general way" do
    in_own_process(fn ->
      {:ok, ref} = SnakeBridge.call("builtins", "list", [[1, 2]], [], return: :ref)
      big = :binary.copy("x", SnakeBridge.Wire.blob_min())

      for args <- [[ref], [big], [[1, 2]], [fn -> 1 end], [%{a: 1}], [{1, 2}], [1 | 2]] do
        assert Call.fast_call("builtins", "len", args) == :general
      end

      assert SnakeBridge.call("builtins", "len", [ref]) == {:ok, 2}
      assert SnakeBridge.call("builtins", "len", [big]) == {:ok, SnakeBridge.Wire.blob_min()}
    end)
  end

  test "an error, and a callback Python makes meanwhile, are answered as in the general path" do
    in_own_process(fn ->
      {:ok, _} = SnakeBridge.call("math", "sqrt", [16])

      assert {:error, %PythonError{} = error} = Call.fast_call("math", "sqrt", [-1])
      assert Exception.message(error) == "ValueError: math domain error"

      # A function passed once, called back during a later call with plain arguments.
      name = "_fast_call_test_#{System.unique_integer([:positive])}"
      me = self()

      double = fn x ->
        send(me, {:called_in, self()})
        x * 2
      end

      SnakeBridge.eval!("import builtins\nsetattr(builtins, name, f)", %{
        "name" => name,
        "f" => double
      })

      try do
        assert Call.fast_call("builtins", "eval", ["#{name}(21)"]) == {:ok, 42}
        assert_received {:called_in, ^me}
      after
        SnakeBridge.eval!("import builtins\ndelattr(builtins, name)", %{"name" => name})
      end
    end)
  end
end
