%{
  command: "taskset -c 0 mix run bench/streaming.exs",
  goal_items_per_s: 1_000_000,
  goal_met: true,
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: "3.11.7"
  },
  results: %{
    "auto" => %{batch: :auto, items: 1_000_000, items_per_s: 13_648_708, reps: 15},
    "batch 1" => %{batch: 1, items: 20000, items_per_s: 55516, reps: 5},
    "batch 64" => %{batch: 64, items: 1_000_000, items_per_s: 2_681_000, reps: 5},
    "batch 8192" => %{
      batch: 8192,
      items: 1_000_000,
      items_per_s: 14_276_436,
      reps: 15
    }
  },
  workload: "Enum.reduce(&+/2) over a Python generator `yield from range(n)`"
}
