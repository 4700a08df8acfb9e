defmodule SnakeBridge.Session do
  @moduledoc """
  A table of refs on one worker, and the unit of their lifetime.

  Every ref belongs to a session. By default each process has its own, created on its
  first call and bound then to the least busy worker; it ends when the process exits.
  `SnakeBridge.session/1` runs a block in a fresh session, and
  `SnakeBridge.open_session/1` opens one that several processes can share (see
  "Sessions and ref lifetime" in `SnakeBridge`).

  ## Fields

    * `:id` — a positive integer, unique in this VM;
    * `:pool` — the pool the session's worker belongs to;
    * `:worker` — the index of that worker in its pool.
  """

  @enforce_keys [:id, :pool, :worker]
  defstruct [:id, :pool, :worker]

  @typedoc "A session."
  @type t :: %__MODULE__{id: pos_integer, pool: atom, worker: non_neg_integer}

  alias SnakeBridge.{Pool, Sessions}

  @doc false
  # The calling process's current session on `pool`, created on first use.
  def current(pool) do
    case Process.get({__MODULE__, pool}) do
      nil -> put_current(new(pool, nil))
      session -> session
    end
  end

  @doc false
  def put_current(%__MODULE__{pool: pool} = session) do
    Process.put({__MODULE__, pool}, session)
    session
  end

  @doc false
  def restore_current(pool, nil), do: Process.delete({__MODULE__, pool})
  def restore_current(_pool, session), do: put_current(session)

  @doc false
  # A new session owned by the calling process; `worker` nil means the least busy one.
  def new(pool, worker) do
    meta = Pool.meta(pool)
    session = %__MODULE__{id: next_id(), pool: pool, worker: worker || Pool.least_busy(meta)}
    Sessions.own(caller_id(), session)
    session
  end

  defp next_id, do: System.unique_integer([:positive, :monotonic])

  @doc false
  # The calling process's caller id, registered (and so watched) on first use.
  def caller_id do
    case Process.get(:snakebridge_caller) do
      nil ->
        id = next_id()
        Sessions.watch(id)
        Process.put(:snakebridge_caller, id)
        id

      id ->
        id
    end
  end
end
