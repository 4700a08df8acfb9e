%{
  command: "taskset -c 0 mix run bench/remote.exs latency",
  floor_erpc_ns: %{
    max: 77_459_884,
    median: 72767,
    min: 62107,
    n: 15000,
    p99: 4_975_373
  },
  goal: "≤ 1.5",
  local_call_ns: %{
    max: 34_972_864,
    median: 36759,
    min: 28955,
    n: 15000,
    p99: 4_068_733
  },
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: %{
      call_ns: 258.5,
      config_args:
        "'--prefix=/root/.pyenv/versions/3.11.7' '--enable-shared' '--libdir=/root/.pyenv/versions/3.11.7/lib' 'LDFLAGS=-L/root/.pyenv/versions/3.11.7/lib -Wl,-rpath,/root/.pyenv/versions/3.11.7/lib' 'LIBS=-L/root/.pyenv/versions/3.11.7/lib -Wl,-rpath,/root/.pyenv/versions/3.11.7/lib' 'CPPFLAGS=-I/root/.pyenv/versions/3.11.7/include'",
      lto: false,
      path: "/work/wt-remote/.venv/bin/python",
      pgo: false,
      version: "3.11.7"
    }
  },
  ratio_remote_over_floor_plus_local: 1.264,
  remote_call_ns: %{
    max: 88_240_778,
    median: 138_479,
    min: 111_379,
    n: 15000,
    p99: 8_297_615
  }
}
