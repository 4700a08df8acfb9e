%{
  command: "mix run bench/remote.exs bulk",
  erpc_echo_ns: %{
    max: 1_449_605_136,
    median: 832_107_387,
    min: 485_674_978,
    n: 10,
    p99: 1_449_605_136
  },
  erpc_mb_s: 120.2,
  load_average: "9.61 9.68 7.12",
  local_mb_s: 85.5,
  local_round_trip_ns: %{
    max: 1_839_299_888,
    median: 1_169_864_231,
    min: 487_195_771,
    n: 10,
    p99: 1_839_299_888
  },
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 2,
    otp: "25",
    python: %{
      call_ns: 252.6,
      config_args:
        "'--prefix=/root/.pyenv/versions/3.11.7' '--enable-shared' '--libdir=/root/.pyenv/versions/3.11.7/lib' 'LDFLAGS=-L/root/.pyenv/versions/3.11.7/lib -Wl,-rpath,/root/.pyenv/versions/3.11.7/lib' 'LIBS=-L/root/.pyenv/versions/3.11.7/lib -Wl,-rpath,/root/.pyenv/versions/3.11.7/lib' 'CPPFLAGS=-I/root/.pyenv/versions/3.11.7/include'",
      lto: false,
      path: "/work/wt-remote/.venv/bin/python",
      pgo: false,
      version: "3.11.7"
    }
  },
  payload_bytes: 100_000_000,
  ratio: 0.374,
  remote_mb_s: 45.0,
  remote_round_trip_ns: %{
    max: 2_866_617_943,
    median: 2_223_351_765,
    min: 1_601_637_948,
    n: 10,
    p99: 2_866_617_943
  }
}
