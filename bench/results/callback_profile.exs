%{
  c_calls_per_callback: 33.6,
  command: "mix run bench/callback_profile.exs",
  instructions_by_function: %{
    "Callbacks._send" => 36.0,
    "Callbacks._serve_main" => 94.0,
    "Callbacks._take_plain_result" => 56.0,
    "Callbacks.invoke" => 43.0,
    "Cancellation.resume" => 63.0,
    "ElixirFunction.__call__" => 18.0,
    "FrameReader.read_frame" => 76.2,
    "FrameReader.wait_readable" => 22.0,
    "FrameWriter.write_small" => 47.1,
    "Replies.send_callback" => 29.0,
    "_scalar_callback_term" => 85.0,
    "callback_result" => 85.0,
    "int_term" => 61.2,
    "scalar_term" => 24.0,
    "unwrap" => 26.0
  },
  instructions_per_callback: 805.5,
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 2,
    otp: "25",
    python: %{
      call_ns: 88.9,
      config_args:
        "'--enable-shared' '--prefix=/usr' '--libdir=/usr/lib/x86_64-linux-gnu' '--enable-ipv6' '--enable-loadable-sqlite-extensions' '--with-dbmliborder=bdb:gdbm' '--with-computed-gotos' '--without-ensurepip' '--with-system-expat' '--with-dtrace' '--with-wheel-pkg-dir=/usr/share/python-wheels/' '--with-ssl-default-suites=openssl' 'MKDIR_P=/bin/mkdir -p' '--with-system-ffi' 'CC=x86_64-linux-gnu-gcc' 'CFLAGS=-g   -fstack-protector-strong -Wformat -Werror=format-security ' 'LDFLAGS=  -g -fwrapv -O2   ' 'CPPFLAGS=-Wdate-time -D_FORTIFY_SOURCE=2'",
      optimized: true,
      optimized_because: "the distribution's own build (PGO+LTO)",
      path: "/work/main/.venv/bin/python",
      version: "3.11.2"
    }
  },
  python_calls_per_callback: 21.1
}
