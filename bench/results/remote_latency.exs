%{
  command: "taskset -c 0 mix run bench/remote.exs latency",
  floor_erpc_ns: %{
    max: 16_465_888,
    median: 82284,
    min: 61536,
    n: 15000,
    p99: 4_100_452
  },
  goal: "≤ 1.5",
  load_average: "8.81 9.41 7.26",
  local_call_ns: %{
    max: 18_773_386,
    median: 41278,
    min: 30107,
    n: 15000,
    p99: 3_192_058
  },
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: %{
      call_ns: 234.5,
      config_args:
        "'--prefix=/root/.pyenv/versions/3.11.7' '--enable-shared' '--libdir=/root/.pyenv/versions/3.11.7/lib' 'LDFLAGS=-L/root/.pyenv/versions/3.11.7/lib -Wl,-rpath,/root/.pyenv/versions/3.11.7/lib' 'LIBS=-L/root/.pyenv/versions/3.11.7/lib -Wl,-rpath,/root/.pyenv/versions/3.11.7/lib' 'CPPFLAGS=-I/root/.pyenv/versions/3.11.7/include'",
      lto: false,
      path: "/work/wt-remote/.venv/bin/python",
      pgo: false,
      version: "3.11.7"
    }
  },
  ratio_remote_over_floor_plus_local: 1.202,
  remote_call_ns: %{
    max: 12_301_205,
    median: 148_479,
    min: 107_602,
    n: 15000,
    p99: 5_073_077
  }
}
