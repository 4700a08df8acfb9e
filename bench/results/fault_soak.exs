# test/snake_bridge/fault_soak_test.exs, run by scripts/test at commit 8c2ca8f (stream-mode
# framing, re-runs of queued calls, RELEASE_MADE, the fused fast path), on an otherwise
# idle machine:
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
  actions: 7356,
  wrong_values: 0,
  left_after: %{refs: 0, sessions: 0, in_flight: [0, 0], segments: 0, control_dirs: 0},
  beam_binary_bytes: %{after_warm_up: 155_192, after_run: 158_912, growth_percent: 2.4},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    otp: "25",
    python: "3.11.2 (Debian)",
    note: "idle apart from this run"
  },
  previous_run: %{
    commit: "5950306-era branch rel",
    actions: 2898,
    wrong_values: 0,
    growth_percent: -6.5
  }
}
