%{
  command: "mix run bench/bytes.exs --quick",
  crossover_mb_s: %{
    pipe: %{65536 => 419.3, 262_144 => 707.2, 1_048_576 => 513.0, 4_194_304 => 483.4},
    shm: %{65536 => 272.8, 262_144 => 610.6, 1_048_576 => 847.5, 4_194_304 => 945.7}
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
  ndarray_100mb_python_to_elixir_mb_s: 1216.6,
  round_trips: [
    %{
      bytes: 1_000_000,
      floor_mb_s: 1619.2,
      peak_rss_pipe: %{beam: 120_266_752, worker: 27_815_936},
      peak_rss_shm: %{beam: 115_146_752, worker: 25_776_128},
      pipe_mb_s: 562.8,
      pipe_over_floor: 0.35,
      shm_mb_s: 773.3,
      shm_over_floor: 0.48
    },
    %{
      bytes: 10_000_000,
      floor_mb_s: 1006.7,
      peak_rss_pipe: %{beam: 210_055_168, worker: 54_800_384},
      peak_rss_shm: %{beam: 222_072_832, worker: 34_885_632},
      pipe_mb_s: 455.3,
      pipe_over_floor: 0.45,
      shm_mb_s: 820.9,
      shm_over_floor: 0.82
    },
    %{
      bytes: 100_000_000,
      floor_mb_s: 873.3,
      peak_rss_pipe: %{beam: 1_001_533_440, worker: 324_689_920},
      peak_rss_shm: %{beam: 1_166_065_664, worker: 124_755_968},
      pipe_mb_s: 359.3,
      pipe_over_floor: 0.41,
      shm_mb_s: 645.0,
      shm_over_floor: 0.74
    }
  ]
}
