%{
  command: "mix run bench/bytes.exs",
  crossover_mb_s: %{
    pipe: %{
      1_048_576 => 377.3,
      16_777_216 => 339.5,
      134_217_728 => 219.8,
      268_435_456 => 125.2,
      536_870_912 => 133.4
    },
    shm: %{
      1_048_576 => 287.0,
      16_777_216 => 370.6,
      134_217_728 => 312.3,
      268_435_456 => 333.8,
      536_870_912 => 251.8
    }
  },
  erlport_100mb_mb_s: 2.6,
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 2,
    otp: "25",
    python: %{
      call_ns: 100.3,
      config_args:
        "'--enable-shared' '--prefix=/usr' '--libdir=/usr/lib/x86_64-linux-gnu' '--enable-ipv6' '--enable-loadable-sqlite-extensions' '--with-dbmliborder=bdb:gdbm' '--with-computed-gotos' '--without-ensurepip' '--with-system-expat' '--with-dtrace' '--with-wheel-pkg-dir=/usr/share/python-wheels/' '--with-ssl-default-suites=openssl' 'MKDIR_P=/bin/mkdir -p' '--with-system-ffi' 'CC=x86_64-linux-gnu-gcc' 'CFLAGS=-g   -fstack-protector-strong -Wformat -Werror=format-security ' 'LDFLAGS=  -g -fwrapv -O2   ' 'CPPFLAGS=-Wdate-time -D_FORTIFY_SOURCE=2'",
      lto: false,
      path: "/work/main/.venv/bin/python",
      pgo: false,
      version: "3.11.2"
    }
  },
  ndarray_100mb_python_to_elixir_mb_s: 961.5,
  round_trips: [
    %{
      bytes: 1_000_000,
      floor_mb_s: 660.1,
      peak_rss_pipe: %{beam: 618_840_064, worker: 25_886_720},
      peak_rss_shm: %{beam: 618_614_784, worker: 24_903_680},
      pipe_mb_s: 398.5,
      pipe_over_floor: 0.6,
      shm_mb_s: 262.5,
      shm_over_floor: 0.4
    },
    %{
      bytes: 10_000_000,
      floor_mb_s: 641.1,
      peak_rss_pipe: %{beam: 718_356_480, worker: 43_864_064},
      peak_rss_shm: %{beam: 726_253_568, worker: 33_796_096},
      pipe_mb_s: 256.1,
      pipe_over_floor: 0.4,
      shm_mb_s: 355.3,
      shm_over_floor: 0.55
    },
    %{
      bytes: 100_000_000,
      floor_mb_s: 573.3,
      peak_rss_pipe: %{beam: 1_174_704_128, worker: 223_850_496},
      peak_rss_shm: %{beam: 1_252_380_672, worker: 123_834_368},
      pipe_mb_s: 226.3,
      pipe_over_floor: 0.39,
      shm_mb_s: 297.5,
      shm_over_floor: 0.52
    },
    %{
      bytes: 1_000_000_000,
      floor_mb_s: 234.2,
      peak_rss_pipe: %{beam: 5_120_774_144, worker: 2_023_829_504},
      peak_rss_shm: %{beam: 6_067_957_760, worker: 1_023_803_392},
      pipe_mb_s: 103.8,
      pipe_over_floor: 0.44,
      shm_mb_s: 242.7,
      shm_over_floor: 1.04
    }
  ]
}
