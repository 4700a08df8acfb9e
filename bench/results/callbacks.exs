%{
  callback_round_trip_ns: %{
    max: 68434,
    median: 57891,
    min: 40546,
    n: 30,
    p99: 68434
  },
  command: "taskset -c 0 mix run bench/callbacks.exs",
  cpu_per_call_ns: %{beam: 23767, python: 19195},
  cpu_per_callback_ns: %{beam: 27952, python: 29284},
  goal_met: true,
  goal_ratio: 2.0,
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: %{
      call_ns: 153.4,
      config_args:
        "'--enable-shared' '--prefix=/usr' '--libdir=/usr/lib/x86_64-linux-gnu' '--enable-ipv6' '--enable-loadable-sqlite-extensions' '--with-dbmliborder=bdb:gdbm' '--with-computed-gotos' '--without-ensurepip' '--with-system-expat' '--with-dtrace' '--with-wheel-pkg-dir=/usr/share/python-wheels/' '--with-ssl-default-suites=openssl' 'MKDIR_P=/bin/mkdir -p' '--with-system-ffi' 'CC=x86_64-linux-gnu-gcc' 'CFLAGS=-g   -fstack-protector-strong -Wformat -Werror=format-security ' 'LDFLAGS=  -g -fwrapv -O2   ' 'CPPFLAGS=-Wdate-time -D_FORTIFY_SOURCE=2'",
      optimized: true,
      optimized_because: "the distribution's own build (PGO+LTO)",
      path: "/work/main/.venv/bin/python",
      version: "3.11.2"
    }
  },
  plain_call_ns: %{
    max: 1_751_065,
    median: 35447,
    min: 21280,
    n: 30000,
    p99: 87604
  },
  ratio_median: 1.633,
  workload: "Python `for i in range(10000): f(i)` with f = fn x -> x end, one call"
}
