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
    beam_bytes: 1_713_492,
    compile_generated_s: 30.606,
    first_gen_s: 23.282,
    mix_startup_s: 1.217,
    modules: 87,
    noop_compile_s: 1.782,
    noop_gen_s: 2.536,
    source_bytes: 2_847_813
  },
  pandas: %{
    api_data_bytes: 2_452_187,
    beam_bytes: 1_729_092,
    compile_generated_s: 30.23,
    first_gen_s: 30.804,
    mix_startup_s: 1.093,
    modules: 42,
    noop_compile_s: 1.408,
    noop_gen_s: 2.971,
    source_bytes: 3_356_217
  }
}
