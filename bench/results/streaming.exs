%{
  command: "taskset -c 0 mix run bench/streaming.exs",
  goal_items_per_s: 1_000_000,
  goal_met: true,
  machine: %{
    cpu: "AMD EPYC",
    date: "2026-11-29",
    elixir: "1.14.0",
    logical_cpus: 2,
    nproc: 1,
    otp: "25",
    python: %{
      call_ns: 104.1,
      config_args:
        "'--enable-shared' '--prefix=/usr' '--libdir=/usr/lib/x86_64-linux-gnu' '--enable-ipv6' '--enable-loadable-sqlite-extensions' '--with-dbmliborder=bdb:gdbm' '--with-computed-gotos' '--without-ensurepip' '--with-system-expat' '--with-dtrace' '--with-wheel-pkg-dir=/usr/share/python-wheels/' '--with-ssl-default-suites=openssl' 'MKDIR_P=/bin/mkdir -p' '--with-system-ffi' 'CC=x86_64-linux-gnu-gcc' 'CFLAGS=-g   -fstack-protector-strong -Wformat -Werror=format-security ' 'LDFLAGS=  -g -fwrapv -O2   ' 'CPPFLAGS=-Wdate-time -D_FORTIFY_SOURCE=2'",
      lto: false,
      path: "/work/main/.venv/bin/python",
      pgo: false,
      version: "3.11.2"
    }
  },
  results: %{
    "auto" => %{batch: :auto, items: 1_000_000, items_per_s: 5_442_135, reps: 15},
    "batch 1" => %{batch: 1, items: 20000, items_per_s: 12969, reps: 5},
    "batch 64" => %{batch: 64, items: 1_000_000, items_per_s: 581_888, reps: 5},
    "batch 8192" => %{
      batch: 8192,
      items: 1_000_000,
      items_per_s: 5_341_175,
      reps: 15
    }
  },
  workload: "Enum.reduce(&+/2) over a Python generator `yield from range(n)`"
}
