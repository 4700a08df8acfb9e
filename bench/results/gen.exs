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
    beam_bytes: 1_713_540,
    compile_generated_s: 11.865,
    first_gen_s: 14.55,
    mix_startup_s: 0.641,
    modules: 87,
    noop_compile_above_mix_startup_s: -0.01,
    noop_compile_s: 0.631,
    noop_gen_above_mix_startup_s: 0.236,
    noop_gen_s: 0.877,
    source_bytes: 2_847_813
  },
  pandas: %{
    api_data_bytes: 2_452_187,
    beam_bytes: 1_729_132,
    compile_generated_s: 11.501,
    first_gen_s: 8.727,
    mix_startup_s: 1.334,
    modules: 42,
    noop_compile_above_mix_startup_s: 0.006,
    noop_compile_s: 1.34,
    noop_gen_above_mix_startup_s: 0.406,
    noop_gen_s: 1.74,
    source_bytes: 3_356_217
  }
}
