%{
  call_ns: %{max: 564_011, median: 12439, min: 11918, n: 40000, p99: 19048},
  codec_roundtrip_ns: 2220,
  command: "taskset -c 0 mix run bench/latency.exs",
  floor_ns: %{max: 49734, median: 8032, min: 7701, n: 40000, p99: 8683},
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
