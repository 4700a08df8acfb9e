%{
  call_ns: %{max: 552_584, median: 12839, min: 12339, n: 40000, p99: 17526},
  codec_roundtrip_ns: 2212,
  command: "taskset -c 0 mix run bench/latency.exs",
  floor_ns: %{max: 196_493, median: 8353, min: 8022, n: 40000, p99: 9745},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  ratio_median: 1.537
}
