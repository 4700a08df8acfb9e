%{
  command: "mix run --no-start bench/gen.exs",
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 2,
    otp: "25",
    python: "3.11.7"
  },
  note: "wall times of whole mix commands, measured while three other agents shared the 2 vCPUs",
  numpy: %{
    api_data_bytes: 1_960_530,
    beam_bytes: 1_713_496,
    compile_generated_s: 26.508,
    first_gen_s: 25.991,
    mix_startup_s: 1.175,
    modules: 87,
    noop_compile_s: 1.46,
    noop_gen_s: 4.195,
    source_bytes: 2_847_813
  },
  pandas: %{
    api_data_bytes: 2_452_187,
    beam_bytes: 1_729_096,
    compile_generated_s: 11.538,
    first_gen_s: 10.674,
    mix_startup_s: 0.932,
    modules: 42,
    noop_compile_s: 0.738,
    noop_gen_s: 0.926,
    source_bytes: 3_356_217
  }
}
