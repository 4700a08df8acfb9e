%{
  call_ns: %{max: 368_049, median: 11977, min: 11497, n: 40000, p99: 20510},
  codec_roundtrip_ns: 2240,
  command: "taskset -c 0 mix run bench/latency.exs",
  floor_ns: %{max: 82883, median: 8342, min: 8042, n: 40000, p99: 9244},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  ratio_median: 1.436
}
