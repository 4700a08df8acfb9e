defmodule SnakeBridge.Pool.Remote do
  @moduledoc false
  # What the call path knows of nodes: which worker incarnations were lost to a node
  # that went down (their refs give RefError :node_down, not :worker_lost), and where a
  # ref-less call goes when its session's worker is on a node that is down.
  #
  # The pieces of a remote worker: Remote.Worker (its server, on the calling node),
  # Transport.Remote (how callers reach it), Remote.Host and Remote.Relay (on the far
  # node). See "Nodes" in docs/LIFECYCLE.md.

  require SnakeBridge.Pool.Entry
  alias SnakeBridge.WorkerCrashError
  alias SnakeBridge.Pool.{Entry, Table}

  @doc "The error for a worker whose node `node` is down or unreachable."
  @spec node_down(node) :: WorkerCrashError.t()
  def node_down(node) do
    %WorkerCrashError{reason: "node #{node} is down or unreachable", node: node}
  end

  @doc "Records that the incarnation of worker `index` was lost with its node."
  @spec note_lost(atom, non_neg_integer, pos_integer, node) :: true
  def note_lost(pool, index, incarnation, node),
    do: :ets.insert(Table.meta(pool).table, {{:node_down, index, incarnation}, node})

  @doc "The node a worker id's incarnation was lost with, or nil."
  @spec lost_to(Entry.worker_id()) :: node | nil
  def lost_to({pool, index, incarnation}) do
    with %{table: table} <- Table.lookup(pool),
         [{_key, node}] <- :ets.lookup(table, {:node_down, index, incarnation}) do
      node
    else
      _ -> nil
    end
  end

  @doc """
  The least busy ready worker of the pool `meta`, as `{:ok, index, entry}`, for a
  ref-less call whose own worker's node is down; `error` if none is ready.
  """
  @spec elsewhere(Table.meta(), WorkerCrashError.t()) ::
          {:ok, non_neg_integer, Entry.ready()} | {:error, WorkerCrashError.t()}
  def elsewhere(meta, error) do
    case Table.ready_entries(meta.name) do
      [] ->
        {:error, error}

      ready ->
        {index, entry} = Enum.min_by(ready, fn {index, _} -> Table.in_flight(meta, index) end)
        {:ok, index, entry}
    end
  end
end
