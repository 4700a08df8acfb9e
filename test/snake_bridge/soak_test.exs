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
    %{beam: :erlang.memory(:total), python: Enum.map(stats.per_worker, & &1.rss)}
  end

  defp growth(after_value, before_value), do: (after_value - before_value) / before_value

  defp mb(bytes), do: Float.round(bytes / 1_000_000, 1)

  test "a million ref calls and ten thousand short-lived processes leave nothing behind" do
    # The warm-up runs the same load long enough for the allocators to reach their
    # high-water mark for it: what grows after that is held, not a transient peak (a
    # run of the full suite once read +3.3 MB per worker after a 1,000-process warm-up,
    # +0.5 to 1 MB in four other runs).
    ref_calls(50_000)
    short_lived(div(@processes, 2))
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
    """)

    # The registry is empty and nothing else is left behind.
    assert final.refs == 0
    assert final.sessions == 0
    assert Enum.all?(final.per_worker, &(&1.callbacks == 0 and &1.pending == 0))
    assert SnakeBridge.Pool.Sessions.count() == sessions_before

    # Memory is back where it was.
    assert growth(after_soak.beam, warm.beam) < 0.10

    for {before, later} <- Enum.zip(warm.python, after_soak.python) do
      assert growth(later, before) < 0.10
    end
  end
end
