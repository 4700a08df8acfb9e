%{
  command: "taskset -c 0 mix run bench/wrappers.exs",
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  note: "measured while three other agents shared the 2 vCPUs",
  ns: %{
    floor: %{max: 21_077_508, median: 15640, min: 12604, n: 40000, p99: 70413},
    round_dynamic: %{
      max: 17_583_544,
      median: 45576,
      min: 38572,
      n: 40000,
      p99: 3_097_702
    },
    round_wrapper: %{
      max: 21_257_656,
      median: 46959,
      min: 39565,
      n: 40000,
      p99: 3_077_883
    },
    sqrt_dynamic: %{
      max: 22_298_780,
      median: 32341,
      min: 26640,
      n: 40000,
      p99: 2_208_352
    },
    sqrt_wrapper: %{
      max: 35_930_782,
      median: 32250,
      min: 26489,
      n: 40000,
      p99: 2_355_028
    }
  },
  ratio_dynamic_floor_sqrt: 2.068,
  ratio_wrapper_dynamic_round_kwargs: 1.03,
  ratio_wrapper_dynamic_sqrt: 0.997
}
