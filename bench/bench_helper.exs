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

    {python, 0} = System.cmd(python(), ["-c", "import sys; print(sys.version.split()[0])"])

    %{
      date: Date.utc_today() |> Date.to_iso8601(),
      nproc: System.schedulers_online(),
      logical_cpus: :erlang.system_info(:logical_processors),
      cpu: cpu,
      python: String.trim(python),
      elixir: System.version(),
      otp: System.otp_release()
    }
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
