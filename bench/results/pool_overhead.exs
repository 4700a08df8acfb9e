%{
  api_ns: %{max: 3_584_013, median: 38242, min: 21871, n: 40000, p99: 92664},
  command: "taskset -c 0 mix run bench/pool_overhead.exs",
  direct_ns: %{max: 2_338_447, median: 34836, min: 20208, n: 40000, p99: 83186},
  floor_ns: %{max: 606_678, median: 18034, min: 12503, n: 40000, p99: 51737},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: %{
      call_ns: 148.0,
      config_args:
        "'--enable-shared' '--prefix=/usr' '--libdir=/usr/lib/x86_64-linux-gnu' '--enable-ipv6' '--enable-loadable-sqlite-extensions' '--with-dbmliborder=bdb:gdbm' '--with-computed-gotos' '--without-ensurepip' '--with-system-expat' '--with-dtrace' '--with-wheel-pkg-dir=/usr/share/python-wheels/' '--with-ssl-default-suites=openssl' 'MKDIR_P=/bin/mkdir -p' '--with-system-ffi' 'CC=x86_64-linux-gnu-gcc' 'CFLAGS=-g   -fstack-protector-strong -Wformat -Werror=format-security ' 'LDFLAGS=  -g -fwrapv -O2   ' 'CPPFLAGS=-Wdate-time -D_FORTIFY_SOURCE=2'",
      lto: false,
      path: "/work/main/.venv/bin/python",
      pgo: false,
      version: "3.11.2"
    }
  },
  pool_ns: %{max: 2_086_003, median: 36648, min: 20939, n: 40000, p99: 88796},
  ratio_direct_floor: 1.932,
  ratio_pool_direct: 1.052,
  ratio_pool_floor: 2.032
}
