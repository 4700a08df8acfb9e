%{
  call_ns: %{max: 452_625, median: 12158, min: 11887, n: 40000, p99: 15152},
  codec_roundtrip_ns: 2182,
  command: "taskset -c 0 mix run bench/latency.exs",
  floor_ns: %{max: 139_798, median: 7912, min: 7721, n: 40000, p99: 8493},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  ratio_median: 1.537
}
