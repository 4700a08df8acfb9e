%{
  call_ns: %{max: 502_710, median: 12219, min: 11867, n: 40000, p99: 16785},
  codec_roundtrip_ns: 2128,
  command: "taskset -c 0 mix run bench/latency.exs",
  floor_ns: %{max: 209_242, median: 8052, min: 7841, n: 40000, p99: 9454},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  ratio_median: 1.518
}
