defmodule SnakeBridge.CompatTest do
  # Scenarios from ordinary library code (issue 13's corpus), against real Python:
  # numpy scalar kinds, deep conversion, calling callables, slices.
  use ExUnit.Case, async: true

  alias SnakeBridge.{Bytes, Ref, Slice}

  doctest SnakeBridge.Slice

  defp numpy(code), do: SnakeBridge.eval!("import numpy as np\n" <> code)

  describe "numpy scalar kinds" do
    test "a timedelta64 is a ref whatever its unit, never a bare count" do
      for unit <- ~w(D h s ms us ns) do
        assert %Ref{type: "numpy.timedelta64"} = delta = numpy("np.timedelta64(29, '#{unit}')")
        assert SnakeBridge.method!(delta, "__str__") == "29 " <> long_unit(unit)
      end
    end

    test "a datetime64 is a ref; to_elixir gives a date or datetime where the unit allows" do
      day = numpy("np.datetime64('2024-02-29', 'D')")
      assert %Ref{type: "numpy.datetime64"} = day
      assert SnakeBridge.to_elixir!(day) == ~D[2024-02-29]

      us = numpy("np.datetime64('2024-02-29T10:11:12.345678', 'us')")
      assert SnakeBridge.to_elixir!(us) == ~N[2024-02-29 10:11:12.345678]

      # Nanoseconds have no exact NaiveDateTime, and NaT no value at all: still refs.
      assert %Ref{} =
               SnakeBridge.to_elixir!(numpy("np.datetime64('2024-02-29T10:11:12.1', 'ns')"))

      assert %Ref{} = SnakeBridge.to_elixir!(numpy("np.datetime64('NaT')"))
    end

    test "a structured record is a ref; to_elixir gives its fields" do
      record =
        numpy("np.array([(1, 2.5, b'x')], dtype=[('a', 'i4'), ('b', 'f8'), ('c', 'S1')])[0]")

      assert %Ref{type: "numpy.void"} = record
      assert SnakeBridge.to_elixir!(record) == {1, 2.5, %Bytes{data: "x"}}
    end

    test "object arrays hand out their objects, not object_ scalars" do
      assert numpy("np.array([7, 'a', None], dtype=object)[1]") == "a"
      assert numpy("np.array([7, 'a', None], dtype=object)[0]") == 7
    end

    test "exact kinds still cross by value" do
      assert numpy("np.uint64(2**64 - 1)") == 18_446_744_073_709_551_615
      assert numpy("np.float32(0.5)") == 0.5
      assert numpy("np.bool_(True)") == true
      assert numpy("np.str_('é')") == "é"
      assert numpy("np.bytes_(b'\\xff')") == %Bytes{data: <<255>>}
    end

    test "complex and longdouble scalars stay refs in auto mode" do
      assert %Ref{type: "numpy.complex128"} = numpy("np.complex128(1 + 2j)")
      long = numpy("np.longdouble(1) / 3")
      assert %Ref{} = long
      assert is_float(SnakeBridge.to_elixir!(long))
    end
  end

  defp long_unit(unit) do
    %{
      "D" => "days",
      "h" => "hours",
      "s" => "seconds",
      "ms" => "milliseconds",
      "us" => "microseconds",
      "ns" => "nanoseconds"
    }[unit]
  end

  describe "to_elixir/1 deep conversion" do
    test "str, bytes, int and float subclasses give their plain values, at any depth" do
      value =
        SnakeBridge.eval!(
          """
          import enum
          class Text(str):
              def __str__(self):
                  return "not this"
          class Blob(bytes): pass
          class Level(enum.IntEnum):
              HIGH = 3
          class Money(float): pass
          [Text("navigable"), {Text("key"): Blob(b"\\x00\\x01")}, (Level.HIGH, Money(2.5))]
          """,
          %{},
          return: :ref
        )

      assert SnakeBridge.to_elixir!(value) ==
               ["navigable", %{"key" => %Bytes{data: <<0, 1>>}}, {3, 2.5}]
    end

    test "auto mode keeps subclasses as objects" do
      assert %Ref{} = SnakeBridge.eval!("import enum\nenum.IntEnum('L', 'A B').A")
    end

    test "a pandas Timestamp gives a NaiveDateTime or a DateTime" do
      naive = SnakeBridge.eval!("import pandas as pd\npd.Timestamp('2024-03-01 12:30:00.25')")
      assert %Ref{type: "pandas.Timestamp"} = naive
      assert SnakeBridge.to_elixir!(naive) == ~N[2024-03-01 12:30:00.250000]

      aware =
        SnakeBridge.eval!(
          "import pandas as pd\n[pd.Timestamp('2024-07-01 09:00', tz='Europe/Paris')]",
          %{},
          return: :value
        )

      assert [%DateTime{time_zone: "Europe/Paris", zone_abbr: "CEST"} = paris] = aware
      assert {paris.utc_offset, paris.std_offset} == {3600, 3600}

      nanos =
        SnakeBridge.eval!("import pandas as pd\npd.Timestamp('2024-03-01 12:30:00.000000001')")

      assert %Ref{} = SnakeBridge.to_elixir!(nanos)
    end

    test "dateutil zones give a DateTime: named where the zone has a name, else a fixed offset" do
      [offset, utc, named] =
        SnakeBridge.eval!(
          """
          import datetime as dt
          from dateutil import tz
          at = dt.datetime(2024, 1, 15, 8, 0)
          [at.replace(tzinfo=tz.tzoffset(None, -5 * 3600)),
           at.replace(tzinfo=tz.tzutc()),
           at.replace(tzinfo=tz.gettz('America/New_York'))]
          """,
          %{},
          return: :value
        )

      assert %DateTime{time_zone: "UTC-05:00", utc_offset: -18_000, std_offset: 0} = offset
      assert DateTime.to_naive(offset) == ~N[2024-01-15 08:00:00]
      assert %DateTime{time_zone: "Etc/UTC", zone_abbr: "UTC", utc_offset: 0} = utc
      assert %DateTime{time_zone: "America/New_York", zone_abbr: "EST"} = named
      assert DateTime.compare(offset, named) == :eq
    end

    test "tzlocal gives a DateTime at the right instant" do
      local =
        SnakeBridge.eval!(
          "import datetime as dt\nfrom dateutil import tz\n" <>
            "dt.datetime(2024, 1, 15, 8, 0, tzinfo=dt.timezone.utc).astimezone(tz.tzlocal())",
          %{},
          return: :value
        )

      assert %DateTime{} = local
      assert DateTime.compare(local, ~U[2024-01-15 08:00:00Z]) == :eq
    end

    test "a converted DateTime goes back to Python as the same instant" do
      dt =
        SnakeBridge.eval!(
          "import datetime as dt\nfrom dateutil import tz\n" <>
            "dt.datetime(2024, 1, 15, 8, 0, tzinfo=tz.tzoffset('EST', -18000))",
          %{},
          return: :value
        )

      assert dt.zone_abbr == "EST"

      assert SnakeBridge.eval!("d.utcoffset().total_seconds(), d.tzname()", %{d: dt}) ==
               {-18_000.0, "EST"}
    end
  end

  describe "apply/4" do
    test "calls classes, partials and namedtuple types" do
      counter_class = SnakeBridge.attr!("collections", "Counter")
      counter = SnakeBridge.apply!(counter_class, ["abca"])
      assert %Ref{type: "collections.Counter"} = counter
      assert SnakeBridge.get_item!(counter, "a") == 2

      partial = SnakeBridge.call!("functools", "partial", [SnakeBridge.attr!("builtins", "max")])
      assert SnakeBridge.apply(partial, [3, 9, 4]) == {:ok, 9}
      assert SnakeBridge.apply!(partial, [[1, 5]], key: SnakeBridge.eval!("lambda x: -x")) == 1
    end

    test "calls a lambdified sympy expression" do
      f =
        SnakeBridge.eval!(
          "import sympy as sp\nx, y = sp.symbols('x y')\nsp.lambdify((x, y), x**2 + y)"
        )

      assert SnakeBridge.apply!(f, [3, 1]) == 10
    end

    test "calls a scipy spline" do
      spline = SnakeBridge.call!("scipy.interpolate", "CubicSpline", [[0, 1, 2], [0, 1, 4]])
      assert SnakeBridge.apply!(spline, [1.5]) |> SnakeBridge.to_elixir!() == 2.25
    end

    test "returns Python's error, and checks its options" do
      not_callable = SnakeBridge.eval!("object()")

      assert {:error, %SnakeBridge.PythonError{type: "AttributeError"}} =
               SnakeBridge.apply(not_callable, [])

      assert_raise ArgumentError, ~r/unknown option :timout for SnakeBridge.apply\/4/, fn ->
        SnakeBridge.apply(not_callable, [], [], timout: 5)
      end

      assert_raise ArgumentError, ~r/expected a callable ref/, fn ->
        SnakeBridge.apply("math", [])
      end
    end
  end

  describe "slice/3" do
    setup do
      %{
        list: SnakeBridge.eval!("list(range(10))", %{}, return: :ref),
        grid: numpy("np.arange(12).reshape(3, 4)")
      }
    end

    test "indexes like Python's a[start:stop:step]", %{list: list} do
      assert SnakeBridge.get_item!(list, SnakeBridge.slice(2, 5)) == [2, 3, 4]
      assert SnakeBridge.get_item!(list, SnakeBridge.slice(-3, nil)) == [7, 8, 9]
      assert SnakeBridge.get_item!(list, SnakeBridge.slice(nil, nil, -3)) == [9, 6, 3, 0]
      assert list[SnakeBridge.slice(8, nil)] == [8, 9]
    end

    test "works inside tuples, with Access and get_item/set_item", %{grid: grid} do
      column = grid[{SnakeBridge.slice(nil, nil), 1}]
      assert SnakeBridge.to_elixir!(column) == [1, 5, 9]

      writable = SnakeBridge.method!(grid, "copy")

      :ok =
        SnakeBridge.set_item(writable, {SnakeBridge.slice(0, 2), SnakeBridge.slice(2, nil)}, 0)

      assert SnakeBridge.to_elixir!(writable) ==
               [[0, 1, 0, 0], [4, 5, 0, 0], [8, 9, 10, 11]]
    end

    test "bounds may be refs and labels (pandas)" do
      frame =
        SnakeBridge.eval!(
          "import pandas as pd\npd.DataFrame({'v': [1, 2, 3, 4]}, index=['a', 'b', 'c', 'd'])"
        )

      loc = SnakeBridge.attr!(frame, "loc")
      picked = loc[{SnakeBridge.slice("b", "c"), "v"}]
      assert SnakeBridge.to_elixir!(picked) == [2, 3]

      start = SnakeBridge.eval!("'b'", %{}, return: :ref)
      assert SnakeBridge.method!(loc[{SnakeBridge.slice(start, nil), "v"}], "sum") == 9
    end

    test "a Python slice comes back as the struct, and round-trips" do
      assert SnakeBridge.call!("builtins", "slice", [1, 10, 2]) == %Slice{
               start: 1,
               stop: 10,
               step: 2
             }

      assert SnakeBridge.eval!("s.indices(20)", %{s: SnakeBridge.slice(nil, -5)}) == {0, 15, 1}
    end

    test "a bad field is refused before sending, naming where" do
      assert {:error, %SnakeBridge.EncodeError{path: "args[0].stop"}} =
               SnakeBridge.call("builtins", "repr", [SnakeBridge.slice(1, self())])
    end

    test "ranges are not slices", %{list: list} do
      assert {:error, %SnakeBridge.EncodeError{}} = SnakeBridge.get_item(list, 1..3)
    end
  end
end

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

defmodule SnakeBridge.CompatErrorTest do
  use ExUnit.Case, async: true

  test "an error from a C function has Python's traceback shape, with a frame for the call" do
    {:error, error} = SnakeBridge.call("math", "sqrt", [-1])
    [header, frame | _] = String.split(error.traceback, "\n")
    assert header == "Traceback (most recent call last):"
    assert frame == ~s(  File "<snakebridge>", line 1, in math.sqrt)
    assert String.ends_with?(error.traceback, "ValueError: math domain error\n")
  end

  test "the call frame names methods, items, attributes and eval" do
    counter = SnakeBridge.call!("collections", "Counter", ["ab"])
    assert frame_of(SnakeBridge.method(counter, "most_common", ["x"])) =~ "in Counter.most_common"

    assert frame_of(SnakeBridge.get_item(SnakeBridge.eval!("[]", %{}, return: :ref), 3)) =~
             "in list.__getitem__"

    assert frame_of(SnakeBridge.attr("math", "nope")) =~ "in math.nope"
    assert frame_of(SnakeBridge.eval("1 / 0")) =~ "in <eval>"
  end

  test "a Python function's own frames follow the call frame" do
    {:error, error} = SnakeBridge.call("json", "loads", ["{"])
    [_header, frame, next | _] = String.split(error.traceback, "\n")
    assert frame == ~s(  File "<snakebridge>", line 1, in json.loads)
    assert next =~ ~r/json.__init__\.py", line \d+, in loads/
  end

  defp frame_of({:error, error}), do: error.traceback |> String.split("\n") |> Enum.at(1)
end

defmodule SnakeBridge.CompatNestingTest do
  # Nesting is limited by memory only, in both directions (lists, tuples, maps).
  use ExUnit.Case, async: true

  defp nest(depth, wrap), do: Enum.reduce(1..depth, :leaf, fn _, acc -> wrap.(acc) end)

  test "an Elixir list nested 200 and 20,000 deep crosses and comes back equal" do
    for depth <- [200, 20_000] do
      deep = nest(depth, &[&1])
      assert SnakeBridge.eval!("x", %{x: deep}) == nest(depth, &[&1]) |> put_leaf("leaf")
    end

    # Python's own deepcopy recurses, but 200 levels are within its limit.
    deep = nest(200, &[&1])
    assert SnakeBridge.call!("copy", "deepcopy", [deep]) == put_leaf(deep, "leaf")
  end

  test "tuples and maps nest as deep" do
    tuples = nest(5_000, &{&1, 1})
    maps = nest(5_000, &%{"k" => &1, 1 => [2.5]})

    assert SnakeBridge.eval!("x", %{x: {tuples, maps}}) ==
             {put_leaf(tuples, "leaf"), put_leaf(maps, "leaf")}
  end

  test "a Python result nested 20,000 deep comes back whole" do
    deep = SnakeBridge.eval!("x = 'leaf'\nfor _ in range(20000):\n    x = [x, (1,)]\nx")
    depth = count_depth(deep, 0)
    assert depth == 20_000
  end

  test "a term that cannot be sent, 100,000 levels down, is refused naming its path" do
    deep = nest(100_000, &[&1]) |> put_leaf(self())

    assert {:error, %SnakeBridge.EncodeError{path: path, reason: "a pid has no Python form"}} =
             SnakeBridge.call("builtins", "len", [deep])

    assert path == "args[0]" <> String.duplicate("[0]", 100_000)
  end

  defp count_depth([inner, {1}], depth), do: count_depth(inner, depth + 1)
  defp count_depth("leaf", depth), do: depth

  # The atom :leaf crosses as the string "leaf".
  defp put_leaf(:leaf, leaf), do: leaf
  defp put_leaf([inner], leaf), do: [put_leaf(inner, leaf)]
  defp put_leaf({inner, 1}, leaf), do: {put_leaf(inner, leaf), 1}
  defp put_leaf(%{"k" => inner} = map, leaf), do: %{map | "k" => put_leaf(inner, leaf)}
end

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

defmodule SnakeBridge.CompatEvalTest do
  # eval compiles user code as a plain module would, in a module of its own.
  use ExUnit.Case, async: true

  test "annotations are objects: no __future__ leaks in from the engine" do
    assert SnakeBridge.eval!("class A:\n    x: int\nA.__annotations__['x'] is int") == true
    assert SnakeBridge.eval!("def f(a: list) -> int: pass\nf.__annotations__['a'] is list")
  end

  test "user code may still ask for string annotations itself" do
    code = "from __future__ import annotations\nclass A:\n    x: int\nA.__annotations__['x']"
    assert SnakeBridge.eval!(code) == "int"
  end

  test "classes get a real module, which pickle finds, in this call and later" do
    code = """
    import pickle
    class Point:
        def __init__(self, x):
            self.x = x
    p = Point(3)
    Point.__module__, pickle.loads(pickle.dumps(p)).x, p
    """

    {module, 3, point} = SnakeBridge.eval!(code)
    assert module =~ ~r/^snakebridge_eval_\d+$/
    assert point.type == module <> ".Point"
    copy = SnakeBridge.call!("pickle", "loads", [SnakeBridge.call!("pickle", "dumps", [point])])
    assert SnakeBridge.attr!(copy, "x") == 3
  end

  test "dataclasses resolve string annotations in the eval's module" do
    code = """
    from __future__ import annotations
    import dataclasses, typing
    @dataclasses.dataclass
    class Leaf:
        v: int
    @dataclasses.dataclass
    class Tree:
        left: Leaf
        right: typing.Optional[Tree] = None
    hints = typing.get_type_hints(Tree)
    hints['left'] is Leaf, Tree(Leaf(1)).left.v
    """

    assert SnakeBridge.eval!(code) == {true, 1}
  end

  test "each eval is a fresh namespace, and one that defines nothing is not kept" do
    assert SnakeBridge.eval!("x = 1\nx") == 1
    assert {:error, %SnakeBridge.PythonError{type: "NameError"}} = SnakeBridge.eval("x")

    kept? = fn name -> SnakeBridge.eval!("import sys\nn in sys.modules", %{n: name}) end

    refute kept?.(SnakeBridge.eval!("x = 1\n__name__"))

    assert kept?.(SnakeBridge.eval!("def f(): pass\n__name__"))
    assert kept?.(SnakeBridge.eval!("class C: pass\nC.__module__"))
  end
end

defmodule SnakeBridge.CompatExceptionTest do
  # PythonError.ref, and with_python handing __exit__ the original exception.
  use ExUnit.Case, async: true

  alias SnakeBridge.{PythonError, Ref, RefError}

  test "a PythonError carries a ref to the exception object, traceback cleared" do
    code = """
    class ValidationError(ValueError):
        def __init__(self, errors):
            super().__init__("invalid")
            self._errors = errors
        def errors(self):
            return self._errors
    def check():
        raise ValidationError([{"loc": ["x"], "msg": "field required"}])
    """

    check = SnakeBridge.eval!(code <> "check")
    assert {:error, %PythonError{ref: %Ref{} = exception} = error} = SnakeBridge.apply(check)
    assert error.traceback =~ "in check"

    assert SnakeBridge.method!(exception, "errors") == [
             %{"loc" => ["x"], "msg" => "field required"}
           ]

    assert SnakeBridge.attr!(exception, "__traceback__") == nil
    assert SnakeBridge.eval!("e.__class__.__name__", %{e: exception}) == "ValidationError"
  end

  test "chained exceptions are kept without their tracebacks" do
    code = """
    def convert():
        try:
            {}["missing"]
        except KeyError as exc:
            raise RuntimeError("lookup failed") from exc
    convert()
    """

    {:error, %PythonError{ref: exception}} = SnakeBridge.eval(code)

    assert SnakeBridge.eval!("repr(e.__cause__), e.__cause__.__traceback__", %{e: exception}) ==
             {"KeyError('missing')", nil}
  end

  test "the session keeps its last error only" do
    {:error, %PythonError{ref: first}} = SnakeBridge.call("math", "sqrt", [-1])
    assert SnakeBridge.method!(first, "__str__") == "math domain error"
    {:error, %PythonError{ref: second}} = SnakeBridge.call("math", "log", [0])
    assert {:error, %RefError{reason: :released}} = SnakeBridge.method(first, "__str__")
    assert SnakeBridge.method!(second, "__str__") == "math domain error"
  end

  test "with_python hands __exit__ the original exception: suppress(KeyError) works" do
    suppress =
      SnakeBridge.call!("contextlib", "suppress", [SnakeBridge.attr!("builtins", "KeyError")])

    dict = SnakeBridge.eval!("{}", %{}, return: :ref)

    assert SnakeBridge.with_python(suppress, fn _ -> SnakeBridge.get_item!(dict, "nope") end) ==
             nil

    other =
      SnakeBridge.call!("contextlib", "suppress", [SnakeBridge.attr!("builtins", "KeyError")])

    assert_raise PythonError, ~r/ZeroDivisionError/, fn ->
      SnakeBridge.with_python(other, fn _ -> SnakeBridge.eval!("1 / 0") end)
    end
  end

  test "a transaction manager sees the real error; Elixir failures stay ElixirError" do
    code = """
    class Tx:
        seen = []
        def __enter__(self):
            return self
        def __exit__(self, kind, value, tb):
            Tx.seen.append(None if kind is None else kind.__name__)
            return False
    Tx
    """

    tx_class = SnakeBridge.eval!(code)
    tx = SnakeBridge.apply!(tx_class)

    assert_raise PythonError, fn ->
      SnakeBridge.with_python(tx, fn _ -> SnakeBridge.call!("builtins", "int", ["x"]) end)
    end

    assert_raise RuntimeError, fn -> SnakeBridge.with_python(tx, fn _ -> raise "elixir" end) end
    assert SnakeBridge.with_python(tx, fn _ -> :ok end) == :ok
    assert SnakeBridge.attr!(tx_class, "seen") == ["ValueError", "ElixirError", nil]
  end
end

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

defmodule SnakeBridge.CompatStreamTest do
  # The stream rule: a batch ends right after an item that is not plain data, so an
  # iterator is never advanced past a live object before the consumer has taken it.
  use ExUnit.Case, async: true

  test "itertools.groupby: each group is read before the iterator moves on" do
    groups =
      SnakeBridge.call!("itertools", "groupby", ["AAB"])
      |> Enum.map(fn {k, g} -> {k, Enum.to_list(g)} end)

    assert groups == [{"A", ["A", "A"]}, {"B", ["B"]}]
  end

  test "groupby with a key over numbers, and a lazy Stream pipeline" do
    runs =
      SnakeBridge.call!("itertools", "groupby", [[1, 3, 2, 4, 5, 7, 6]], key: &rem(&1, 2))
      |> Stream.map(fn {parity, g} -> {parity, Enum.sum(g)} end)
      |> Enum.to_list()

    assert runs == [{1, 4}, {0, 6}, {1, 12}, {0, 6}]
  end

  test "an iterator handing out an object tied to its position (a cursor's row)" do
    code = """
    class Cursor:
        def __init__(self, n):
            self.n, self.row = n, None
        def __iter__(self):
            return self
        def __next__(self):
            if self.row is not None and self.row.value >= self.n:
                raise StopIteration
            self.row = Row(self, 0 if self.row is None else self.row.value + 1)
            return self.row
    class Row:
        def __init__(self, cursor, value):
            self.cursor, self.value = cursor, value
        def current(self):
            return self.cursor.row is self
    Cursor(4)
    """

    cursor = SnakeBridge.eval!(code)
    current = Enum.map(cursor, &SnakeBridge.method!(&1, "current"))
    assert current == [true, true, true, true, true]
  end

  test "plain data still streams in batches, and mixed items keep their order" do
    assert SnakeBridge.eval!("(i * i for i in range(5000))") |> Enum.sum() ==
             Enum.sum(for i <- 0..4999, do: i * i)

    mixed = SnakeBridge.eval!("(x for x in [1, object(), (2, 'a'), {'k': [3]}, object(), 4])")

    assert [1, %SnakeBridge.Ref{}, {2, "a"}, %{"k" => [3]}, %SnakeBridge.Ref{}, 4] =
             Enum.to_list(mixed)
  end

  test "tarfile members are read while the archive is at them" do
    dir = Path.join(System.tmp_dir!(), "sb_tar_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)

    for name <- ~w(a b c),
        do: File.write!(Path.join(dir, name <> ".txt"), String.duplicate(name, 3))

    tar_path = Path.join(dir, "x.tar")

    SnakeBridge.eval!(
      "import tarfile, os\nwith tarfile.open(p, 'w') as t:\n    for n in 'abc':\n        t.add(os.path.join(d, n + '.txt'), arcname=n + '.txt')",
      %{p: tar_path, d: dir}
    )

    tar = SnakeBridge.call!("tarfile", "open", [tar_path])

    contents =
      Enum.map(tar, fn member ->
        file = SnakeBridge.method!(tar, "extractfile", [member])
        SnakeBridge.method!(file, "read").data
      end)

    assert contents == ["aaa", "bbb", "ccc"]
  end
end
