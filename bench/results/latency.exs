%{
  call_ns: %{max: 325_436, median: 14362, min: 13660, n: 40000, p99: 21492},
  codec_roundtrip_ns: 2192,
  command: "taskset -c 0 mix run bench/latency.exs",
  floor_ns: %{max: 149_864, median: 8453, min: 7981, n: 40000, p99: 10616},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  ratio_median: 1.699
}
