# test/snake_bridge/fault_soak_test.exs, one run at commit "Router: a cached caller key
# is a copy..." (branch rel), while four other agents shared the machine's 2 cores:
#
#     MIX_ENV=test mix test test/snake_bridge/fault_soak_test.exs --include soak
#
# 8 processes for 90 s (after a 10 s warm-up of the same mix) on a pool of 2 workers:
# 55% normal calls, 15% refs made and read back, 8% 2 MB payloads both ways through
# /dev/shm (threshold 1 MiB), 8% timeouts (50 ms on a 5 s sleep), 7% callers killed
# mid-call, 7% crashes (os._exit, segfault, SIGKILL, abort, at random).
%{
  command: "MIX_ENV=test mix test test/snake_bridge/fault_soak_test.exs --include soak",
  seconds: 90,
  processes: 8,
  actions: 2898,
  wrong_values: 0,
  left_after: %{refs: 0, sessions: 0, in_flight: [0, 0], segments: 0, control_dirs: 0},
  beam_binary_bytes: %{after_warm_up: 25_144, after_run: 23_512, growth_percent: -6.5},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    otp: "25",
    python: "3.11.7",
    note: "shared with four other agents' builds and tests: action counts are noisy"
  }
}
