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
    beam_bytes: 1_878_612,
    compile_generated_s: 22.461,
    first_gen_s: 13.152,
    mix_startup_s: 0.719,
    modules: 87,
    noop_compile_above_mix_startup_s: 0.053,
    noop_compile_s: 0.772,
    noop_gen_above_mix_startup_s: 0.395,
    noop_gen_s: 1.114,
    source_bytes: 3_041_610
  },
  pandas: %{
    api_data_bytes: 2_452_187,
    beam_bytes: 1_850_884,
    compile_generated_s: 10.127,
    first_gen_s: 11.909,
    mix_startup_s: 0.474,
    modules: 42,
    noop_compile_above_mix_startup_s: 0.106,
    noop_compile_s: 0.58,
    noop_gen_above_mix_startup_s: 0.201,
    noop_gen_s: 0.675,
    source_bytes: 3_509_491
  }
}
