%{
  api_ns: %{max: 1_611_564, median: 22031, min: 20138, n: 40000, p99: 65553},
  command: "taskset -c 0 mix run bench/pool_overhead.exs",
  direct_ns: %{max: 1_855_841, median: 21881, min: 19887, n: 40000, p99: 71334},
  floor_ns: %{max: 253_656, median: 13375, min: 12724, n: 40000, p99: 39264},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: %{
      call_ns: 91.9,
      config_args:
        "'--enable-shared' '--prefix=/usr' '--libdir=/usr/lib/x86_64-linux-gnu' '--enable-ipv6' '--enable-loadable-sqlite-extensions' '--with-dbmliborder=bdb:gdbm' '--with-computed-gotos' '--without-ensurepip' '--with-system-expat' '--with-dtrace' '--with-wheel-pkg-dir=/usr/share/python-wheels/' '--with-ssl-default-suites=openssl' 'MKDIR_P=/bin/mkdir -p' '--with-system-ffi' 'CC=x86_64-linux-gnu-gcc' 'CFLAGS=-g   -fstack-protector-strong -Wformat -Werror=format-security ' 'LDFLAGS=  -g -fwrapv -O2   ' 'CPPFLAGS=-Wdate-time -D_FORTIFY_SOURCE=2'",
      lto: false,
      path: "/work/main/.venv/bin/python",
      pgo: false,
      version: "3.11.2"
    }
  },
  pool_ns: %{max: 347_722, median: 22502, min: 20348, n: 40000, p99: 70563},
  ratio_direct_floor: 1.636,
  ratio_pool_direct: 1.028,
  ratio_pool_floor: 1.682
}
