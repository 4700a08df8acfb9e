%{
  callback_round_trip_ns: %{
    max: 16411,
    median: 16090,
    min: 15511,
    n: 30,
    p99: 16411
  },
  command: "taskset -c 0 mix run bench/callbacks.exs",
  goal_met: true,
  goal_ratio: 2.0,
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  plain_call_ns: %{max: 57266, median: 12038, min: 11347, n: 30000, p99: 14531},
  ratio_median: 1.337,
  workload: "Python `for i in range(10000): f(i)` with f = fn x -> x end, one call"
}
