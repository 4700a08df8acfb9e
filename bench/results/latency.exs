%{
  call_ns: %{max: 667_465, median: 13180, min: 12549, n: 40000, p99: 21883},
  codec_roundtrip_ns: 2250,
  command: "taskset -c 0 mix run bench/latency.exs",
  floor_ns: %{max: 70996, median: 8192, min: 7862, n: 40000, p99: 9354},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  ratio_median: 1.609
}
