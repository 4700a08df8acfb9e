%{
  call_ns: %{max: 2_200_427, median: 33002, min: 23214, n: 40000, p99: 76634},
  codec_roundtrip_ns: 3741,
  command: "taskset -c 0 mix run bench/latency.exs",
  cpu_per_call_ns: %{beam: 16715, python: 12220},
  cpu_per_echo_ns: %{beam: 8335, python: 5476},
  floor_ns: %{max: 310_432, median: 15919, min: 12343, n: 40000, p99: 42730},
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
      lto: false,
      path: "/work/main/.venv/bin/python",
      pgo: false,
      version: "3.11.2"
    }
  },
  machine_class: "slow class, echo ≈ 12.5 µs: goal ≤ 2.0, ≤ 1.8 with an optimized interpreter",
  ratio_median: 2.073
}
