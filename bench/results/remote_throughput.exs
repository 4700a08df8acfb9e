%{
  calls_per_process: 10,
  command: "mix run bench/remote.exs throughput",
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 2,
    otp: "25",
    python: %{
      call_ns: 228.5,
      config_args:
        "'--prefix=/root/.pyenv/versions/3.11.7' '--enable-shared' '--libdir=/root/.pyenv/versions/3.11.7/lib' 'LDFLAGS=-L/root/.pyenv/versions/3.11.7/lib -Wl,-rpath,/root/.pyenv/versions/3.11.7/lib' 'LIBS=-L/root/.pyenv/versions/3.11.7/lib -Wl,-rpath,/root/.pyenv/versions/3.11.7/lib' 'CPPFLAGS=-I/root/.pyenv/versions/3.11.7/include'",
      lto: false,
      path: "/work/wt-remote/.venv/bin/python",
      pgo: false,
      version: "3.11.7"
    }
  },
  one_node_calls_per_s: 70.7,
  one_node_round_ns: %{
    max: 1_659_411_894,
    median: 1_131_511_957,
    min: 783_328_163,
    n: 8,
    p99: 1_659_411_894
  },
  processes: 8,
  speedup: 1.354,
  two_nodes_calls_per_s: 95.7,
  two_nodes_round_ns: %{
    max: 979_776_864,
    median: 835_730_974,
    min: 455_949_677,
    n: 8,
    p99: 979_776_864
  }
}
