defmodule SnakeBridge.Pool.StartWaiters do
  @moduledoc false
  # Callers waiting for a worker that is still starting (`await_ready`), as both kinds
  # of worker server keep them: in the server's process dictionary, answered together
  # once the worker is ready or has failed.

  alias SnakeBridge.Pool.Table

  @doc """
  An `await_ready` call from `from` to the server of worker `index`: `:wait` if the
  worker is still starting (`from` is answered later by `reply_all/1`), else its entry.
  """
  @spec await(atom, non_neg_integer, GenServer.from()) :: :wait | {:ready, term}
  def await(pool, index, from) do
    case Table.entry(pool, index) do
      {:starting, _server} ->
        Process.put(__MODULE__, [from | Process.get(__MODULE__, [])])
        :wait

      entry ->
        {:ready, entry}
    end
  end

  @doc "Answers every waiting caller with `entry`."
  @spec reply_all(term) :: :ok
  def reply_all(entry) do
    for from <- Process.delete(__MODULE__) || [], do: GenServer.reply(from, entry)
    :ok
  end
end
