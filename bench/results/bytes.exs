%{
  command: "mix run bench/bytes.exs",
  crossover_mb_s: %{
    pipe: %{
      1_048_576 => 1901.2,
      16_777_216 => 1193.0,
      134_217_728 => 847.6,
      268_435_456 => 654.2,
      536_870_912 => 266.4
    },
    shm: %{
      1_048_576 => 829.0,
      16_777_216 => 829.9,
      134_217_728 => 651.0,
      268_435_456 => 646.3,
      536_870_912 => 516.7
    }
  },
  erlport_100mb_mb_s: 2.6,
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-24",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 2,
    otp: "25",
    python: "3.11.7"
  },
  ndarray_100mb_python_to_elixir_mb_s: 1646.0,
  round_trips: [
    %{
      bytes: 1_000_000,
      floor_mb_s: 1253.8,
      peak_rss_pipe: %{beam: 2_759_659_520, worker: 26_759_168},
      peak_rss_shm: %{beam: 2_635_595_776, worker: 25_767_936},
      pipe_mb_s: 1804.3,
      pipe_over_floor: 1.44,
      shm_mb_s: 751.0,
      shm_over_floor: 0.6
    },
    %{
      bytes: 10_000_000,
      floor_mb_s: 927.8,
      peak_rss_pipe: %{beam: 2_681_253_888, worker: 44_740_608},
      peak_rss_shm: %{beam: 2_339_819_520, worker: 34_828_288},
      pipe_mb_s: 1239.7,
      pipe_over_floor: 1.34,
      shm_mb_s: 832.0,
      shm_over_floor: 0.9
    },
    %{
      bytes: 100_000_000,
      floor_mb_s: 864.9,
      peak_rss_pipe: %{beam: 2_686_054_400, worker: 224_714_752},
      peak_rss_shm: %{beam: 2_635_644_928, worker: 124_747_776},
      pipe_mb_s: 823.6,
      pipe_over_floor: 0.95,
      shm_mb_s: 645.6,
      shm_over_floor: 0.75
    },
    %{
      bytes: 1_000_000_000,
      floor_mb_s: 261.2,
      peak_rss_pipe: %{beam: 6_063_030_272, worker: 2_024_763_392},
      peak_rss_shm: %{beam: 5_064_458_240, worker: 1_024_724_992},
      pipe_mb_s: 254.5,
      pipe_over_floor: 0.97,
      shm_mb_s: 311.0,
      shm_over_floor: 1.19
    }
  ]
}
