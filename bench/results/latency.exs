%{
  call_ns: %{max: 586_004, median: 12859, min: 12008, n: 40000, p99: 19109},
  codec_roundtrip_ns: 2217,
  command: "taskset -c 0 mix run bench/latency.exs",
  floor_ns: %{max: 68031, median: 8282, min: 7741, n: 40000, p99: 8973},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  ratio_median: 1.553
}
