# What the pool adds to a trivial call, in one run, pinned to one CPU:
#
#     taskset -c 0 mix run bench/pool_overhead.exs
#
# 1. floor: a 20-byte frame echoed by a minimal Python loop on fds 3/4;
# 2. direct: the call frame for math.sqrt(16) sent straight to this process's worker
#    (SnakeBridge.Call.__direct__/4: the worker, its pool's facts and the session
#    resolved once, up front);
# 3. pool: the same frame through SnakeBridge.Call.request/4, which routes it on
#    every call (pool lookup, session, worker entry and incarnation check, queue limit);
# 4. api: SnakeBridge.call("math", "sqrt", [16]), which also scans the arguments.
#
# Goal: pool / direct ≤ 1.1.
Code.require_file("bench_helper.exs", __DIR__)

alias SnakeBridge.Call

python = BenchHelper.python()
echo = BenchHelper.open_echo(python)
payload = :binary.copy("x", 20)
body = {"math", "sqrt", [16], []}
route = Call.__route__(:default)

cases = [
  floor: fn -> BenchHelper.echo(echo, payload) end,
  direct: fn -> {:ok, 4.0} = Call.__direct__(:call, body, route, []) end,
  pool: fn -> {:ok, 4.0} = Call.request(:call, body, nil, []) end,
  api: fn -> {:ok, 4.0} = SnakeBridge.call("math", "sqrt", [16]) end
]

for _ <- 1..5_000, {_, run} <- cases, do: run.()

samples = BenchHelper.interleaved(cases, 40, 1_000)
stats = Map.new(samples, fn {name, ns} -> {name, BenchHelper.summary(ns)} end)
ratio = fn a, b -> Float.round(stats[a].median / stats[b].median, 3) end

line = fn name, label ->
  "#{String.pad_trailing(label, 34)} median #{BenchHelper.us(stats[name].median)} µs  " <>
    "p99 #{BenchHelper.us(stats[name].p99)} µs"
end

IO.puts("""
#{line.(:floor, "raw port echo, 20 B:")}
#{line.(:direct, "math.sqrt(16), straight to worker:")}
#{line.(:pool, "math.sqrt(16), through the pool:")}
#{line.(:api, "SnakeBridge.call math.sqrt:")}
pool / direct: #{ratio.(:pool, :direct)}   (goal ≤ 1.1)
direct / floor: #{ratio.(:direct, :floor)}, pool / floor: #{ratio.(:pool, :floor)}
""")

BenchHelper.record("pool_overhead", %{
  command: "taskset -c 0 mix run bench/pool_overhead.exs",
  machine: BenchHelper.machine(),
  floor_ns: stats.floor,
  direct_ns: stats.direct,
  pool_ns: stats.pool,
  api_ns: stats.api,
  ratio_pool_direct: ratio.(:pool, :direct),
  ratio_direct_floor: ratio.(:direct, :floor),
  ratio_pool_floor: ratio.(:pool, :floor)
})
