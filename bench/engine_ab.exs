# Two engine trees side by side in one VM: pool :base runs the workers from
# BASE/priv/python, pool :here from this tree, and the same workloads (a callback round
# trip, a plain call) run on each in turn, paired round by round, pinned to one CPU:
#
#     mkdir -p /tmp/base && git archive REV priv/python | tar -x -C /tmp/base
#     BASE=/tmp/base taskset -c 0 mix run bench/engine_ab.exs
#
# A change to the Python engine is read as here − base. The two pools differ in more than
# their code (start order, memory layout), so the same run with BASE set to this tree
# (an A/A) gives the bias to read that difference against.
Code.require_file("bench_helper.exs", __DIR__)

base = System.get_env("BASE") || raise "set BASE to a tree holding the base's priv/python"

File.dir?(Path.join(base, "priv/python/snakebridge")) ||
  raise "no engine in #{Path.join(base, "priv/python")}"

{base_python, 0} = System.cmd("realpath", [Path.join(base, "priv/python")])
base_python = String.trim(base_python)

{:ok, _} = SnakeBridge.Pool.start_link(name: :base, size: 1, env: [{"PYTHONPATH", base_python}])
{:ok, _} = SnakeBridge.Pool.start_link(name: :here, size: 1)

engine_dir = fn pool ->
  SnakeBridge.eval!(
    "import os, snakebridge\nos.path.dirname(os.path.dirname(os.path.realpath(snakebridge.__file__)))",
    %{},
    pool: pool
  )
end

here_python = engine_dir.(:here)
^base_python = engine_dir.(:base)

callbacks = 2_000
calls = 200
source = "def loop(f, n):\n    for i in range(n):\n        f(i)\n    return n\nloop"
loops = Map.new([:base, :here], &{&1, SnakeBridge.eval!(source, %{}, pool: &1)})
identity = fn x -> x end

# Each sample is a block (one call of `callbacks` callbacks, or `calls` calls), timed
# whole and divided: a block that starts cold after the other pool's costs its first
# call only, spread over the block.
workloads = %{
  callback:
    {callbacks,
     fn pool ->
       {:ok, ^callbacks} = SnakeBridge.call(loops[pool], "__call__", [identity, callbacks])
     end},
  call:
    {calls,
     fn pool ->
       for _ <- 1..calls, do: {:ok, 4.0} = SnakeBridge.call("math", "sqrt", [16], [], pool: pool)
     end}
}

for {_, {_, run}} <- workloads, pool <- [:base, :here], _ <- 1..3, do: run.(pool)

# Rounds: each workload's block on each pool, the order of the pools flipped every
# other round, so that neither always runs right after the other.
rounds =
  for round <- 1..40 do
    order = if rem(round, 2) == 0, do: [:base, :here], else: [:here, :base]

    for {workload, {n, run}} <- workloads, pool <- order, into: %{} do
      {{workload, pool}, BenchHelper.time_ns(fn -> run.(pool) end) / n}
    end
  end

summary = fn workload ->
  here_minus_base = &(&1[{workload, :here}] - &1[{workload, :base}])

  %{
    base: round(BenchHelper.paired_median(rounds, {workload, :base})),
    here: round(BenchHelper.paired_median(rounds, {workload, :here})),
    here_minus_base:
      round(BenchHelper.paired_median(rounds, {workload, :here}, {workload, :base})),
    here_lower_in_rounds: Enum.count(rounds, &(here_minus_base.(&1) < 0))
  }
end

result = %{callback_round_trip_ns: summary.(:callback), call_ns: summary.(:call)}

IO.puts("""
base: #{base_python}
here: #{here_python}
callback round trip: base #{BenchHelper.us(result.callback_round_trip_ns.base)} µs, \
here #{BenchHelper.us(result.callback_round_trip_ns.here)} µs, \
here − base #{BenchHelper.us(result.callback_round_trip_ns.here_minus_base)} µs (paired)
plain call:          base #{BenchHelper.us(result.call_ns.base)} µs, \
here #{BenchHelper.us(result.call_ns.here)} µs, \
here − base #{BenchHelper.us(result.call_ns.here_minus_base)} µs (paired)
""")

name = if base_python == here_python, do: "engine_aa", else: "engine_ab"

BenchHelper.record(name, %{
  command: "BASE=#{base} taskset -c 0 mix run bench/engine_ab.exs",
  machine: BenchHelper.machine(),
  base: base_python,
  here: here_python,
  rounds: length(rounds),
  result: result
})
