%{
  c_calls_per_callback: 32.6,
  command: "mix run bench/callback_profile.exs",
  instructions_by_function: %{
    "Callbacks._send" => 36.0,
    "Callbacks._serve_main" => 94.0,
    "Callbacks._store_result" => 14.0,
    "Callbacks._take_plain_result" => 56.0,
    "Callbacks.invoke" => 43.0,
    "Cancellation.resume" => 63.0,
    "ElixirFunction.__call__" => 18.0,
    "FrameReader.read_frame" => 76.2,
    "FrameReader.wait_readable" => 22.0,
    "FrameWriter.write_small" => 47.1,
    "Replies.send_callback" => 29.0,
    "_scalar_callback_term" => 82.0,
    "callback_result" => 85.0,
    "int_term" => 61.2,
    "unwrap" => 24.0
  },
  instructions_per_callback: 776.5,
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 2,
    otp: "25",
    python: %{
      call_ns: 149.0,
      config_args:
        "'--enable-shared' '--prefix=/usr' '--libdir=/usr/lib/x86_64-linux-gnu' '--enable-ipv6' '--enable-loadable-sqlite-extensions' '--with-dbmliborder=bdb:gdbm' '--with-computed-gotos' '--without-ensurepip' '--with-system-expat' '--with-dtrace' '--with-wheel-pkg-dir=/usr/share/python-wheels/' '--with-ssl-default-suites=openssl' 'MKDIR_P=/bin/mkdir -p' '--with-system-ffi' 'CC=x86_64-linux-gnu-gcc' 'CFLAGS=-g   -fstack-protector-strong -Wformat -Werror=format-security ' 'LDFLAGS=  -g -fwrapv -O2   ' 'CPPFLAGS=-Wdate-time -D_FORTIFY_SOURCE=2'",
      optimized: true,
      optimized_because: "the distribution's own build (PGO+LTO)",
      path: "/work/main/.venv/bin/python",
      version: "3.11.2"
    }
  },
  python_calls_per_callback: 20.1,
  vm_calls_by_function: %{
    "'Elixir.SnakeBridge.Call':reply/4" => 1.0,
    "'Elixir.SnakeBridge.Call.Header':build/6" => 1.0,
    "'Elixir.SnakeBridge.Call.Header':op_code/1" => 1.0,
    "'Elixir.SnakeBridge.Call.Route':now_ms/0" => 1.0,
    "'Elixir.SnakeBridge.Pool.Frames':frame/1" => 1.0,
    "'Elixir.SnakeBridge.Pool.Transport.LocalPort':send_frame/2" => 1.0,
    "'Elixir.SnakeBridge.Shm':frame_body/1" => 1.0,
    "erlang:erase/1" => 2.0,
    "erlang:iolist_size/1" => 1.0,
    "erlang:min/2" => 1.0,
    "erlang:monotonic_time/0" => 1.0,
    "erlang:port_command/3" => 1.0,
    "erlang:put/2" => 1.0,
    "erlang:term_to_binary/1" => 1.0,
    "erts_internal:port_command/3" => 1.0
  },
  vm_calls_per_callback: 28.1
}
