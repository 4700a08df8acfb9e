%{
  call_ns: %{max: 546_556, median: 13189, min: 12569, n: 40000, p99: 23465},
  codec_roundtrip_ns: 2219,
  command: "taskset -c 0 mix run bench/latency.exs",
  floor_ns: %{max: 90715, median: 8252, min: 7821, n: 40000, p99: 9495},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  ratio_median: 1.598
}
