defmodule SnakeBridge.Call.PoolRequests do
  @moduledoc false
  # Requests addressed to every worker of a pool: releasing a session everywhere, code
  # every worker must run (a new sys.path entry, a module reloaded), and the pool's
  # live figures.

  alias SnakeBridge.{Call, Session, WorkerCrashError}
  alias SnakeBridge.Call.Route
  alias SnakeBridge.Pool.{Entry, Table}

  require Entry

  @doc "Releases a session on every worker of its pool and waits until each has done so."
  @spec release_session(Session.t()) :: :ok
  def release_session(%Session{pool: pool} = session) do
    for {index, Entry.ready(incarnation: incarnation)} <- Table.ready_entries(pool) do
      Call.request(:release_session, {}, {pool, index, incarnation}, session: session)
    end

    :ok
  end

  @doc """
  Runs `code` with `bindings` (as `SnakeBridge.eval/3`) on every worker of `pool`,
  waiting for those that are starting; returns the first error. A worker that is down
  is skipped: whoever calls this arranges for replacements to start in the new state.
  """
  @spec eval_everywhere(atom, String.t(), map) :: :ok | {:error, Exception.t()}
  def eval_everywhere(pool, code, bindings) do
    meta = Table.meta(pool)
    deadline = Route.deadline(meta.timeout)

    Enum.reduce_while(0..(meta.size - 1), :ok, fn index, :ok ->
      with {:ok, Entry.ready(incarnation: incarnation)} <-
             Route.ready_entry(meta, index, nil, deadline),
           {:ok, _} <- Call.request(:eval, {code, bindings}, {pool, index, incarnation}, []) do
        {:cont, :ok}
      else
        {:error, %WorkerCrashError{}} ->
          {:cont, :ok}

        {:error, %SnakeBridge.RefError{reason: reason}}
        when reason in [:worker_lost, :node_down] ->
          {:cont, :ok}

        {:error, error} ->
          {:halt, {:error, error}}
      end
    end)
  end

  @doc "Live figures of `pool` (see `SnakeBridge.stats/1`)."
  @spec stats(atom) :: map
  def stats(pool) do
    meta = Table.meta(pool)
    per_worker = for index <- 0..(meta.size - 1), do: worker_stats(meta, index)

    %{
      workers: meta.size,
      sessions: per_worker |> Enum.map(&Map.get(&1, :sessions, 0)) |> Enum.sum(),
      refs: per_worker |> Enum.map(&Map.get(&1, :refs, 0)) |> Enum.sum(),
      queued: Table.queued(meta),
      per_worker: per_worker
    }
  end

  defp worker_stats(meta, index) do
    case Table.entry(meta, index) do
      Entry.ready(incarnation: incarnation) ->
        # Over the control channel: a worker busy with a long call still answers. One
        # too wedged to answer is left alone: its own callers' timeouts deal with it.
        opts = [channel: :control, timeout: 5_000, on_timeout: :abandon]

        case Call.request(:stats, {}, {meta.name, index, incarnation}, opts) do
          {:ok, stats} -> Map.merge(stats, %{index: index, status: :ready})
          {:error, error} -> %{index: index, status: :unavailable, error: error}
        end

      {:failed, _server, error} ->
        %{index: index, status: :failed, error: error}

      {:starting, _server} ->
        %{index: index, status: :starting}

      :absent ->
        %{index: index, status: :absent}
    end
  end
end
