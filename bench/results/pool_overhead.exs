%{
  api_ns: %{max: 2_078_619, median: 30007, min: 20829, n: 40000, p99: 85300},
  command: "taskset -c 0 mix run bench/pool_overhead.exs",
  direct_ns: %{max: 2_502_274, median: 30948, min: 20347, n: 40000, p99: 86342},
  floor_ns: %{max: 2_310_264, median: 15529, min: 12704, n: 40000, p99: 47870},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: %{
      call_ns: 169.4,
      config_args:
        "'--enable-shared' '--prefix=/usr' '--libdir=/usr/lib/x86_64-linux-gnu' '--enable-ipv6' '--enable-loadable-sqlite-extensions' '--with-dbmliborder=bdb:gdbm' '--with-computed-gotos' '--without-ensurepip' '--with-system-expat' '--with-dtrace' '--with-wheel-pkg-dir=/usr/share/python-wheels/' '--with-ssl-default-suites=openssl' 'MKDIR_P=/bin/mkdir -p' '--with-system-ffi' 'CC=x86_64-linux-gnu-gcc' 'CFLAGS=-g   -fstack-protector-strong -Wformat -Werror=format-security ' 'LDFLAGS=  -g -fwrapv -O2   ' 'CPPFLAGS=-Wdate-time -D_FORTIFY_SOURCE=2'",
      optimized: true,
      optimized_because: "the distribution's own build (PGO+LTO)",
      path: "/work/main/.venv/bin/python",
      version: "3.11.2"
    }
  },
  pool_ns: %{max: 1_129_710, median: 31589, min: 20859, n: 40000, p99: 86882},
  ratio_direct_floor: 1.993,
  ratio_pool_direct: 1.021,
  ratio_pool_floor: 2.034
}
