%{
  call_ns: %{max: 5_239_678, median: 32200, min: 21420, n: 40000, p99: 93125},
  codec_roundtrip_ns: 5728,
  command: "taskset -c 0 mix run bench/latency.exs",
  cpu_per_call_ns: %{beam: 26570, python: 19527},
  cpu_per_echo_ns: %{beam: 12405, python: 7911},
  floor_ns: %{max: 34_115_065, median: 16661, min: 12123, n: 40000, p99: 45826},
  frame_only_ns: %{
    max: 36_363_342,
    median: 26360,
    min: 17833,
    n: 40000,
    p99: 74820
  },
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: %{
      call_ns: 156.7,
      config_args:
        "'--enable-shared' '--prefix=/usr' '--libdir=/usr/lib/x86_64-linux-gnu' '--enable-ipv6' '--enable-loadable-sqlite-extensions' '--with-dbmliborder=bdb:gdbm' '--with-computed-gotos' '--without-ensurepip' '--with-system-expat' '--with-dtrace' '--with-wheel-pkg-dir=/usr/share/python-wheels/' '--with-ssl-default-suites=openssl' 'MKDIR_P=/bin/mkdir -p' '--with-system-ffi' 'CC=x86_64-linux-gnu-gcc' 'CFLAGS=-g   -fstack-protector-strong -Wformat -Werror=format-security ' 'LDFLAGS=  -g -fwrapv -O2   ' 'CPPFLAGS=-Wdate-time -D_FORTIFY_SOURCE=2'",
      lto: false,
      path: "/work/main/.venv/bin/python",
      pgo: false,
      version: "3.11.2"
    }
  },
  machine_class: "slow class, echo ≈ 12.5 µs: goal ≤ 2.0, ≤ 1.8 with an optimized interpreter",
  ratio_median: 1.933
}
