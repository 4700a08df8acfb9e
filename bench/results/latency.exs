%{
  call_ns: %{max: 333_797, median: 14472, min: 13800, n: 40000, p99: 24146},
  codec_roundtrip_ns: 3293,
  command: "taskset -c 0 mix run bench/latency.exs",
  floor_ns: %{max: 150_275, median: 8453, min: 8062, n: 40000, p99: 9955},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  ratio_median: 1.712
}
