# Callbacks: one call in which Python invokes an Elixir identity function 10,000 times,
# in µs per callback round trip, against the plain-call latency of
# SnakeBridge.call("math", "sqrt", [16]) measured in the same run, pinned to one CPU:
#
#     taskset -c 0 mix run bench/callbacks.exs
#
# Samples are interleaved (a block of callback calls, a block of plain calls, …) so
# both see the same machine state. Goal: callback round trip ≤ 2× the plain call.
Code.require_file("bench_helper.exs", __DIR__)

callbacks = 10_000

loop =
  SnakeBridge.eval!("def loop(f, n):\n    for i in range(n):\n        f(i)\n    return n\nloop")

identity = fn x -> x end
plain = fn -> {:ok, 4.0} = SnakeBridge.call("math", "sqrt", [16]) end

with_callbacks = fn ->
  {:ok, ^callbacks} = SnakeBridge.call(loop, "__call__", [identity, callbacks])
end

for _ <- 1..5_000, do: plain.()
for _ <- 1..5, do: with_callbacks.()

# 30 blocks, each: one call of 10,000 callbacks, then 1,000 plain calls.
{callback_ns, plain_ns} =
  Enum.reduce(1..30, {[], []}, fn _, {callback_ns, plain_ns} ->
    one = BenchHelper.time_ns(with_callbacks) / callbacks
    block = for _ <- 1..1_000, do: BenchHelper.time_ns(plain)
    {[one | callback_ns], block ++ plain_ns}
  end)

per_callback = BenchHelper.summary(callback_ns)
call = BenchHelper.summary(plain_ns)
ratio = Float.round(per_callback.median / call.median, 3)

# Where the time goes: CPU per round trip of the VM and of the worker (schedstat), for
# a callback and for a plain call. The worker is the session's, where both run.
worker_pid = SnakeBridge.eval!("import os\nos.getpid()")
cpu_callback = BenchHelper.cpu_per_run(with_callbacks, worker_pid, 5)
cpu_callback = Map.new(cpu_callback, fn {side, ns} -> {side, div(ns, callbacks)} end)
cpu_call = BenchHelper.cpu_per_run(plain, worker_pid, 20_000)

IO.puts("""
callback round trip (#{callbacks} in one call): median #{BenchHelper.us(per_callback.median)} µs
plain call math.sqrt:                   median #{BenchHelper.us(call.median)} µs  p99 #{BenchHelper.us(call.p99)} µs
ratio callback / plain call:            #{ratio}   (goal ≤ 2)
CPU per round trip (schedstat), BEAM / Python:
  callback    #{BenchHelper.us(cpu_callback.beam)} / #{BenchHelper.us(cpu_callback.python)} µs
  plain call  #{BenchHelper.us(cpu_call.beam)} / #{BenchHelper.us(cpu_call.python)} µs
""")

BenchHelper.record("callbacks", %{
  command: "taskset -c 0 mix run bench/callbacks.exs",
  machine: BenchHelper.machine(),
  workload: "Python `for i in range(10000): f(i)` with f = fn x -> x end, one call",
  callback_round_trip_ns: Map.new(per_callback, fn {k, v} -> {k, round(v)} end),
  plain_call_ns: call,
  ratio_median: ratio,
  cpu_per_callback_ns: cpu_callback,
  cpu_per_call_ns: cpu_call,
  goal_ratio: 2.0,
  goal_met: ratio <= 2.0
})
