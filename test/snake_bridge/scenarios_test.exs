defmodule SnakeBridge.ScenariosTest do
  # Real libraries, used the way an Elixir developer would.
  use ExUnit.Case, async: true

  alias SnakeBridge.{Bytes, Ref}

  describe "stdlib" do
    test "collections" do
      counter = SnakeBridge.call!("collections", "Counter", [~w(a b a c a)])
      assert SnakeBridge.method!(counter, "most_common", [1]) == [{"a", 3}]
      point_class = SnakeBridge.call!("collections", "namedtuple", ["Point", ["x", "y"]])
      point = SnakeBridge.call!(point_class, "__call__", [1, 2])
      assert %Ref{type: "__main__.Point"} = point
      assert SnakeBridge.attr!(point, "y") == 2
      assert SnakeBridge.to_elixir!(point) == [1, 2]
    end

    test "pathlib" do
      dir = System.tmp_dir!() |> Path.join("snakebridge-#{System.unique_integer([:positive])}")
      path = SnakeBridge.call!("pathlib", "Path", [dir])
      SnakeBridge.method!(path, "mkdir")
      file = SnakeBridge.method!(path, "joinpath", ["a.txt"])
      assert SnakeBridge.method!(file, "write_text", ["hi"]) == 2
      assert File.read!(Path.join(dir, "a.txt")) == "hi"
      assert SnakeBridge.method!(file, "exists") == true
      File.rm_rf!(dir)
    end

    test "re" do
      pattern = SnakeBridge.call!("re", "compile", ["(\\w+)@(\\w+)"])
      match = SnakeBridge.method!(pattern, "search", ["mail bob@example now"])
      assert SnakeBridge.method!(match, "groups") == {"bob", "example"}
      assert SnakeBridge.method!(pattern, "findall", ["a@b c@d"]) == [{"a", "b"}, {"c", "d"}]
    end

    test "json" do
      data = %{"list" => [1, 2.5, nil, true], "nested" => %{"k" => "v"}}
      text = SnakeBridge.call!("json", "dumps", [data], sort_keys: true)
      assert SnakeBridge.call!("json", "loads", [text]) == data
    end

    test "datetime" do
      delta = SnakeBridge.call!("datetime", "timedelta", [], days: 1, hours: 2)
      assert %Ref{type: "datetime.timedelta"} = delta
      later = SnakeBridge.eval!("d + delta", %{"d" => ~N[2024-02-28 23:00:00], "delta" => delta})
      assert later == ~N[2024-03-01 01:00:00]
    end

    test "hashlib and base64" do
      digest = SnakeBridge.call!("hashlib", "sha256", [SnakeBridge.bytes("abc")])

      assert SnakeBridge.method!(digest, "hexdigest") ==
               Base.encode16(:crypto.hash(:sha256, "abc"), case: :lower)

      assert SnakeBridge.call!("base64", "b64encode", [<<0, 255, 1>>]) ==
               %Bytes{data: Base.encode64(<<0, 255, 1>>)}
    end
  end

  describe "numpy" do
    test "arrays are refs, chained and converted" do
      a = SnakeBridge.call!("numpy", "arange", [6]) |> SnakeBridge.method!("reshape", [2, 3])
      assert %Ref{type: "numpy.ndarray"} = a
      assert SnakeBridge.attr!(a, "shape") == {2, 3}
      assert SnakeBridge.method!(a, "sum") === 15
      assert SnakeBridge.to_elixir!(a) == [[0, 1, 2], [3, 4, 5]]
      t = SnakeBridge.attr!(a, "T")
      assert SnakeBridge.to_elixir!(t) == [[0, 3], [1, 4], [2, 5]]
    end

    test "linear algebra" do
      m = SnakeBridge.call!("numpy", "array", [[[2.0, 0.0], [0.0, 4.0]]])
      inv = SnakeBridge.call!("numpy.linalg", "inv", [m])
      assert SnakeBridge.to_elixir!(inv) == [[0.5, 0.0], [0.0, 0.25]]
    end
  end

  describe "pandas" do
    test "a DataFrame from an Elixir map of lists" do
      df = SnakeBridge.call!("pandas", "DataFrame", [%{"a" => [1, 2, 3], "b" => ["x", "y", "z"]}])

      assert %Ref{type: "pandas.DataFrame"} = df
      assert SnakeBridge.attr!(df, "shape") == {3, 2}
      assert SnakeBridge.method!(df["a"], "sum") == 6
      filtered = SnakeBridge.eval!("df[df.a > 1]", %{"df" => df})
      assert SnakeBridge.to_elixir!(SnakeBridge.method!(filtered["b"], "tolist")) == ["y", "z"]
    end
  end

  describe "sympy" do
    test "symbolic algebra" do
      x = SnakeBridge.call!("sympy", "Symbol", ["x"])
      expr = SnakeBridge.eval!("(x + 1) ** 2", %{"x" => x})
      expanded = SnakeBridge.call!("sympy", "expand", [expr])
      assert to_string(expanded) == "x**2 + 2*x + 1"
      roots = SnakeBridge.call!("sympy", "solve", [SnakeBridge.eval!("x**2 - 4", %{"x" => x}), x])
      assert Enum.map(roots, &to_string/1) |> Enum.sort() == ["-2", "2"]
    end
  end
end
