defmodule SnakeBridge.CompatFunctionTest do
  # Elixir functions passed to Python look like Python functions to the libraries
  # that introspect them (scikit-learn's clone, make_scorer; pandas' agg).
  use ExUnit.Case, async: true

  test "a named function has its name, qualname, module and doc" do
    assert SnakeBridge.eval!(
             "f.__name__, f.__qualname__, f.__module__, f.__doc__",
             %{f: &String.length/1}
           ) == {"length", "length", "String", "The Elixir function String.length/1."}

    assert SnakeBridge.eval!("f.__module__, f.__name__", %{f: &:lists.reverse/1}) ==
             {":lists", "reverse"}
  end

  test "an anonymous function is <elixir fn/N>, from the module it was written in" do
    assert SnakeBridge.eval!("f.__name__, f.__module__", %{f: fn a, b -> a + b end}) ==
             {"<elixir fn/2>", "SnakeBridge.CompatFunctionTest"}
  end

  test "inspect.signature reports the arity" do
    assert SnakeBridge.eval!("import inspect\nstr(inspect.signature(f))", %{f: fn _, _ -> 0 end}) ==
             "(arg0, arg1, /)"
  end

  test "copy and deepcopy give the same callable, which still runs" do
    code = """
    import copy
    holder = {"steps": [("double", f)]}
    cloned = copy.deepcopy(holder)
    g = cloned["steps"][0][1]
    g is f, copy.copy(f) is f, g(21)
    """

    assert SnakeBridge.eval!(code, %{f: &(&1 * 2)}) == {true, true, 42}
  end

  test "pickle refuses it clearly" do
    assert {:error, %SnakeBridge.PythonError{type: "TypeError", message: message}} =
             SnakeBridge.eval("import pickle\npickle.dumps(f)", %{f: &String.length/1})

    assert message =~ "cannot pickle <ElixirFunction length/1 String"
    assert message =~ "runs only in the Elixir process"
  end

  test "pandas labels an agg column with the function's name" do
    labels =
      SnakeBridge.eval!(
        "import pandas as pd\nlist(pd.Series([1, 2, 3]).agg([f, 'max']).index)",
        %{f: &Enum.sum/1}
      )

    assert labels == ["sum", "max"]
  end
end
