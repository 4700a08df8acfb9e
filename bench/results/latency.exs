%{
  call_ns: %{max: 386_126, median: 11748, min: 11387, n: 40000, p99: 14141},
  codec_roundtrip_ns: 2333,
  command: "taskset -c 0 mix run bench/latency.exs",
  floor_ns: %{max: 160_078, median: 8133, min: 7901, n: 40000, p99: 9384},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  ratio_median: 1.444
}
