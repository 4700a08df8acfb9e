%{
  call_ns: %{max: 1_531_032, median: 37490, min: 22261, n: 40000, p99: 87805},
  codec_roundtrip_ns: 5992,
  command: "taskset -c 0 mix run bench/latency.exs",
  cpu_per_call_ns: %{beam: 19398, python: 14656},
  cpu_per_echo_ns: %{beam: 12341, python: 7928},
  floor_ns: %{max: 567_053, median: 17333, min: 12784, n: 40000, p99: 48531},
  forwarded_echo_ns: %{
    max: 3_775_683,
    median: 18504,
    min: 13325,
    n: 40000,
    p99: 52078
  },
  frame_only_ns: %{
    max: 3_643_945,
    median: 28603,
    min: 18514,
    n: 40000,
    p99: 73257
  },
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: %{
      call_ns: 152.4,
      config_args:
        "'--enable-shared' '--prefix=/usr' '--libdir=/usr/lib/x86_64-linux-gnu' '--enable-ipv6' '--enable-loadable-sqlite-extensions' '--with-dbmliborder=bdb:gdbm' '--with-computed-gotos' '--without-ensurepip' '--with-system-expat' '--with-dtrace' '--with-wheel-pkg-dir=/usr/share/python-wheels/' '--with-ssl-default-suites=openssl' 'MKDIR_P=/bin/mkdir -p' '--with-system-ffi' 'CC=x86_64-linux-gnu-gcc' 'CFLAGS=-g   -fstack-protector-strong -Wformat -Werror=format-security ' 'LDFLAGS=  -g -fwrapv -O2   ' 'CPPFLAGS=-Wdate-time -D_FORTIFY_SOURCE=2'",
      lto: false,
      path: "/work/main/.venv/bin/python",
      pgo: false,
      version: "3.11.2"
    }
  },
  machine_class: "slow class, echo ≈ 12.5 µs: goal ≤ 2.0, ≤ 1.8 with an optimized interpreter",
  ratio_median: 2.163
}
