%{
  call_ns: %{max: 504_873, median: 12608, min: 12248, n: 40000, p99: 17947},
  codec_roundtrip_ns: 2182,
  command: "taskset -c 0 mix run bench/latency.exs",
  floor_ns: %{max: 49273, median: 7871, min: 7672, n: 40000, p99: 8683},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  ratio_median: 1.602
}
