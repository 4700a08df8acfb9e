%{
  call_ns: %{max: 678_512, median: 13300, min: 12528, n: 40000, p99: 21051},
  codec_roundtrip_ns: 2229,
  command: "taskset -c 0 mix run bench/latency.exs",
  floor_ns: %{max: 55723, median: 8363, min: 7812, n: 40000, p99: 9234},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  ratio_median: 1.59
}
