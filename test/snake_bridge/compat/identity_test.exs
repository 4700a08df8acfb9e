defmodule SnakeBridge.CompatIdentityTest do
  # One Python object is one ref within a session.
  use ExUnit.Case, async: true

  test "the same object comes back as the same ref: ==, map keys, MapSet" do
    x = SnakeBridge.eval!("object()")
    holder = SnakeBridge.eval!("[x, x]", %{x: x}, return: :ref)
    [a, b] = SnakeBridge.to_elixir!(holder)
    assert a == x and b == x
    assert MapSet.new([a, b, x]) |> MapSet.size() == 1
  end

  test "sympy's solve keys its solution by the symbols the caller holds" do
    [x, y] = SnakeBridge.call!("sympy", "symbols", ["x y"]) |> Tuple.to_list()
    eq1 = SnakeBridge.eval!("x + y - 3", %{x: x, y: y})
    eq2 = SnakeBridge.eval!("x - y - 1", %{x: x, y: y})
    solution = SnakeBridge.call!("sympy", "solve", [[eq1, eq2], [x, y]])
    assert is_map(solution)
    assert SnakeBridge.method!(solution[x], "__int__") == 2
    assert SnakeBridge.method!(solution[y], "__int__") == 1
  end

  test "returning one object again and again gives one ref, held once" do
    same = SnakeBridge.eval!("o = object()\ndef get():\n    return o\nget")
    refs = for _ <- 1..2_000, do: SnakeBridge.apply!(same)
    assert [%SnakeBridge.Ref{}] = Enum.uniq(refs)
  end

  test "release/1 frees the object for every holder of its ref in the session" do
    x = SnakeBridge.eval!("object()")
    again = SnakeBridge.eval!("[x]", %{x: x}, return: :ref) |> SnakeBridge.get_item!(0)
    assert again == x
    :ok = SnakeBridge.release(x)

    assert {:error, %SnakeBridge.RefError{reason: :released}} =
             SnakeBridge.method(again, "__repr__")
  end

  test "other sessions get their own refs" do
    x = SnakeBridge.eval!("object()")

    in_other =
      SnakeBridge.session(fn ->
        SnakeBridge.eval!("[x]", %{x: x}, return: :ref) |> SnakeBridge.to_elixir!()
      end)

    assert [%SnakeBridge.Ref{} = other] = in_other
    assert other != x
  end
end
