# Generated wrapper vs the equivalent dynamic call, in one run, pinned to one CPU:
#
#     taskset -c 0 mix run bench/wrappers.exs
#
# The wrappers are generated here, by the real pipeline (introspection, API data,
# emitter), for math.sqrt and builtins.round, and compiled in memory. Interleaved
# blocks of:
# 1. floor: a 20-byte frame echoed by a minimal Python loop on fds 3/4;
# 2. SnakeBridge.call("math", "sqrt", [16])  vs  Py.Math.sqrt(16);
# 3. SnakeBridge.call("builtins", "round", [2.5], ndigits: 0)  vs
#    Py.Builtins.round_(2.5, ndigits: 0)  (the option split and key check).
Code.require_file("bench_helper.exs", __DIR__)

alias SnakeBridge.Gen.{API, Emitter, Introspector}

tools = Path.join(Path.dirname(Mix.Project.build_path()), "snakebridge_tools")

for {module, only} <- [{"math", ["sqrt"]}, {"builtins", ["round"]}] do
  {:ok, text} = Introspector.introspect(module, only, tools)
  {:ok, api} = API.parse(text, module)
  for {_path, source} <- Emitter.files(api, "Py", module), do: Code.compile_string(source)
end

python = BenchHelper.python()
echo = BenchHelper.open_echo(python)
payload = :binary.copy("x", 20)

cases = [
  floor: fn -> BenchHelper.echo(echo, payload) end,
  sqrt_dynamic: fn -> {:ok, 4.0} = SnakeBridge.call("math", "sqrt", [16]) end,
  sqrt_wrapper: fn -> {:ok, 4.0} = apply(Py.Math, :sqrt, [16]) end,
  round_dynamic: fn -> {:ok, 2.0} = SnakeBridge.call("builtins", "round", [2.5], ndigits: 0) end,
  round_wrapper: fn -> {:ok, 2.0} = apply(Py.Builtins, :round_, [2.5, [ndigits: 0]]) end
]

for _ <- 1..3_000, {_, fun} <- cases, do: fun.()

samples = BenchHelper.interleaved(cases, 40, 1_000)
stats = Map.new(samples, fn {name, list} -> {name, BenchHelper.summary(list)} end)
ratio = fn a, b -> Float.round(stats[a].median / stats[b].median, 3) end

IO.puts("""
raw port echo, 20 B:                 median #{BenchHelper.us(stats.floor.median)} µs
SnakeBridge.call math.sqrt:          median #{BenchHelper.us(stats.sqrt_dynamic.median)} µs
Py.Math.sqrt:                        median #{BenchHelper.us(stats.sqrt_wrapper.median)} µs
SnakeBridge.call round(ndigits: 0):  median #{BenchHelper.us(stats.round_dynamic.median)} µs
Py.Builtins.round_(ndigits: 0):      median #{BenchHelper.us(stats.round_wrapper.median)} µs
wrapper / dynamic: sqrt #{ratio.(:sqrt_wrapper, :sqrt_dynamic)}, round #{ratio.(:round_wrapper, :round_dynamic)}   (goal ≤ 1.05)
dynamic / floor: sqrt #{ratio.(:sqrt_dynamic, :floor)}
""")

BenchHelper.record("wrappers", %{
  command: "taskset -c 0 mix run bench/wrappers.exs",
  machine: BenchHelper.machine(),
  ns: stats,
  ratio_wrapper_dynamic_sqrt: ratio.(:sqrt_wrapper, :sqrt_dynamic),
  ratio_wrapper_dynamic_round_kwargs: ratio.(:round_wrapper, :round_dynamic),
  ratio_dynamic_floor_sqrt: ratio.(:sqrt_dynamic, :floor),
  note: "measured while three other agents shared the 2 vCPUs"
})
