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
  one_worker_calls_per_s: 528.7,
  one_worker_round_ns: %{
    max: 386_678_086,
    median: 378_305_818,
    min: 360_930_324,
    n: 10,
    p99: 386_678_086
  },
  processes: 8,
  single_call_ns: %{
    max: 1_976_027,
    median: 1_859_534,
    min: 1_818_162,
    n: 50,
    p99: 1_976_027
  },
  speedup: 1.924,
  two_workers_calls_per_s: 1017.0,
  two_workers_round_ns: %{
    max: 204_986_345,
    median: 196_666_414,
    min: 187_397_320,
    n: 10,
    p99: 204_986_345
  },
  work: "sum(range(200000))"
}
