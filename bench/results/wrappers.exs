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
    floor: %{max: 4_586_323, median: 13815, min: 12844, n: 40000, p99: 34494},
    round_dynamic: %{
      max: 5_546_254,
      median: 47730,
      min: 39564,
      n: 40000,
      p99: 96731
    },
    round_wrapper: %{
      max: 4_787_190,
      median: 49252,
      min: 40105,
      n: 40000,
      p99: 96902
    },
    sqrt_dynamic: %{
      max: 3_950_360,
      median: 33964,
      min: 27081,
      n: 40000,
      p99: 73959
    },
    sqrt_wrapper: %{
      max: 4_917_915,
      median: 33934,
      min: 27351,
      n: 40000,
      p99: 76393
    }
  },
  ratio_dynamic_floor_sqrt: 2.458,
  ratio_wrapper_dynamic_round_kwargs: 1.032,
  ratio_wrapper_dynamic_sqrt: 0.999
}
