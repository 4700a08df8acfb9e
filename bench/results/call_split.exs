%{
  command: "taskset -c 0 mix run bench/call_split.exs",
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: %{
      call_ns: 86.7,
      config_args:
        "'--enable-shared' '--prefix=/usr' '--libdir=/usr/lib/x86_64-linux-gnu' '--enable-ipv6' '--enable-loadable-sqlite-extensions' '--with-dbmliborder=bdb:gdbm' '--with-computed-gotos' '--without-ensurepip' '--with-system-expat' '--with-dtrace' '--with-wheel-pkg-dir=/usr/share/python-wheels/' '--with-ssl-default-suites=openssl' 'MKDIR_P=/bin/mkdir -p' '--with-system-ffi' 'CC=x86_64-linux-gnu-gcc' 'CFLAGS=-g   -fstack-protector-strong -Wformat -Werror=format-security ' 'LDFLAGS=  -g -fwrapv -O2   ' 'CPPFLAGS=-Wdate-time -D_FORTIFY_SOURCE=2'",
      lto: false,
      path: "/work/main/.venv/bin/python",
      pgo: false,
      version: "3.11.2"
    }
  },
  split: %{
    binary_to_term_of_the_reply_us: 0.7,
    elixir_api_over_the_frame_us: 5.35,
    floor_us: 18.12,
    general_path_over_the_fast_us: 2.14,
    ratio_call_floor: 2.088,
    receive_timer_us: 0.42,
    table_reads_the_kept_route_saves_us: 1.32,
    transport_lookup_us: 0.17,
    worker_hop_send_over_floor_us: 12.89
  }
}
