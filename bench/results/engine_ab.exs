%{
  base: "/tmp/base6b/priv/python",
  command: "BASE=/tmp/base6b taskset -c 0 mix run bench/engine_ab.exs",
  here: "/work/main/priv/python",
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: %{
      call_ns: 87.6,
      config_args:
        "'--enable-shared' '--prefix=/usr' '--libdir=/usr/lib/x86_64-linux-gnu' '--enable-ipv6' '--enable-loadable-sqlite-extensions' '--with-dbmliborder=bdb:gdbm' '--with-computed-gotos' '--without-ensurepip' '--with-system-expat' '--with-dtrace' '--with-wheel-pkg-dir=/usr/share/python-wheels/' '--with-ssl-default-suites=openssl' 'MKDIR_P=/bin/mkdir -p' '--with-system-ffi' 'CC=x86_64-linux-gnu-gcc' 'CFLAGS=-g   -fstack-protector-strong -Wformat -Werror=format-security ' 'LDFLAGS=  -g -fwrapv -O2   ' 'CPPFLAGS=-Wdate-time -D_FORTIFY_SOURCE=2'",
      optimized: true,
      optimized_because: "the distribution's own build (PGO+LTO)",
      path: "/work/main/.venv/bin/python",
      version: "3.11.2"
    }
  },
  result: %{
    call_ns: %{
      base: 41404,
      here: 40402,
      here_lower_in_rounds: 21,
      here_minus_base: -67
    },
    callback_round_trip_ns: %{
      base: 68822,
      here: 61467,
      here_lower_in_rounds: 35,
      here_minus_base: -5998
    }
  },
  rounds: 40
}
