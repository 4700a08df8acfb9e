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

  alias SnakeBridge.RefError
  alias SnakeBridge.Pool.{Sessions, Table}

  @doc false
  # The session a call on `pool` uses: `explicit` (the :session option) if given, else
  # the calling process's current one, created on first use.
  #
  # A process's own sessions need no check: it forgets one when it releases it. A
  # session shared with it (use_session/2, the :session option) may have been released
  # by another process meanwhile; using it then would recreate its table on the Python
  # side, where nobody would ever release it again, so it is refused.
  def resolve(pool, nil) do
    # The BIF itself, here and in caller_id/0: every call reads these, and
    # Process.get/1 costs two function calls more.
    case :erlang.get({__MODULE__, pool}) do
      :undefined -> {:ok, put_current(new(pool, nil))}
      {:shared, session} -> live(session)
      session -> {:ok, session}
    end
  end

  def resolve(_pool, %__MODULE__{} = explicit), do: live(explicit)

  defp live(session) do
    if Sessions.live?(session.id) do
      {:ok, session}
    else
      {:error,
       %RefError{
         reason: :released,
         message: "session #{session.id} was released; its refs and new calls in it are refused"
       }}
    end
  end

  @doc false
  def put_current(%__MODULE__{pool: pool} = session) do
    Process.put({__MODULE__, pool}, session)
    session
  end

  @doc false
  # Makes `session`, which another process owns, current; returns what it replaces.
  def put_shared(%__MODULE__{pool: pool} = session),
    do: Process.put({__MODULE__, pool}, {:shared, session})

  @doc false
  # Puts back what `put_current/1` or `put_shared/1` replaced (nil: nothing).
  def restore_current(pool, nil), do: Process.delete({__MODULE__, pool})
  def restore_current(pool, previous), do: Process.put({__MODULE__, pool}, previous)

  @doc false
  # Forgets `session` if it is the calling process's current one on its pool.
  def forget(%__MODULE__{pool: pool} = session) do
    case Process.get({__MODULE__, pool}) do
      ^session -> Process.delete({__MODULE__, pool})
      {:shared, ^session} -> Process.delete({__MODULE__, pool})
      _ -> nil
    end
  end

  @doc false
  # A new session owned by the calling process; `worker` nil means the least busy one.
  def new(pool, worker) do
    meta = Table.meta(pool)
    session = %__MODULE__{id: next_id(), pool: pool, worker: worker || Table.least_busy(meta)}
    # own/2 watches the process too: a first call costs the Sessions server one message.
    caller = Process.get(:snakebridge_caller) || register_caller()
    Sessions.own(caller, session)
    session
  end

  defp next_id, do: System.unique_integer([:positive, :monotonic])

  @doc false
  # The calling process's caller id, registered (and so watched) on first use.
  def caller_id do
    case :erlang.get(:snakebridge_caller) do
      :undefined ->
        id = register_caller()
        Sessions.watch(id)
        id

      id ->
        id
    end
  end

  defp register_caller do
    id = next_id()
    Sessions.register(id)
    Process.put(:snakebridge_caller, id)
    id
  end
end
