%{
  call_ns: %{max: 628_267, median: 13280, min: 12548, n: 40000, p99: 24396},
  codec_roundtrip_ns: 2205,
  command: "taskset -c 0 mix run bench/latency.exs",
  floor_ns: %{max: 75032, median: 8302, min: 7862, n: 40000, p99: 9594},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  ratio_median: 1.6
}
