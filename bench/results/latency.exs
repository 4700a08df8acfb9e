%{
  call_ns: %{max: 469_460, median: 12268, min: 11968, n: 40000, p99: 16575},
  codec_roundtrip_ns: 2193,
  command: "taskset -c 0 mix run bench/latency.exs",
  floor_ns: %{max: 45738, median: 7922, min: 7711, n: 40000, p99: 8502},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  ratio_median: 1.549
}
