%{
  call_ns: %{max: 599_264, median: 12478, min: 11978, n: 40000, p99: 16405},
  codec_roundtrip_ns: 2186,
  command: "taskset -c 0 mix run bench/latency.exs",
  floor_ns: %{max: 180_579, median: 8102, min: 7841, n: 40000, p99: 8893},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  ratio_median: 1.54
}
