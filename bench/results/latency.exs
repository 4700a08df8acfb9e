%{
  call_ns: %{max: 2_129_584, median: 31570, min: 20669, n: 40000, p99: 77906},
  codec_roundtrip_ns: 3854,
  command: "taskset -c 0 mix run bench/latency.exs",
  cpu_per_call_ns: %{beam: 17700, python: 13804},
  cpu_per_echo_ns: %{beam: 9305, python: 6071},
  floor_ns: %{max: 279_555, median: 17042, min: 12403, n: 40000, p99: 48151},
  forwarded_echo_ns: %{
    max: 218_570,
    median: 17402,
    min: 12964,
    n: 40000,
    p99: 49041
  },
  frame_only_ns: %{max: 685_436, median: 25829, min: 18374, n: 40000, p99: 68238},
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: %{
      call_ns: 89.8,
      config_args:
        "'--enable-shared' '--prefix=/usr' '--libdir=/usr/lib/x86_64-linux-gnu' '--enable-ipv6' '--enable-loadable-sqlite-extensions' '--with-dbmliborder=bdb:gdbm' '--with-computed-gotos' '--without-ensurepip' '--with-system-expat' '--with-dtrace' '--with-wheel-pkg-dir=/usr/share/python-wheels/' '--with-ssl-default-suites=openssl' 'MKDIR_P=/bin/mkdir -p' '--with-system-ffi' 'CC=x86_64-linux-gnu-gcc' 'CFLAGS=-g   -fstack-protector-strong -Wformat -Werror=format-security ' 'LDFLAGS=  -g -fwrapv -O2   ' 'CPPFLAGS=-Wdate-time -D_FORTIFY_SOURCE=2'",
      optimized: true,
      optimized_because: "the distribution's own build (PGO+LTO)",
      path: "/work/main/.venv/bin/python",
      version: "3.11.2"
    }
  },
  machine_class: "slow class, echo ≈ 12.5 µs, optimized interpreter: goal ≤ 1.8",
  ratio_median: 1.852
}
