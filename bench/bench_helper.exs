defmodule BenchHelper do
  @moduledoc false
  # Shared by the bench scripts: the floor (a raw port echo), sample statistics, and
  # the machine facts every result file records (see shared/BENCHMARKS.md).

  # The cheapest echo there is: one preallocated buffer, one readv and one write per
  # frame; frames are echoed as raw bytes, so {packet, 4} framing is preserved.
  @echo_loop """
  import os
  buffer = bytearray(1 << 16)
  view = memoryview(buffer)
  while True:
      size = os.readv(3, [buffer])
      if not size:
          break
      out = view[:size]
      while out:
          out = out[os.write(4, out):]
  """

  @doc "Opens the floor: a port to a minimal Python loop echoing fd 3 to fd 4."
  def open_echo(python) do
    Port.open({:spawn_executable, python}, [
      :binary,
      :nouse_stdio,
      {:packet, 4},
      {:args, ["-c", @echo_loop]}
    ])
  end

  @doc """
  The floor's echo with a worker's reply path: a second echo port in stream mode,
  connected to a process that forwards each chunk to `to` as a router forwards a reply.
  Returns the function that makes one round trip of `payload`.
  """
  def open_forwarded_echo(python, to) do
    port =
      Port.open({:spawn_executable, python}, [
        :binary,
        :nouse_stdio,
        {:args, ["-c", @echo_loop]}
      ])

    forwarder = spawn_link(fn -> forward(port, to) end)
    Port.connect(port, forwarder)
    Process.unlink(port)

    fn payload ->
      Port.command(port, [<<byte_size(payload)::32>> | payload])
      forwarded(4 + byte_size(payload), [])
    end
  end

  # A stream-mode port may deliver one reply in several chunks.
  defp forwarded(left, chunks) when left > 0 do
    receive do
      {:forwarded, data} -> forwarded(left - byte_size(data), [chunks | data])
    end
  end

  defp forwarded(_left, chunks), do: IO.iodata_to_binary(chunks)

  defp forward(port, to) do
    receive do
      {^port, {:data, data}} ->
        send(to, {:forwarded, data})
        forward(port, to)
    end
  end

  @doc "One echo round trip of `payload` through the floor port."
  def echo(port, payload) do
    Port.command(port, payload)

    receive do
      {^port, {:data, data}} -> data
    end
  end

  @doc "Time `fun` once, in nanoseconds."
  def time_ns(fun) do
    start = :erlang.monotonic_time(:nanosecond)
    fun.()
    :erlang.monotonic_time(:nanosecond) - start
  end

  @doc "Runs each case in interleaved blocks (A B A B …) and returns samples per case."
  def interleaved(cases, blocks, per_block) do
    Enum.reduce(1..blocks, Map.new(cases, fn {name, _} -> {name, []} end), fn _, acc ->
      Enum.reduce(cases, acc, fn {name, fun}, acc ->
        samples = for _ <- 1..per_block, do: time_ns(fun)
        Map.update!(acc, name, &(samples ++ &1))
      end)
    end)
  end

  @doc """
  Runs each case `per` times in turn, `rounds` times over, and returns one map a
  round of each case's median in that round. A difference between two cases is then
  read round by round (`paired_median/3`): a drift of the machine that lasts longer
  than a round hits both, which whole-run medians of a noisy machine do not resolve
  below a microsecond.
  """
  def paired(cases, rounds, per) do
    for _ <- 1..rounds do
      Map.new(cases, fn {name, fun} -> {name, median(for _ <- 1..per, do: time_ns(fun))} end)
    end
  end

  @doc "The median over the rounds of `paired/3` of `case_a`, or of `case_a - case_b`."
  def paired_median(rows, case_a), do: median(Enum.map(rows, & &1[case_a]))
  def paired_median(rows, case_a, case_b), do: median(Enum.map(rows, &(&1[case_a] - &1[case_b])))

  @doc "The median over the rounds of `paired/3` of `case_a / case_b`."
  def paired_ratio(rows, case_a, case_b), do: median(Enum.map(rows, &(&1[case_a] / &1[case_b])))

  defp median(values), do: values |> Enum.sort() |> Enum.at(div(length(values), 2))

  @doc "min, median, p99 and max of samples, in the samples' unit."
  def summary(samples) do
    sorted = Enum.sort(samples)
    n = length(sorted)
    at = fn q -> Enum.at(sorted, min(n - 1, trunc(q * n))) end
    %{min: hd(sorted), median: at.(0.5), p99: at.(0.99), max: List.last(sorted), n: n}
  end

  @doc "Machine and version facts for the result file."
  def machine do
    cpu =
      case File.read("/proc/cpuinfo") do
        {:ok, text} ->
          Regex.run(~r/model name\s*:\s*(.+)/, text, capture: :all_but_first) |> List.first()

        _ ->
          "unknown"
      end

    %{
      date: Date.utc_today() |> Date.to_iso8601(),
      nproc: System.schedulers_online(),
      logical_cpus: :erlang.system_info(:logical_processors),
      cpu: cpu,
      python: interpreter(),
      elixir: System.version(),
      otp: System.otp_release()
    }
  end

  # Python builds differ by 25% on the same engine (a PGO+LTO build against one
  # without): every result says which interpreter ran the workers, whether it is an
  # optimized build by the set-up's own rule (`snakebridge._interp.describe`, the one
  # `mix snakebridge.setup` chooses by), and how fast it makes a Python-level call.
  # Debian builds with PGO and LTO but strips those flags from sysconfig, so
  # CONFIG_ARGS alone would call its build plain; the call time is the measured fact.
  @interpreter """
  import sys, sysconfig, time
  from snakebridge._interp import describe
  found = describe(sys.executable)
  def step(x):
      return x + 1
  best = None
  for _ in range(15):
      start = time.perf_counter_ns()
      x = 0
      for _ in range(100_000):
          x = step(x)
      elapsed = (time.perf_counter_ns() - start) / 100_000
      best = elapsed if best is None else min(best, elapsed)
  args = sysconfig.get_config_var("CONFIG_ARGS") or ""
  fields = [sys.version.split()[0], sys.executable, found is not None and found.optimized]
  fields += [found.why if found else "did not run", args, round(best, 1)]
  print(*fields, sep="\\0", end="")
  """

  @doc """
  The workers' interpreter: version, path, whether it is an optimized (PGO/LTO) build
  and why the set-up's rule says so, its `CONFIG_ARGS`, and `call_ns`, the best time
  of a Python-level function call and loop step.
  """
  def interpreter do
    env = [{"PYTHONPATH", Path.expand("../priv/python", __DIR__)}]
    {out, 0} = System.cmd(python(), ["-c", @interpreter], env: env)
    [version, path, optimized, why, config_args, call_ns] = String.split(out, <<0>>)

    %{
      version: version,
      path: path,
      optimized: optimized == "True",
      optimized_because: why,
      config_args: config_args,
      call_ns: String.to_float(call_ns)
    }
  end

  @doc """
  CPU time in nanoseconds that the OS process `os_pid` has used, all its threads
  together (`/proc/<pid>/task/*/schedstat`, first field).
  """
  def cpu_ns(os_pid) do
    Path.wildcard("/proc/#{os_pid}/task/*/schedstat")
    |> Enum.reduce(0, fn path, acc ->
      case File.read(path) do
        {:ok, text} -> acc + (text |> String.split() |> hd() |> String.to_integer())
        {:error, _} -> acc
      end
    end)
  end

  @doc """
  CPU time per run of `fun`, in ns, of this VM and of the OS process `other_pid`: `fun`
  run `n` times in a row, the CPU clocks read before and after.
  """
  def cpu_per_run(fun, other_pid, n) do
    beam = String.to_integer(System.pid())
    {beam0, other0} = {cpu_ns(beam), cpu_ns(other_pid)}
    for _ <- 1..n, do: fun.()
    {beam1, other1} = {cpu_ns(beam), cpu_ns(other_pid)}
    %{beam: div(beam1 - beam0, n), python: div(other1 - other0, n)}
  end

  @doc """
  The Elixir and Erlang function calls that `n` runs of `fun` make in the calling
  process, counted by `:eprof` (a count, unlike a time, does not depend on the
  machine's load), as `{function, count}` pairs. The bench's own functions are left
  out: this module's (the loop) and the script's (`mix run` compiles a script into
  `elixir_compiler_N` modules).
  """
  def eprof_counts(fun, n) do
    log =
      Path.join(System.tmp_dir!(), "snakebridge_eprof_#{System.unique_integer([:positive])}.txt")

    text =
      try do
        :eprof.start()
        # A run that fails would leave a partial count.
        {:ok, _} = :eprof.profile([], fn -> repeat(fun, n) end)
        :eprof.log(String.to_charlist(log))
        :eprof.analyze(:total, sort: :calls)
        File.read!(log)
      after
        :eprof.stop()
        File.rm(log)
      end

    rows =
      text
      |> String.split("\n")
      |> Enum.flat_map(fn line ->
        case Regex.run(~r/^(\S+)\s+(\d+)\s+[\d.]+\s+\d+/, line) do
          [_, function, count] -> [{function, String.to_integer(count)}]
          nil -> []
        end
      end)

    Enum.reject(rows, fn {function, _} ->
      function =~ ~r/^(elixir_compiler_\d+|'Elixir.BenchHelper'):/
    end)
  end

  defp repeat(_fun, 0), do: :ok

  defp repeat(fun, n) do
    fun.()
    repeat(fun, n - 1)
  end

  @doc "The interpreter SnakeBridge's workers use."
  def python do
    {:ok, python} = SnakeBridge.Interpreter.python(%{})
    python
  end

  @doc "Writes `result` as an Elixir term file (readable, and diffable in git)."
  def record(name, result) do
    path = Path.join([__DIR__, "results", name <> ".exs"])

    # Formatted as `mix format` would (bench/ is among its inputs), so a fresh result
    # file passes `mix format --check-formatted`.
    text =
      inspect(result, pretty: true, limit: :infinity, printable_limit: :infinity)
      |> Code.format_string!()

    File.write!(path, [text, "\n"])

    IO.puts("recorded #{Path.relative_to_cwd(path)}")
  end

  def us(ns), do: Float.round(ns / 1000, 2)
end
