%{
  command: "mix run bench/remote.exs bulk",
  erpc_echo_ns: %{
    max: 2_685_233_701,
    median: 1_588_099_562,
    min: 1_031_953_530,
    n: 10,
    p99: 2_685_233_701
  },
  erpc_mb_s: 63.0,
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 2,
    otp: "25",
    python: %{
      call_ns: 243.4,
      config_args:
        "'--prefix=/root/.pyenv/versions/3.11.7' '--enable-shared' '--libdir=/root/.pyenv/versions/3.11.7/lib' 'LDFLAGS=-L/root/.pyenv/versions/3.11.7/lib -Wl,-rpath,/root/.pyenv/versions/3.11.7/lib' 'LIBS=-L/root/.pyenv/versions/3.11.7/lib -Wl,-rpath,/root/.pyenv/versions/3.11.7/lib' 'CPPFLAGS=-I/root/.pyenv/versions/3.11.7/include'",
      lto: false,
      path: "/work/wt-remote/.venv/bin/python",
      pgo: false,
      version: "3.11.7"
    }
  },
  payload_bytes: 100_000_000,
  ratio: 0.492,
  remote_mb_s: 31.0,
  remote_round_trip_ns: %{
    max: 4_507_787_947,
    median: 3_229_310_944,
    min: 2_316_958_699,
    n: 10,
    p99: 4_507_787_947
  }
}
