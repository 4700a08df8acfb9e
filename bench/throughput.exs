# Pool scaling: a CPU-bound Python function driven by 8 concurrent Elixir processes,
# with 1 worker vs 2 workers, in one run. Not pinned: it needs both cores.
#
#     mix run bench/throughput.exs
#
# Each round starts 8 fresh processes (so each gets a session, and so a worker, of its
# own) that each make @calls calls of sum(range(200000)); rounds alternate between the
# pools (A B A B …). Goal: 2 workers ≥ 1.7× the throughput of 1 worker on 2 cores.
Code.require_file("bench_helper.exs", __DIR__)

processes = 8
calls = 25
rounds = 10
code = "sum(range(200000))"
expected = div(199_999 * 200_000, 2)

for {name, size} <- [bench_one: 1, bench_two: 2] do
  {:ok, _} = SnakeBridge.Pool.start_link(name: name, size: size, timeout: :infinity)
end

round = fn pool ->
  BenchHelper.time_ns(fn ->
    1..processes
    |> Enum.map(fn _ ->
      Task.async(fn ->
        for _ <- 1..calls, do: {:ok, ^expected} = SnakeBridge.eval(code, %{}, pool: pool)
      end)
    end)
    |> Task.await_many(:infinity)
  end)
end

# Warm-up; also waits for both pools' workers.
for _ <- 1..2, pool <- [:bench_one, :bench_two], do: round.(pool)

samples =
  Enum.reduce(1..rounds, %{bench_one: [], bench_two: []}, fn _, acc ->
    Enum.reduce([:bench_one, :bench_two], acc, fn pool, acc ->
      Map.update!(acc, pool, &[round.(pool) | &1])
    end)
  end)

per_round = processes * calls
stats = Map.new(samples, fn {pool, ns} -> {pool, BenchHelper.summary(ns)} end)
rate = fn pool -> Float.round(per_round / (stats[pool].median / 1.0e9), 1) end
speedup = Float.round(stats.bench_one.median / stats.bench_two.median, 3)

single_ns =
  BenchHelper.summary(
    for _ <- 1..50,
        do: BenchHelper.time_ns(fn -> SnakeBridge.eval(code, %{}, pool: :bench_one) end)
  )

IO.puts("""
one call of #{code}, alone:  median #{Float.round(single_ns.median / 1.0e6, 2)} ms
1 worker:  median #{Float.round(stats.bench_one.median / 1.0e6, 1)} ms per round of #{per_round} calls (#{rate.(:bench_one)} calls/s)
2 workers: median #{Float.round(stats.bench_two.median / 1.0e6, 1)} ms per round of #{per_round} calls (#{rate.(:bench_two)} calls/s)
2 workers / 1 worker: #{speedup}×   (goal ≥ 1.7 on 2 cores)
""")

BenchHelper.record("throughput", %{
  command: "mix run bench/throughput.exs",
  machine: BenchHelper.machine(),
  work: code,
  processes: processes,
  calls_per_round: per_round,
  single_call_ns: single_ns,
  one_worker_round_ns: stats.bench_one,
  two_workers_round_ns: stats.bench_two,
  one_worker_calls_per_s: rate.(:bench_one),
  two_workers_calls_per_s: rate.(:bench_two),
  speedup: speedup
})
