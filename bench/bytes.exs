# Bulk data: bytes round trips through SnakeBridge, over the pipe and over shared
# memory, against the raw port echo floor with the same payloads, in one run, unpinned:
#
#     mix run bench/bytes.exs            (add `--quick` to skip the 1 GB size)
#
# Also: the shared-memory crossover (which sets SnakeBridge.Shm's default threshold), a
# 100 MB float64 ndarray going from Python to Elixir, and the peak RSS of the BEAM and
# of the worker during the 1 GB transfer. Throughput = payload bytes / round-trip time.
Code.require_file("bench_helper.exs", __DIR__)

defmodule BytesBench do
  @mb 1_000_000

  def restart(threshold) do
    Application.stop(:snakebridge)
    Application.put_env(:snakebridge, :shm_threshold, threshold)
    Application.put_env(:snakebridge, :pools, default: [size: 1])
    :persistent_term.erase({SnakeBridge.Shm, :threshold})
    {:ok, _} = Application.ensure_all_started(:snakebridge)
    {:ok, _} = SnakeBridge.call("math", "sqrt", [1])
  end

  def echo_call(payload) do
    {:ok, %SnakeBridge.Bytes{data: back}} =
      SnakeBridge.call("builtins", "bytes", [SnakeBridge.bytes(payload)], [], timeout: :infinity)

    byte_size(back) == byte_size(payload) || raise "short echo"
  end

  def mb_per_s(size, ns), do: Float.round(size / (ns / 1.0e9) / @mb, 1)

  def measure(label, size, reps, fun) do
    payload = :crypto.strong_rand_bytes(size)
    fun.(payload)
    samples = for _ <- 1..reps, do: BenchHelper.time_ns(fn -> fun.(payload) end)
    median = BenchHelper.summary(samples).median
    IO.puts("  #{String.pad_trailing(label, 6)} #{size} B: #{mb_per_s(size, median)} MB/s")
    mb_per_s(size, median)
  end

  # VmHWM (peak RSS) in bytes; writing 5 to clear_refs resets it.
  def reset_peak(pid), do: File.write("/proc/#{pid}/clear_refs", "5")

  def peak(pid) do
    "/proc/#{pid}/status"
    |> File.read!()
    |> then(&Regex.run(~r/VmHWM:\s+(\d+) kB/, &1, capture: :all_but_first))
    |> hd()
    |> String.to_integer()
    |> Kernel.*(1024)
  end

  # Runs `fun` on a fresh pool with `threshold`, and returns its result with the peak
  # RSS of the BEAM and of the worker while it ran.
  def with_peaks(threshold, fun) do
    restart(threshold)
    beam = String.to_integer(System.pid())
    worker = worker_pid()
    reset_peak(beam)
    reset_peak(worker)
    result = fun.()
    {result, %{beam: peak(beam), worker: peak(worker)}}
  end

  def worker_pid do
    [%{os_pid: pid}] = SnakeBridge.stats().per_worker
    pid
  end
end

quick? = "--quick" in System.argv()

sizes =
  [{1_000_000, 20}, {10_000_000, 10}, {100_000_000, 5}] ++
    if(quick?, do: [], else: [{1_000_000_000, 2}])

python = BenchHelper.python()
echo = BenchHelper.open_echo(python)

IO.puts("crossover (MB/s):")
# Sizes where the two paths cross, each with repetitions to fit its cost.
crossover_sizes =
  [{1_048_576, 30}, {16_777_216, 10}, {134_217_728, 3}] ++
    if(quick?, do: [], else: [{268_435_456, 3}, {536_870_912, 2}])

crossover = fn threshold, label ->
  BytesBench.restart(threshold)

  for {size, reps} <- crossover_sizes,
      into: %{},
      do: {size, BytesBench.measure(label, size, reps, &BytesBench.echo_call/1)}
end

pipe_small = crossover.(:infinity, "pipe")
shm_small = crossover.(65_536, "shm")

IO.puts("round trips (MB/s):")

rows =
  for {size, reps} <- sizes do
    # The floor is measured around each phase (floor, pipe, floor, shm, floor) and its
    # median taken, so drift between phases hits it as it hits them.
    echo_floor = fn -> BytesBench.measure("floor", size, reps, &BenchHelper.echo(echo, &1)) end
    floor_before = echo_floor.()

    {pipe, pipe_peaks} =
      BytesBench.with_peaks(:infinity, fn ->
        BytesBench.measure("pipe", size, reps, &BytesBench.echo_call/1)
      end)

    floor_between = echo_floor.()

    {shm, shm_peaks} =
      BytesBench.with_peaks(65_536, fn ->
        BytesBench.measure("shm", size, reps, &BytesBench.echo_call/1)
      end)

    floor = Enum.at(Enum.sort([floor_before, floor_between, echo_floor.()]), 1)

    %{
      bytes: size,
      floor_mb_s: floor,
      pipe_mb_s: pipe,
      shm_mb_s: shm,
      pipe_over_floor: Float.round(pipe / floor, 2),
      shm_over_floor: Float.round(shm / floor, 2),
      peak_rss_pipe: pipe_peaks,
      peak_rss_shm: shm_peaks
    }
  end

BytesBench.restart(65_536)

{:ok, array} =
  SnakeBridge.call("numpy", "random.default_rng", [0])
  |> then(fn {:ok, rng} -> SnakeBridge.method(rng, "random", [12_500_000]) end)

ndarray_ns =
  for(_ <- 1..5, do: BenchHelper.time_ns(fn -> {:ok, _} = SnakeBridge.Array.from_ref(array) end))
  |> BenchHelper.summary()
  |> Map.fetch!(:median)

ndarray = BytesBench.mb_per_s(100_000_000, ndarray_ns)
IO.puts("100 MB float64 ndarray, Python → Elixir: #{ndarray} MB/s")

for row <- rows do
  IO.puts(
    "#{row.bytes} B: floor #{row.floor_mb_s}, pipe #{row.pipe_mb_s} (#{row.pipe_over_floor}×), " <>
      "shm #{row.shm_mb_s} (#{row.shm_over_floor}×); peak RSS MB pipe " <>
      "#{div(row.peak_rss_pipe.beam, 1_000_000)}/#{div(row.peak_rss_pipe.worker, 1_000_000)}, " <>
      "shm #{div(row.peak_rss_shm.beam, 1_000_000)}/#{div(row.peak_rss_shm.worker, 1_000_000)} (beam/worker)"
  )
end

BenchHelper.record("bytes", %{
  command: "mix run bench/bytes.exs" <> if(quick?, do: " --quick", else: ""),
  machine: BenchHelper.machine(),
  crossover_mb_s: %{pipe: pipe_small, shm: shm_small},
  round_trips: rows,
  ndarray_100mb_python_to_elixir_mb_s: ndarray,
  erlport_100mb_mb_s: 2.6
})
