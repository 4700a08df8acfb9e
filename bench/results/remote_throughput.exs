%{
  calls_per_process: 10,
  command: "mix run bench/remote.exs throughput",
  load_average: "8.53 9.30 7.27",
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 2,
    otp: "25",
    python: %{
      call_ns: 285.5,
      config_args:
        "'--prefix=/root/.pyenv/versions/3.11.7' '--enable-shared' '--libdir=/root/.pyenv/versions/3.11.7/lib' 'LDFLAGS=-L/root/.pyenv/versions/3.11.7/lib -Wl,-rpath,/root/.pyenv/versions/3.11.7/lib' 'LIBS=-L/root/.pyenv/versions/3.11.7/lib -Wl,-rpath,/root/.pyenv/versions/3.11.7/lib' 'CPPFLAGS=-I/root/.pyenv/versions/3.11.7/include'",
      lto: false,
      path: "/work/wt-remote/.venv/bin/python",
      pgo: false,
      version: "3.11.7"
    }
  },
  one_node_calls_per_s: 76.9,
  one_node_round_ns: %{
    max: 1_327_344_862,
    median: 1_040_313_722,
    min: 901_080_771,
    n: 8,
    p99: 1_327_344_862
  },
  processes: 8,
  speedup: 1.558,
  two_nodes_calls_per_s: 119.8,
  two_nodes_round_ns: %{
    max: 806_953_491,
    median: 667_782_165,
    min: 491_384_288,
    n: 8,
    p99: 806_953_491
  }
}
