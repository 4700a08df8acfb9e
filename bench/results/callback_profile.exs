%{
  c_calls_per_callback: 38.6,
  command: "mix run bench/callback_profile.exs",
  instructions_by_function: %{
    "Callbacks._send" => 39.0,
    "Callbacks._serve_main" => 76.0,
    "Callbacks._take_one" => 58.0,
    "Callbacks.invoke" => 43.0,
    "Cancellation.resume" => 60.0,
    "Decoder.decode" => 51.1,
    "FrameReader.read_frame" => 76.2,
    "FrameWriter.write_small" => 47.1,
    "Replies.decode" => 29.0,
    "Replies.send" => 36.0,
    "_scalar_callback_term" => 90.0,
    "bind" => 26.1,
    "callback_result" => 68.0,
    "int_term" => 61.2,
    "parse_header" => 93.2
  },
  instructions_per_callback: 1055.6,
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 2,
    otp: "25",
    python: %{
      call_ns: 155.2,
      config_args:
        "'--enable-shared' '--prefix=/usr' '--libdir=/usr/lib/x86_64-linux-gnu' '--enable-ipv6' '--enable-loadable-sqlite-extensions' '--with-dbmliborder=bdb:gdbm' '--with-computed-gotos' '--without-ensurepip' '--with-system-expat' '--with-dtrace' '--with-wheel-pkg-dir=/usr/share/python-wheels/' '--with-ssl-default-suites=openssl' 'MKDIR_P=/bin/mkdir -p' '--with-system-ffi' 'CC=x86_64-linux-gnu-gcc' 'CFLAGS=-g   -fstack-protector-strong -Wformat -Werror=format-security ' 'LDFLAGS=  -g -fwrapv -O2   ' 'CPPFLAGS=-Wdate-time -D_FORTIFY_SOURCE=2'",
      lto: false,
      path: "/work/main/.venv/bin/python",
      pgo: false,
      version: "3.11.2"
    }
  },
  python_calls_per_callback: 31.1
}
