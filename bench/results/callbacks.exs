%{
  callback_round_trip_ns: %{
    max: 17132,
    median: 16884,
    min: 16266,
    n: 30,
    p99: 17132
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
  plain_call_ns: %{max: 339_266, median: 15713, min: 14562, n: 30000, p99: 22373},
  ratio_median: 1.075,
  workload: "Python `for i in range(10000): f(i)` with f = fn x -> x end, one call"
}
