defmodule SnakeBridge.SoakTest do
  # Leak hunting: a million calls that create and release refs, then ten thousand
  # short-lived processes that create refs and exit. Afterwards nothing is left behind
  # and memory is back where it was after warm-up. Takes a few minutes, so it is only
  # run with `mix test --include soak` (scripts/test does).
  use ExUnit.Case, async: false

  import SnakeBridge.Test.Lifecycle

  @moduletag :soak
  @moduletag timeout: :infinity

  @pool :soak
  @calls 1_000_000
  @callers 8
  @processes 10_000
  @concurrent_processes 50

  setup_all do
    start_supervised!({SnakeBridge.Pool, name: @pool, size: System.schedulers_online()})
    await_pool(@pool)
    :ok
  end

  # Each call creates a ref; each is released at once.
  defp ref_calls(total) do
    per_caller = div(total, @callers)

    1..@callers
    |> Enum.map(fn _ ->
      Task.async(fn ->
        for _ <- 1..per_caller do
          {:ok, ref} = SnakeBridge.call("builtins", "object", [], [], pool: @pool)
          :ok = SnakeBridge.release(ref)
        end

        per_caller
      end)
    end)
    |> Task.await_many(:infinity)
    |> Enum.sum()
  end

  # Each process creates refs (and a session on the Python side) and just exits.
  defp short_lived(total) do
    1..total
    |> Task.async_stream(
      fn i ->
        {:ok, a} = SnakeBridge.call("builtins", "object", [], [], pool: @pool)
        {:ok, b} = SnakeBridge.eval("[i]", %{"i" => i}, pool: @pool, return: :ref)
        {:ok, [^i]} = SnakeBridge.call("builtins", "list", [b], [], pool: @pool)
        true = SnakeBridge.ref?(a)
      end,
      max_concurrency: @concurrent_processes,
      ordered: false
    )
    |> Enum.count()
  end

  defp settled do
    eventually("the pool's registry emptying", 10_000, fn ->
      stats = SnakeBridge.stats(@pool)
      if stats.refs == 0 and stats.sessions == 0 and stats.queued == 0, do: stats
    end)
  end

  defp memory do
    for pid <- Process.list(), do: :erlang.garbage_collect(pid)
    stats = settled()

    %{
      beam: :erlang.memory(:total),
      python: Enum.map(stats.per_worker, & &1.rss),
      blocks: Enum.map(stats.per_worker, & &1.python_blocks)
    }
  end

  defp growth(after_value, before_value), do: (after_value - before_value) / before_value

  defp mb(bytes), do: Float.round(bytes / 1_000_000, 1)

  test "a million ref calls and ten thousand short-lived processes leave nothing behind" do
    # The warm-up runs the same load long enough for every bounded table to fill (the
    # worker remembers its last 4,096 released sessions, to tell a stale session from
    # an unknown one) and the allocators to reach their high-water mark for it: what
    # grows after that is held, not a transient peak.
    ref_calls(50_000)
    short_lived(@processes)
    warm = memory()
    sessions_before = SnakeBridge.Pool.Sessions.count()

    {calls_us, @calls} = :timer.tc(fn -> ref_calls(@calls) end)
    middle = memory()
    {processes_us, @processes} = :timer.tc(fn -> short_lived(@processes) end)

    final = settled()
    after_soak = memory()

    IO.puts("""

    [soak] #{@calls} ref calls (#{@callers} callers): #{div(calls_us, 1000)} ms; \
    #{@processes} short-lived processes: #{div(processes_us, 1000)} ms
    [soak] BEAM memory (MB): #{mb(warm.beam)} after warm-up, #{mb(middle.beam)} after the \
    calls, #{mb(after_soak.beam)} after the processes \
    (#{Float.round(100 * growth(after_soak.beam, warm.beam), 1)}%)
    [soak] Python RSS per worker (MB): #{inspect(Enum.map(warm.python, &mb/1))} after \
    warm-up, #{inspect(Enum.map(middle.python, &mb/1))} after the calls, \
    #{inspect(Enum.map(after_soak.python, &mb/1))} after the processes
    [soak] Python live blocks per worker: #{inspect(warm.blocks)} after warm-up, \
    #{inspect(middle.blocks)} after the calls, #{inspect(after_soak.blocks)} after the processes
    """)

    # The registry is empty and nothing else is left behind.
    assert final.refs == 0
    assert final.sessions == 0
    assert Enum.all?(final.per_worker, &(&1.callbacks == 0 and &1.pending == 0))
    assert SnakeBridge.Pool.Sessions.count() == sessions_before

    # Memory is back where it was.
    assert growth(after_soak.beam, warm.beam) < 0.10

    # Python's live objects, exactly: a block leaked per call or per process would be
    # 10,000 or more, some 12 % of a worker's 80,000.
    for {before, later} <- Enum.zip(warm.blocks, after_soak.blocks) do
      assert growth(later, before) < 0.02
    end

    # RSS also keeps the allocator's free arenas, which grow and shrink with the load
    # of the whole suite (+2 to +14 % measured, with live blocks flat): it bounds what
    # leaks outside Python's allocator (C buffers), at a size no load accounts for.
    for {before, later} <- Enum.zip(warm.python, after_soak.python) do
      assert growth(later, before) < 0.25
    end
  end
end
