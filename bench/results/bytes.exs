%{
  command: "mix run bench/bytes.exs",
  crossover_mb_s: %{
    pipe: %{
      1_048_576 => 1947.9,
      16_777_216 => 1208.4,
      134_217_728 => 863.3,
      268_435_456 => 695.4,
      536_870_912 => 269.7
    },
    shm: %{
      1_048_576 => 787.8,
      16_777_216 => 829.8,
      134_217_728 => 518.6,
      268_435_456 => 634.3,
      536_870_912 => 528.0
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
  ndarray_100mb_python_to_elixir_mb_s: 1633.4,
  round_trips: [
    %{
      bytes: 1_000_000,
      floor_mb_s: 1256.1,
      peak_rss_pipe: %{beam: 2_122_129_408, worker: 26_894_336},
      peak_rss_shm: %{beam: 2_121_994_240, worker: 25_788_416},
      pipe_mb_s: 2176.4,
      pipe_over_floor: 1.73,
      shm_mb_s: 748.7,
      shm_over_floor: 0.6
    },
    %{
      bytes: 10_000_000,
      floor_mb_s: 981.7,
      peak_rss_pipe: %{beam: 1_884_086_272, worker: 44_834_816},
      peak_rss_shm: %{beam: 1_903_955_968, worker: 34_803_712},
      pipe_mb_s: 1310.0,
      pipe_over_floor: 1.33,
      shm_mb_s: 903.9,
      shm_over_floor: 0.92
    },
    %{
      bytes: 100_000_000,
      floor_mb_s: 893.3,
      peak_rss_pipe: %{beam: 2_127_245_312, worker: 224_772_096},
      peak_rss_shm: %{beam: 1_510_998_016, worker: 124_764_160},
      pipe_mb_s: 860.2,
      pipe_over_floor: 0.96,
      shm_mb_s: 660.8,
      shm_over_floor: 0.74
    },
    %{
      bytes: 1_000_000_000,
      floor_mb_s: 269.9,
      peak_rss_pipe: %{beam: 6_063_906_816, worker: 2_024_722_432},
      peak_rss_shm: %{beam: 5_064_876_032, worker: 1_024_765_952},
      pipe_mb_s: 352.5,
      pipe_over_floor: 1.31,
      shm_mb_s: 478.9,
      shm_over_floor: 1.77
    }
  ]
}
