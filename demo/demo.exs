# SnakeBridge demo: the standard library, numpy, pandas and sympy from Elixir.
# Run with `scripts/demo` (or `mix run demo/demo.exs` once set up).

section = fn title -> IO.puts("\n== " <> title) end

section.("stdlib: plain data crosses by value, exactly")
IO.inspect(SnakeBridge.call!("math", "sqrt", [16]), label: "math.sqrt(16)")
IO.inspect(SnakeBridge.call!("math", "factorial", [30]), label: "math.factorial(30)")
IO.inspect(SnakeBridge.call!("os.path", "join", ["priv", "python"]), label: "os.path.join")
IO.inspect(SnakeBridge.call!("json", "loads", [~s({"a": [1, 2.5, null]})]), label: "json.loads")

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
matrix = SnakeBridge.call!("numpy", "arange", [6.0]) |> SnakeBridge.method!("reshape", [2, 3])
IO.inspect(matrix, label: "ndarray")
IO.inspect(SnakeBridge.attr!(matrix, "shape"), label: "shape")
IO.inspect(SnakeBridge.method!(matrix, "sum"), label: "sum")
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
x = SnakeBridge.call!("sympy", "Symbol", ["x"])
integral = SnakeBridge.eval!("import sympy\nsympy.integrate(sympy.sin(x) * x, x)", %{"x" => x})
IO.puts("∫ x·sin(x) dx = #{integral}")
IO.puts("d/dx of that = #{SnakeBridge.call!("sympy", "diff", [integral, x])}")

section.("errors are structs")
{:error, error} = SnakeBridge.call("math", "sqrt", [-1])
IO.puts(Exception.message(error))
