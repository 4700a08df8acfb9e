defmodule SnakeBridge.RegistryTest do
  # The Python-side registry as Elixir sees it: per-session caps and live figures.
  use ExUnit.Case, async: true

  import SnakeBridge.Test.Lifecycle

  alias SnakeBridge.{Ref, RefError}

  @pool :registry_test
  @opts [pool: @pool]

  setup_all do
    start_supervised!({SnakeBridge.Pool, name: @pool, size: 2, max_refs: 5})
    await_pool(@pool)
    :ok
  end

  defp object(opts \\ @opts), do: SnakeBridge.eval("object()", %{}, opts)

  describe "the per-session cap (:max_refs)" do
    test "refuses the ref over the cap with RefError :limit, and leaves other sessions alone" do
      refs = for _ <- 1..5, do: elem(object(), 1)
      assert Enum.all?(refs, &match?(%Ref{}, &1))

      assert {:error, %RefError{reason: :limit} = error} = object()
      assert Exception.message(error) =~ "max_refs: 5"

      # Another session, on either worker, is not affected.
      for _ <- 1..2 do
        assert {:ok, others} =
                 Task.async(fn -> {:ok, for(_ <- 1..5, do: elem(object(), 1))} end)
                 |> Task.await()

        assert Enum.all?(others, &match?(%Ref{}, &1))
      end

      # Values still cross; only new refs are refused.
      assert SnakeBridge.eval("1 + 1", %{}, @opts) == {:ok, 2}
      SnakeBridge.release(hd(refs))
      assert {:ok, %Ref{}} = eventually("room for a ref", 1_000, &ok_object/0)
    end

    test "counts the refs of a session shared by several processes together" do
      {:ok, session} = SnakeBridge.open_session(@opts)

      results =
        1..6
        |> Enum.map(fn _ ->
          Task.async(fn -> SnakeBridge.use_session(session, &object/0) end)
        end)
        |> Task.await_many()

      assert Enum.count(results, &match?({:ok, %Ref{}}, &1)) == 5
      assert Enum.count(results, &match?({:error, %RefError{reason: :limit}}, &1)) == 1
      SnakeBridge.release_session(session)
    end
  end

  describe "SnakeBridge.stats/1" do
    test "reports workers, sessions, refs, queue and per-worker figures" do
      {:ok, a} = object()
      {:ok, b} = Task.async(&object/0) |> Task.await()

      stats = SnakeBridge.stats(@pool)
      assert stats.workers == 2
      assert stats.queued == 0
      assert stats.refs >= 1
      assert stats.sessions >= 1
      assert length(stats.per_worker) == 2

      for worker <- stats.per_worker do
        assert %{status: :ready, refs: refs, sessions: sessions, pending: pending} = worker
        assert is_integer(refs) and is_integer(sessions) and is_integer(pending)
        assert is_integer(worker.os_pid) and worker.os_pid > 0
        assert is_integer(worker.rss) and worker.rss > 1_000_000
      end

      assert stats.refs == Enum.sum(Enum.map(stats.per_worker, & &1.refs))
      assert stats.sessions == Enum.sum(Enum.map(stats.per_worker, & &1.sessions))

      pids = Enum.map(stats.per_worker, & &1.os_pid)
      assert os_pid(a) in pids
      assert Enum.uniq(pids) == pids
      # b's session ended with its task: its worker dropped it.
      eventually("the task's session ending", 1_000, fn ->
        SnakeBridge.stats(@pool).refs == 1
      end)

      assert {:error, %RefError{reason: :released}} = SnakeBridge.call(b, "__repr__")
    end

    test "counts pending calls and answers while a worker is busy" do
      task = Task.async(fn -> SnakeBridge.eval("import time\ntime.sleep(1)", %{}, @opts) end)

      busy =
        eventually("a pending call", 900, fn ->
          Enum.find(SnakeBridge.stats(@pool).per_worker, &(&1.pending > 0))
        end)

      assert busy.pending == 1
      assert Task.await(task) == {:ok, nil}
    end

    test "stats/0 is the default pool's" do
      assert %{workers: workers, per_worker: per_worker} = SnakeBridge.stats()
      assert workers == System.schedulers_online()
      assert length(per_worker) == workers
    end
  end

  defp ok_object do
    case object() do
      {:ok, ref} -> {:ok, ref}
      {:error, %RefError{reason: :limit}} -> nil
    end
  end
end
