# Streaming: a Python generator of 1,000,000 ints consumed with Enum.reduce, in items/s,
# in one run, pinned to one CPU:
#
#     taskset -c 0 mix run bench/streaming.exs
#
# 1. the default batching (:auto: 32 items, growing fourfold per round trip to 8192);
# 2. fixed batches of 64 and 8192, to show what the batch size buys;
# 3. batch: 1, one round trip per item (the RPyC/Pyro5 design), on 20,000 items.
# The cases run interleaved, one repetition of each in turn, so that the machine's
# drift hits them alike (run one after the other, two equal cases read 3.0 and 5.0 M
# items/s on a noisy host). Goal: ≥ 1,000,000 items/s with the default.
Code.require_file("bench_helper.exs", __DIR__)

defmodule StreamingBench do
  @generator "def g(n):\n    yield from range(n)\ng(n)"

  # Items per second of one generator of n ints summed through SnakeBridge.stream/2.
  def run(n, batch) do
    gen = SnakeBridge.eval!(@generator, %{n: n})

    ns =
      BenchHelper.time_ns(fn ->
        sum = gen |> SnakeBridge.stream(batch: batch) |> Enum.reduce(0, &+/2)
        sum == div(n * (n - 1), 2) || raise "wrong sum #{sum}"
      end)

    SnakeBridge.release(gen)
    n / (ns / 1.0e9)
  end
end

n = 1_000_000

cases = [
  {"auto", n, :auto, 15},
  {"batch 8192", n, 8192, 15},
  {"batch 64", n, 64, 5},
  {"batch 1", 20_000, 1, 5}
]

for {_label, items, batch, _reps} <- cases, do: StreamingBench.run(items, batch)
rounds = cases |> Enum.map(&elem(&1, 3)) |> Enum.max()

rates =
  Enum.reduce(1..rounds, %{}, fn round, acc ->
    for {label, items, batch, reps} <- cases, round <= reps, reduce: acc do
      acc ->
        rate = StreamingBench.run(items, batch)
        Map.update(acc, label, [rate], &[rate | &1])
    end
  end)

results =
  for {label, items, batch, reps} <- cases do
    rate = BenchHelper.summary(rates[label]).median
    IO.puts("#{String.pad_trailing(label, 11)} #{items} items: #{round(rate)} items/s")
    {label, %{items: items, batch: batch, items_per_s: round(rate), reps: reps}}
  end
  |> Map.new()

auto = results["auto"].items_per_s
IO.puts("default batching: #{auto} items/s (goal ≥ 1,000,000)")

BenchHelper.record("streaming", %{
  command: "taskset -c 0 mix run bench/streaming.exs",
  machine: BenchHelper.machine(),
  workload: "Enum.reduce(&+/2) over a Python generator `yield from range(n)`",
  results: results,
  goal_items_per_s: 1_000_000,
  goal_met: auto >= 1_000_000
})
