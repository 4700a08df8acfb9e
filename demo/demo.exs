# SnakeBridge demo: the standard library, numpy, pandas and sympy from Elixir.
# Run with `scripts/demo` (or `mix run demo.exs` in demo/ once set up). demo/mix.exs
# declares the Python modules used here as generated wrappers (Py.Json, Py.Numpy, ...);
# everything else goes through the dynamic API (SnakeBridge.call/5 and friends).

section = fn title -> IO.puts("\n== " <> title) end

section.("generated wrappers: Python modules as Elixir modules (see mix.exs)")
IO.inspect(Py.Json.loads!(~s({"a": [1, 2.5, null]})), label: "Py.Json.loads!")
IO.inspect(Py.Json.dumps!(%{"b" => 1}, indent: 2), label: "Py.Json.dumps!(indent: 2)")

IO.inspect(Py.Numpy.mean!([[1, 2], [3, 4]], axis: 0) |> SnakeBridge.to_elixir!(),
  label: "Py.Numpy.mean!(axis: 0)"
)

counter = Py.Collections.Counter.new!(["a", "b", "a"])
IO.inspect(Py.Collections.Counter.most_common!(counter, 1), label: "Counter.most_common!(1)")

IO.inspect(Py.Itertools.count!(10) |> Enum.take(3),
  label: "Py.Itertools.count!(10)",
  charlists: :as_lists
)

{:error, error} = Py.Json.loads("[1,")

IO.puts(
  "Py.Json.loads(\"[1,\") -> {:error, #{inspect(error.__struct__)}}: #{Exception.message(error)}"
)

{:docs_v1, _, _, _, _, _, docs} = Code.fetch_docs(Py.Numpy)

{_, _, _, %{"en" => mean_doc}, _} =
  Enum.find(docs, &match?({{:function, :mean, 2}, _, _, _, _}, &1))

IO.puts(
  "h Py.Numpy.mean starts with:\n" <>
    (mean_doc |> String.split("\n") |> Enum.take(5) |> Enum.join("\n"))
)

section.("stdlib: plain data crosses by value, exactly")
IO.inspect(SnakeBridge.call!("math", "sqrt", [16]), label: "math.sqrt(16)")
IO.inspect(SnakeBridge.call!("math", "factorial", [30]), label: "math.factorial(30)")
IO.inspect(SnakeBridge.call!("os.path", "join", ["priv", "python"]), label: "os.path.join")

IO.inspect(
  SnakeBridge.call!("hashlib", "sha256", [SnakeBridge.bytes("abc")])
  |> SnakeBridge.method!("hexdigest"),
  label: "sha256"
)

section.("auto-refs: everything else is a handle you can chain")
counter = SnakeBridge.call!("collections", "Counter", ["abracadabra"])
IO.inspect(counter, label: "Counter")
IO.inspect(SnakeBridge.method!(counter, "most_common", [2]), label: "most_common(2)")
IO.inspect(counter["a"], label: ~s(counter["a"]))

section.("Elixir functions as Python callbacks")

IO.inspect(SnakeBridge.call!("builtins", "sorted", [["bb", "a", "ccc"]], key: &String.length/1),
  label: "sorted(key=String.length)"
)

section.("generators are lazy streams")

SnakeBridge.call!("itertools", "count", [10])
|> Stream.map(&(&1 * &1))
|> Enum.take(5)
|> IO.inspect(label: "itertools.count(10) squared, first 5")

section.("numpy")
matrix = Py.Numpy.arange!(6.0) |> Py.Numpy.Ndarray.reshape!([2, 3])
IO.inspect(matrix, label: "ndarray")
IO.inspect(Py.Numpy.Ndarray.shape!(matrix), label: "shape")
IO.inspect(Py.Numpy.Ndarray.sum!(matrix), label: "sum")
{:ok, array} = SnakeBridge.Array.from_ref(matrix)
IO.inspect({array.dtype, array.shape, byte_size(array.data)}, label: "as SnakeBridge.Array")

section.("pandas")

frame =
  SnakeBridge.call!("pandas", "DataFrame", [
    %{"city" => ["Oslo", "Lima", "Pune"], "temp" => [3.5, 19.0, 31.2]}
  ])

IO.puts("describe():\n#{SnakeBridge.method!(frame, "describe")}")
IO.inspect(SnakeBridge.to_elixir!(frame["city"]), label: ~s(frame["city"]))

section.("sympy")
x = Py.Sympy.Symbol.new!("x")
product = SnakeBridge.eval!("import sympy\nx * sympy.sin(x)", %{"x" => x})
# sympy.integrate(*args, ...) and sympy.diff(f, *symbols): *args is a list argument.
integral = Py.Sympy.integrate!([product, x])
IO.puts("∫ x·sin(x) dx = #{integral}")
IO.puts("d/dx of that = #{Py.Sympy.diff!(integral, [x])}")
IO.puts("expand((x + 1)**2) = #{Py.Sympy.expand!(SnakeBridge.eval!("(x + 1)**2", %{"x" => x}))}")

section.("errors are structs")
{:error, error} = SnakeBridge.call("math", "sqrt", [-1])
IO.puts(Exception.message(error))
