%{
  api_ns: %{max: 1_171_397, median: 12058, min: 11327, n: 40000, p99: 14241},
  command: "taskset -c 0 mix run bench/pool_overhead.exs",
  direct_ns: %{max: 578_533, median: 11788, min: 11136, n: 40000, p99: 23656},
  floor_ns: %{max: 41492, median: 8363, min: 7911, n: 40000, p99: 9084},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  pool_ns: %{max: 1_272_689, median: 12008, min: 11326, n: 40000, p99: 13871},
  ratio_direct_floor: 1.41,
  ratio_pool_direct: 1.019,
  ratio_pool_floor: 1.436
}
