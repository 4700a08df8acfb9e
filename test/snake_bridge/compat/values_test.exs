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
