defmodule SnakeBridge.CompatStrRefTest do
  # A ref is always the object itself; only an Elixir string names a module.
  use ExUnit.Case, async: true

  test "a ref to a str is the str: its methods, attributes and items" do
    s = SnakeBridge.eval!("'a-b'", %{}, return: :ref)
    assert SnakeBridge.method!(s, "split", ["-"]) == ["a", "b"]
    assert SnakeBridge.attr!(s, "upper") |> SnakeBridge.apply!() == "A-B"
    assert SnakeBridge.get_item!(s, 0) == "a"
  end

  test "a ref to the str 'math' is not the module" do
    math = SnakeBridge.eval!("'math'", %{}, return: :ref)

    assert {:error, %SnakeBridge.PythonError{type: "AttributeError"}} =
             SnakeBridge.call(math, "sqrt", [4])

    assert SnakeBridge.call!(math, "upper") == "MATH"

    assert {:error, %SnakeBridge.PythonError{type: "AttributeError"}} =
             SnakeBridge.attr(math, "pi")
  end

  test "a str with lone surrogates, which comes back as a ref, can be used" do
    lone = SnakeBridge.eval!("'a\\ud800b'")
    assert %SnakeBridge.Ref{type: "str"} = lone

    assert SnakeBridge.method!(lone, "encode", ["utf-8", "surrogatepass"]) ==
             %SnakeBridge.Bytes{data: <<?a, 0xED, 0xA0, 0x80, ?b>>}

    assert SnakeBridge.call!("builtins", "len", [lone]) == 3
  end

  test "Elixir strings still name modules, however long" do
    assert SnakeBridge.attr!("math", "pi") == :math.pi()
    :ok = SnakeBridge.set_attr("types", "compat_marker", 1)
    assert SnakeBridge.attr!("types", "compat_marker") == 1
    long = String.duplicate("x", 300)

    assert {:error, %SnakeBridge.PythonError{type: "ModuleNotFoundError"}} =
             SnakeBridge.call(long, "f")
  end
end
