%{
  command: "mix run bench/bytes.exs",
  crossover_mb_s: %{
    pipe: %{65536 => 350.8, 262_144 => 486.3, 1_048_576 => 495.6, 4_194_304 => 452.8},
    shm: %{65536 => 153.0, 262_144 => 469.6, 1_048_576 => 771.7, 4_194_304 => 841.2}
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
  ndarray_100mb_python_to_elixir_mb_s: 1626.9,
  round_trips: [
    %{
      bytes: 1_000_000,
      floor_mb_s: 1296.2,
      peak_rss_pipe: %{beam: 111_624_192, worker: 26_828_800},
      peak_rss_shm: %{beam: 110_698_496, worker: 25_788_416},
      pipe_mb_s: 487.9,
      pipe_over_floor: 0.38,
      shm_mb_s: 786.6,
      shm_over_floor: 0.61
    },
    %{
      bytes: 10_000_000,
      floor_mb_s: 888.9,
      peak_rss_pipe: %{beam: 207_859_712, worker: 44_814_336},
      peak_rss_shm: %{beam: 224_825_344, worker: 34_832_384},
      pipe_mb_s: 412.8,
      pipe_over_floor: 0.46,
      shm_mb_s: 825.6,
      shm_over_floor: 0.93
    },
    %{
      bytes: 100_000_000,
      floor_mb_s: 742.0,
      peak_rss_pipe: %{beam: 811_835_392, worker: 224_759_808},
      peak_rss_shm: %{beam: 1_138_139_136, worker: 124_751_872},
      pipe_mb_s: 368.6,
      pipe_over_floor: 0.5,
      shm_mb_s: 595.0,
      shm_over_floor: 0.8
    },
    %{
      bytes: 1_000_000_000,
      floor_mb_s: 213.8,
      peak_rss_pipe: %{beam: 5_365_035_008, worker: 2_024_771_584},
      peak_rss_shm: %{beam: 6_065_045_504, worker: 1_024_770_048},
      pipe_mb_s: 160.5,
      pipe_over_floor: 0.75,
      shm_mb_s: 435.3,
      shm_over_floor: 2.04
    }
  ]
}
