%{
  calls_per_round: 200,
  command: "mix run bench/throughput.exs",
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 2,
    otp: "25",
    python: "3.11.7"
  },
  one_worker_calls_per_s: 546.4,
  one_worker_round_ns: %{
    max: 374_201_016,
    median: 366_010_530,
    min: 346_060_754,
    n: 10,
    p99: 374_201_016
  },
  processes: 8,
  single_call_ns: %{
    max: 2_543_894,
    median: 1_928_426,
    min: 1_817_150,
    n: 50,
    p99: 2_543_894
  },
  speedup: 1.821,
  two_workers_calls_per_s: 995.1,
  two_workers_round_ns: %{
    max: 208_354_419,
    median: 200_989_062,
    min: 188_894_233,
    n: 10,
    p99: 208_354_419
  },
  work: "sum(range(200000))"
}
