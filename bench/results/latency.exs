%{
  call_ns: %{max: 495_800, median: 12939, min: 12178, n: 40000, p99: 16885},
  codec_roundtrip_ns: 2118,
  command: "taskset -c 0 mix run bench/latency.exs",
  floor_ns: %{max: 176_483, median: 8242, min: 7722, n: 40000, p99: 9454},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  ratio_median: 1.57
}
