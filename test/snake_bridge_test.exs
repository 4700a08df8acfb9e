defmodule SnakeBridgeTest do
  use ExUnit.Case, async: true
  doctest SnakeBridge

  alias SnakeBridge.{EncodeError, PythonError, Ref, RefError}

  describe "call/5" do
    test "calls module functions with args and kwargs" do
      assert SnakeBridge.call("builtins", "round", [2.675], ndigits: 2) == {:ok, 2.67}
      assert SnakeBridge.call("builtins", :max, [[3, 9, 2]]) == {:ok, 9}
      assert SnakeBridge.call("builtins", "dict", [], %{"a" => 1}) == {:ok, %{"a" => 1}}
    end

    test "resolves dotted module and function names" do
      assert SnakeBridge.call("os.path", "basename", ["/a/b.txt"]) == {:ok, "b.txt"}

      assert SnakeBridge.call("collections", "OrderedDict.fromkeys", [["a"]], [], return: :value) ==
               {:ok, %{"a" => nil}}
    end

    test "names too long for the compact call frame still work" do
      long = String.duplicate("x", 300)

      assert {:error, %PythonError{type: "AttributeError"}} = SnakeBridge.call("math", long)
      assert {:error, %PythonError{type: "ModuleNotFoundError"}} = SnakeBridge.call(long, "f")

      assert SnakeBridge.call("builtins", "getattr", ["abc", "upper"], [], return: :ref)
             |> elem(0) == :ok
    end

    test "returns a ref for a Counter" do
      assert {:ok, %Ref{type: "collections.Counter"}} =
               SnakeBridge.call("collections", "Counter", ["aab"])
    end

    test "Python exceptions become PythonError with type, message, traceback and bases" do
      assert {:error, %PythonError{} = error} = SnakeBridge.call("json", "loads", ["{"])
      assert error.type == "json.decoder.JSONDecodeError"
      assert "ValueError" in error.bases
      assert error.traceback =~ "Traceback (most recent call last)"
      assert Exception.message(error) =~ "json.decoder.JSONDecodeError: Expecting"
    end

    test "a missing module is a ModuleNotFoundError" do
      assert {:error, %PythonError{type: "ModuleNotFoundError"}} =
               SnakeBridge.call("no_such_module_xyz", "f")
    end

    test "the worker survives every exception and the next call works" do
      for code <- [
            "1/0",
            "raise SystemExit(3)",
            "raise KeyboardInterrupt",
            "import sys; sys.exit()"
          ] do
        assert {:error, %PythonError{}} = SnakeBridge.eval(code)
      end

      assert SnakeBridge.call("math", "sqrt", [4]) == {:ok, 2.0}
    end

    test "keyword arguments must be names, each given once" do
      assert {:error, %EncodeError{path: "kwargs[1]", reason: reason}} =
               SnakeBridge.call("builtins", "dict", [], [{:a, 1}, {"a", 2}])

      assert reason =~ "given twice"

      assert {:error, %EncodeError{path: "kwargs[0]"}} =
               SnakeBridge.call("builtins", "dict", [], [{1, 2}])

      assert {:error, %EncodeError{path: "bindings(key)"}} = SnakeBridge.eval("1", %{1 => 2})
      assert {:error, %EncodeError{path: "bindings[1]"}} = SnakeBridge.eval("a", a: 1, a: 2)
    end

    test "a timeout that is not a non-negative integer or :infinity raises ArgumentError" do
      for bad <- [-5, 1.5, :never] do
        assert_raise ArgumentError, ~r/:timeout/, fn ->
          SnakeBridge.call("math", "sqrt", [4], [], timeout: bad)
        end
      end
    end

    test "messages and str() with lone surrogates come back as text, escaped" do
      {:error, %PythonError{} = error} = SnakeBridge.eval("raise ValueError('a\\ud800')")
      assert error.message == "a\\ud800"
      assert Exception.message(error) == "ValueError: a\\ud800"
      assert is_binary(error.traceback)

      code = "class A:\n    def __str__(self):\n        return 'a\\ud800'\nA()"
      assert to_string(SnakeBridge.eval!(code)) == "a\\ud800"

      code = "class S(str): pass\nclass B:\n    def __str__(self):\n        return S('hi')\nB()"
      assert to_string(SnakeBridge.eval!(code)) == "hi"
    end

    test "wrong argument types raise ArgumentError" do
      assert_raise ArgumentError, fn -> SnakeBridge.call(:math, "sqrt", [4]) end
      assert_raise ArgumentError, fn -> SnakeBridge.call("math", "sqrt", 4) end

      assert_raise ArgumentError, fn ->
        SnakeBridge.call("math", "sqrt", [4], [], return: :bogus)
      end
    end

    test "call! raises the error struct" do
      assert_raise PythonError, "ZeroDivisionError: division by zero", fn ->
        SnakeBridge.call!("operator", "truediv", [1, 0])
      end
    end
  end

  describe "method/5 and attributes" do
    test "chains methods and attributes on refs" do
      path = SnakeBridge.call!("pathlib", "PurePosixPath", ["/usr/lib/x.tar.gz"])
      assert SnakeBridge.attr!(path, "suffixes") == [".tar", ".gz"]
      parent = SnakeBridge.attr!(path, :parent)
      assert %Ref{} = parent
      assert SnakeBridge.method!(parent, "joinpath", ["y"]) |> to_string() == "/usr/lib/y"
    end

    test "attr/2 reads module attributes" do
      assert SnakeBridge.attr("math", "tau") == {:ok, 6.283185307179586}
      assert {:error, %PythonError{type: "AttributeError"}} = SnakeBridge.attr("math", "nope")
    end

    test "set_attr/3 sets object attributes" do
      ns = SnakeBridge.call!("types", "SimpleNamespace", [], a: 1)
      assert SnakeBridge.set_attr(ns, "b", [2]) == :ok
      assert SnakeBridge.attr!(ns, "b") == [2]

      assert {:error, %PythonError{}} =
               SnakeBridge.set_attr(SnakeBridge.call!("builtins", "object"), "x", 1)
    end
  end

  describe "items and Access" do
    test "get_item/set_item and ref[key]" do
      dict = SnakeBridge.call!("collections", "OrderedDict", [[{"a", 1}]])
      assert SnakeBridge.get_item(dict, "a") == {:ok, 1}
      assert SnakeBridge.set_item(dict, "b", 2) == :ok
      assert dict["b"] == 2
      assert dict["missing"] == nil
      assert {:error, %PythonError{type: "KeyError"}} = SnakeBridge.get_item(dict, "zzz")
    end

    test "IndexError reads as a missing key" do
      list = SnakeBridge.call!("builtins", "list", [[1]], [], return: :ref)
      assert list[0] == 1
      assert list[5] == nil
    end

    test "put_in/pop_in through Access" do
      dict = SnakeBridge.call!("collections", "OrderedDict")
      dict = put_in(dict["k"], "v")
      assert SnakeBridge.to_elixir!(dict) == %{"k" => "v"}
      assert {"v", _} = pop_in(dict["k"])
      assert SnakeBridge.to_elixir!(dict) == %{}
    end
  end

  describe "eval/3" do
    test "returns the final expression, or nil" do
      assert SnakeBridge.eval("1 + 1") == {:ok, 2}
      assert SnakeBridge.eval("x = 1") == {:ok, nil}
      assert SnakeBridge.eval("") == {:ok, nil}
    end

    test "bindings are the globals, fresh per call" do
      assert SnakeBridge.eval("def f():\n    return y * 2\nf()", %{"y" => 21}) == {:ok, 42}
      assert {:error, %PythonError{type: "NameError"}} = SnakeBridge.eval("y")
    end

    test "syntax errors are PythonErrors" do
      assert {:error, %PythonError{type: "SyntaxError"}} = SnakeBridge.eval("def (")
    end
  end

  describe "to_elixir/1" do
    test "converts mappings, sequences and nested refs" do
      deque = SnakeBridge.eval!("import collections\ncollections.deque([1, 2])")
      assert SnakeBridge.to_elixir(deque) == {:ok, [1, 2]}
      assert SnakeBridge.to_elixir([deque, 3]) == {:ok, [[1, 2], 3]}
      assert SnakeBridge.to_elixir(5) == {:ok, 5}
    end

    test "what has no natural conversion stays a ref" do
      decimal = SnakeBridge.eval!("import decimal\ndecimal.Decimal(1)")
      assert {:ok, %Ref{type: "decimal.Decimal"}} = SnakeBridge.to_elixir(decimal)
    end
  end

  describe "refs" do
    test "inspect shows the type and a short repr" do
      counter = SnakeBridge.call!("collections", "Counter", ["aa"])
      assert inspect(counter) == "#SnakeBridge.Ref<collections.Counter Counter({'a': 2})>"
    end

    test "inspect never hangs or crashes, even when __repr__ raises or is slow" do
      bad =
        SnakeBridge.eval!("""
        class Bad:
            def __repr__(self):
                raise RuntimeError("no")
        class Slow:
            def __repr__(self):
                import time; time.sleep(5)
                return "slow"
        (Bad(), Slow())
        """)

      {bad, slow} = bad
      assert inspect(bad) =~ "repr failed"
      # Given up on, not waited for: the repr's 5 s sleep is still running.
      assert inspect(slow) =~ "repr timed out"
      assert SnakeBridge.call("math", "sqrt", [9]) == {:ok, 3.0}
      # Answered after the repr it came behind: whatever came for the abandoned repr
      # was dropped, not left in this process's mailbox.
      refute_received {:snakebridge_reply, _id, _kind, _payload}
    end

    test "to_string is Python's str()" do
      assert to_string(SnakeBridge.eval!("import decimal\ndecimal.Decimal('1.50')")) == "1.50"
    end

    test "release/1 is idempotent and the ref then gives RefError :released" do
      ref = SnakeBridge.eval!("object()")
      assert SnakeBridge.release(ref) == :ok
      assert SnakeBridge.release(ref) == :ok
      assert {:error, %RefError{reason: :released}} = SnakeBridge.call(ref, "__repr__")
    end

    test "a forged ref gives RefError :unknown, never another object" do
      ref = SnakeBridge.eval!("object()")
      forged = %{ref | id: :crypto.strong_rand_bytes(24)}
      assert {:error, %RefError{reason: :unknown}} = SnakeBridge.call(forged, "__repr__")
    end

    test "ref?/1" do
      assert SnakeBridge.ref?(SnakeBridge.eval!("object()"))
      refute SnakeBridge.ref?(%{})
    end
  end

  describe "encoding" do
    defmodule Point do
      defstruct [:x, :y]
    end

    defimpl SnakeBridge.Encoder, for: Point do
      def encode(%{x: x, y: y}), do: {x, y}
    end

    test "user structs cross through SnakeBridge.Encoder" do
      assert SnakeBridge.eval("p[0] + p[1]", %{"p" => %Point{x: 1, y: 2}}) == {:ok, 3}
    end

    defmodule Label do
      defstruct [:text]
    end

    defimpl SnakeBridge.Encoder, for: Label do
      # Encodes to itself when asked to: a loop the bridge must stop.
      def encode(%{text: :self} = label), do: label
      def encode(%{text: text}), do: text
    end

    test "EncodeError names where the value sits" do
      assert {:error, %EncodeError{path: ~s(bindings["k"][1])}} =
               SnakeBridge.eval("k", %{"k" => [1, self()]})
    end

    test "keys that are equal once encoded are an EncodeError, not merged" do
      assert {:error, %EncodeError{reason: reason}} =
               SnakeBridge.eval("x", %{"x" => %{%Label{text: "a"} => 1, "a" => 2}})

      assert reason =~ "equal once encoded"

      assert {:error, %EncodeError{}} =
               SnakeBridge.eval("x", %{"x" => %{%Label{text: :b} => 1, "b" => 2}})
    end

    test "an Encoder that keeps returning structs to encode is an EncodeError" do
      assert {:error, %EncodeError{reason: reason}} =
               SnakeBridge.eval("x", %{"x" => %Label{text: :self}})

      assert reason =~ "32 times in a row"
    end

    test "the float-special atoms do not collide with strings of the same text" do
      assert {:ok, 2} = SnakeBridge.eval("len(x)", %{"x" => %{:nan => 1, "nan" => 2}})
      assert {:ok, 2} = SnakeBridge.eval("len(x)", %{"x" => %{:infinity => 1, "infinity" => 2}})
    end

    test "a %SnakeBridge.Shm{} built by hand is refused before anything is sent" do
      path = Path.join(System.tmp_dir!(), "snakebridge-shm-victim-#{System.unique_integer()}")
      File.write!(path, "secret")
      forged = %SnakeBridge.Shm{path: "/dev/shm/../.." <> path, size: 6}

      assert {:error, %EncodeError{path: ~s(bindings["x"])}} =
               SnakeBridge.eval("x", %{"x" => forged})

      # Also next to a big binary, which takes the rewriting path.
      big = :binary.copy("a", 70_000)
      assert {:error, %EncodeError{}} = SnakeBridge.eval("x", %{"x" => [big, forged]})
      assert File.read!(path) == "secret"
      File.rm!(path)
    end

    test "str and bytes keys of 64 KiB or more come back as keys" do
      {:ok, map} = SnakeBridge.eval("{'x' * 70000: 1, b'y' * 70000: 2, ('z' * 70000,): 3}")

      assert map == %{
               :binary.copy("x", 70_000) => 1,
               SnakeBridge.bytes(:binary.copy("y", 70_000)) => 2,
               {:binary.copy("z", 70_000)} => 3
             }

      assert SnakeBridge.eval("sorted(map(repr, x.values()))", %{"x" => map}) ==
               {:ok, ["1", "2", "3"]}
    end
  end
end
