defmodule SnakeBridge.TypesTest do
  # Every row of the README's two type tables, checked against real Python.
  use ExUnit.Case, async: true

  alias SnakeBridge.{Bytes, EncodeError, Ref}

  # What Python sees: its type name and repr.
  defp python_view(value) do
    SnakeBridge.eval!("(type(v).__name__, repr(v))", %{"v" => value})
  end

  defp round_trip(value), do: SnakeBridge.call!("builtins", "tuple", [[value]]) |> elem(0)

  describe "Elixir to Python" do
    test "integers of any size become int" do
      assert python_view(42) == {"int", "42"}
      assert python_view(-(2 ** 70)) == {"int", Integer.to_string(-(2 ** 70))}
    end

    test "floats and the float specials" do
      assert python_view(1.5) == {"float", "1.5"}
      assert python_view(:nan) == {"float", "nan"}
      assert python_view(:infinity) == {"float", "inf"}
      assert python_view(:neg_infinity) == {"float", "-inf"}
    end

    test "true, false and nil" do
      assert python_view(true) == {"bool", "True"}
      assert python_view(false) == {"bool", "False"}
      assert python_view(nil) == {"NoneType", "None"}
    end

    test "other atoms and UTF-8 binaries become str" do
      assert python_view(:hello) == {"str", "'hello'"}
      assert python_view("héllo") == {"str", "'héllo'"}
    end

    test "non-UTF-8 binaries and Bytes become bytes" do
      assert python_view(<<255, 0>>) == {"bytes", "b'\\xff\\x00'"}
      assert python_view(SnakeBridge.bytes("abc")) == {"bytes", "b'abc'"}
    end

    test "lists, tuples, maps and MapSets" do
      assert python_view([1, [2]]) == {"list", "[1, [2]]"}
      assert python_view({1, "a"}) == {"tuple", "(1, 'a')"}
      assert python_view(%{1 => {2, 3}}) == {"dict", "{1: (2, 3)}"}
      assert python_view(MapSet.new([3])) == {"set", "{3}"}
    end

    test "map keys of any supported type" do
      assert SnakeBridge.eval!("sorted(map(repr, m))", %{"m" => %{{1, 2} => 1, "k" => 2, 3 => 3}}) ==
               ["'k'", "(1, 2)", "3"]
    end

    test "calendar types" do
      assert python_view(~D[2024-02-29]) == {"date", "datetime.date(2024, 2, 29)"}
      assert python_view(~T[12:30:05.123456]) == {"time", "datetime.time(12, 30, 5, 123456)"}

      assert python_view(~N[2024-01-02 03:04:05]) ==
               {"datetime", "datetime.datetime(2024, 1, 2, 3, 4, 5)"}

      assert python_view(~U[2024-01-02 03:04:05Z]) ==
               {"datetime",
                "datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)"}
    end

    test "a ref becomes the object itself" do
      counter = SnakeBridge.call!("collections", "Counter", ["aab"])

      assert SnakeBridge.eval!("c is not None and type(c).__name__", %{"c" => counter}) ==
               "Counter"
    end

    test "colliding keys are an EncodeError" do
      assert {:error, %EncodeError{} = error} =
               SnakeBridge.call("builtins", "len", [%{:a => 1, "a" => 2}])

      assert error.path == "args[0]"
    end

    test "pids, ports, references and structs without an Encoder are EncodeErrors, located" do
      assert {:error, %EncodeError{path: "args[1][\"k\"]"}} =
               SnakeBridge.call("builtins", "print", [1, %{"k" => self()}])

      assert {:error, %EncodeError{path: "kwargs[:sep]"}} =
               SnakeBridge.call("builtins", "print", [], sep: make_ref())

      assert {:error, %EncodeError{reason: reason}} =
               SnakeBridge.call("builtins", "print", [URI.parse("http://x")])

      assert reason =~ "SnakeBridge.Encoder"
    end
  end

  describe "Python to Elixir" do
    test "None, bools, ints of any size, floats and specials" do
      assert SnakeBridge.eval!("None") == nil
      assert SnakeBridge.eval!("True") == true
      assert SnakeBridge.eval!("2 ** 100") == 2 ** 100
      assert SnakeBridge.eval!("10 // 2") === 5
      assert SnakeBridge.eval!("float('nan')") == :nan
      assert SnakeBridge.eval!("float('-inf')") == :neg_infinity
    end

    test "str and bytes stay apart" do
      assert SnakeBridge.eval!("'abc'") == "abc"
      assert SnakeBridge.eval!("b'abc'") == %Bytes{data: "abc"}
    end

    test "exact containers keep their shape" do
      assert SnakeBridge.eval!("[1, (2, {'a': {3}})]") == [1, {2, %{"a" => MapSet.new([3])}}]
      assert SnakeBridge.eval!("frozenset([1])") == MapSet.new([1])
    end

    test "datetime family" do
      assert SnakeBridge.eval!("import datetime\ndatetime.date(2020, 1, 2)") == ~D[2020-01-02]

      assert SnakeBridge.eval!("import datetime\ndatetime.datetime(2020, 1, 2, 3, 4, 5, 6)") ==
               ~N[2020-01-02 03:04:05.000006]

      assert SnakeBridge.eval!(
               "import datetime\ndatetime.datetime(2020, 1, 2, tzinfo=datetime.timezone.utc)"
             ) == ~U[2020-01-02 00:00:00Z]
    end

    test "a time or naive datetime with fold=1 stays in Python, so nothing is lost" do
      code = "import datetime\ndatetime.datetime(2024, 11, 3, 1, 30, fold=1)"
      assert %Ref{type: "datetime.datetime"} = naive = SnakeBridge.eval!(code)
      assert SnakeBridge.eval!("x.fold", %{"x" => naive}) == 1

      assert %Ref{type: "datetime.time"} =
               SnakeBridge.eval!("import datetime\ndatetime.time(1, 30, fold=1)")

      assert SnakeBridge.eval!("import datetime\ndatetime.time(1, 30)") == ~T[01:30:00]
    end

    test "keys distinct in Python but equal in Elixir are an error, not a raise" do
      for code <- ["{float('nan'): 1, float('nan'): 2}", "{float('nan'), float('nan')}"] do
        assert {:error, %EncodeError{path: "(the reply)"}} = SnakeBridge.eval(code)
        assert {:ok, %Ref{}} = SnakeBridge.eval(code, %{}, return: :ref)
      end

      frame = SnakeBridge.eval!("import pandas\npandas.DataFrame([[1, 2]], columns=['a', 'a'])")
      assert {:error, %EncodeError{reason: reason}} = SnakeBridge.to_elixir(frame)
      assert reason =~ "repeated column names"
      assert SnakeBridge.eval!("1") == 1
    end

    test "numpy scalars become numbers and booleans" do
      assert SnakeBridge.eval!("import numpy\nnumpy.float32(0.5)") === 0.5
      assert SnakeBridge.eval!("import numpy\nnumpy.int64(7)") === 7
      assert SnakeBridge.eval!("import numpy\nnumpy.bool_(True)") === true
    end

    test "everything else is a ref, with its qualified type" do
      for {code, type} <- [
            {"import collections\ncollections.Counter()", "collections.Counter"},
            {"import collections\ncollections.OrderedDict()", "collections.OrderedDict"},
            {"import decimal\ndecimal.Decimal('1.5')", "decimal.Decimal"},
            {"import math\nmath", "module"},
            {"len", "builtin_function_or_method"},
            {"(x for x in [])", "generator"},
            {"1j", "complex"},
            {"bytearray(b'x')", "bytearray"}
          ] do
        assert %Ref{type: ^type} = SnakeBridge.eval!(code)
      end
    end

    test "inside a container only the unconvertible leaf becomes a ref" do
      assert [1, %Ref{type: "decimal.Decimal"}, "x"] =
               SnakeBridge.eval!("import decimal\n[1, decimal.Decimal(2), 'x']")
    end

    test "the same object twice gives the same ref (one object, one ref per session)" do
      [a, b] = SnakeBridge.eval!("import decimal\nd = decimal.Decimal(1)\n[d, d]")
      assert a == b
      assert SnakeBridge.eval!("a is b", %{"a" => a, "b" => b})
    end
  end

  describe "round trips" do
    test "every plain value comes back equal" do
      for value <- [
            0,
            -1,
            2 ** 64,
            -(2 ** 200),
            1.25,
            :nan,
            :infinity,
            true,
            nil,
            "ünïcode",
            %Bytes{data: <<0, 255>>},
            [1, [2, [3]]],
            {1, {}},
            %{"a" => [1], 2 => nil},
            MapSet.new(["x", 1]),
            ~D[1999-12-31],
            ~T[23:59:59.999999],
            ~N[2000-01-01 00:00:00],
            ~U[2000-01-01 12:00:00.500000Z]
          ] do
        assert round_trip(value) == value
      end
    end

    test "return: :ref keeps plain data in Python, where it can be mutated" do
      list = SnakeBridge.call!("builtins", "list", [[1, 2]], [], return: :ref)
      assert %Ref{type: "list"} = list
      SnakeBridge.method!(list, "append", [3])
      assert SnakeBridge.to_elixir!(list) == [1, 2, 3]
    end

    test "return: :value deep-converts" do
      assert SnakeBridge.eval!("import collections\ncollections.Counter('aa')", %{},
               return: :value
             ) ==
               %{"a" => 2}
    end
  end
end
