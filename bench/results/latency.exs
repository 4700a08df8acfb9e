%{
  call_ns: %{max: 584_342, median: 13280, min: 12498, n: 40000, p99: 20430},
  codec_roundtrip_ns: 2131,
  command: "taskset -c 0 mix run bench/latency.exs",
  floor_ns: %{max: 56214, median: 8202, min: 7771, n: 40000, p99: 8933},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  ratio_median: 1.619
}
