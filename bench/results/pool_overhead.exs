%{
  api_ns: %{max: 297_443, median: 15363, min: 14201, n: 40000, p99: 22674},
  command: "taskset -c 0 mix run bench/pool_overhead.exs",
  direct_ns: %{max: 929_106, median: 15052, min: 13990, n: 40000, p99: 26750},
  floor_ns: %{max: 94801, median: 8303, min: 7761, n: 40000, p99: 9945},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  pool_ns: %{max: 947_954, median: 15293, min: 14192, n: 40000, p99: 22654},
  ratio_direct_floor: 1.813,
  ratio_pool_direct: 1.016,
  ratio_pool_floor: 1.842
}
