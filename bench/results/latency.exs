%{
  call_ns: %{max: 2_127_891, median: 34094, min: 20538, n: 40000, p99: 84058},
  codec_roundtrip_ns: 6292,
  command: "taskset -c 0 mix run bench/latency.exs",
  cpu_per_call_ns: %{beam: 21047, python: 16199},
  cpu_per_echo_ns: %{beam: 11519, python: 7435},
  floor_ns: %{max: 316_754, median: 17713, min: 12353, n: 40000, p99: 48050},
  forwarded_echo_ns: %{
    max: 386_495,
    median: 19216,
    min: 12684,
    n: 40000,
    p99: 52658
  },
  frame_only_ns: %{
    max: 1_507_648,
    median: 29625,
    min: 18254,
    n: 40000,
    p99: 75272
  },
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: %{
      call_ns: 119.1,
      config_args:
        "'--enable-shared' '--prefix=/usr' '--libdir=/usr/lib/x86_64-linux-gnu' '--enable-ipv6' '--enable-loadable-sqlite-extensions' '--with-dbmliborder=bdb:gdbm' '--with-computed-gotos' '--without-ensurepip' '--with-system-expat' '--with-dtrace' '--with-wheel-pkg-dir=/usr/share/python-wheels/' '--with-ssl-default-suites=openssl' 'MKDIR_P=/bin/mkdir -p' '--with-system-ffi' 'CC=x86_64-linux-gnu-gcc' 'CFLAGS=-g   -fstack-protector-strong -Wformat -Werror=format-security ' 'LDFLAGS=  -g -fwrapv -O2   ' 'CPPFLAGS=-Wdate-time -D_FORTIFY_SOURCE=2'",
      lto: false,
      path: "/work/main/.venv/bin/python",
      pgo: false,
      version: "3.11.2"
    }
  },
  machine_class: "slow class, echo ≈ 12.5 µs: goal ≤ 2.0, ≤ 1.8 with an optimized interpreter",
  ratio_median: 1.925
}
