defmodule SnakeBridge.Call.Route do
  @moduledoc false
  # Where a request goes: a request that carries refs goes to the worker holding them
  # (checked against the worker's incarnation, so a ref never reaches a replacement
  # worker); otherwise to the worker of the caller's session.
  #
  # Each process keeps the last ready entry it read, under :snakebridge_route with its
  # pool's facts and its index, and uses both again while the entry is not retired
  # (Pool.Table.retired?/1). The table retires an entry as it replaces or removes it,
  # and a worker's server its own as it stops, so a copy outlives its entry only while
  # the entry is stale in the table too (a server killed outright, until it is
  # restarted); a call that then finds the channel closed forgets its copy. Live, on
  # one CPU shared with the worker, the ETS lookup (which copies the entry too) and the
  # persistent_term read of the facts cost about 1.5 µs a call (bench/README.md,
  # "session 7").

  require SnakeBridge.Pool.Entry
  alias SnakeBridge.{RefError, Session, WorkerCrashError}
  alias SnakeBridge.Pool.{Entry, Remote, Table, WorkerServer}

  # On every call's path (kept/2): inlined, it costs no call of its own.
  @compile {:inline, kept_route: 1}

  @doc """
  The facts of the pool a request goes to: the refs' pool, else the `:pool` option's
  (ArgumentError if that one is not running). A ref whose pool is not running, or
  whose worker index is outside it, was lost or never issued.
  """
  @spec meta(Entry.worker_id() | nil, keyword) :: {:ok, Table.meta()} | {:error, RefError.t()}
  def meta(nil, []), do: {:ok, routed_meta(:default)}
  def meta(nil, opts), do: {:ok, routed_meta(Keyword.get(opts, :pool, :default))}

  def meta({pool, index, _incarnation} = worker_id, _opts) do
    case Table.lookup(pool) do
      %{size: size} = meta when index < size ->
        {:ok, meta}

      nil ->
        {:error, %RefError{reason: :worker_lost, message: "no pool #{inspect(pool)} is running"}}

      _meta ->
        {:error, %RefError{reason: :unknown, message: "#{inspect(worker_id)} is no worker's"}}
    end
  end

  @doc """
  The facts of `pool` and the ready entry of its worker `index` that the calling
  process keeps, if they are current; nil otherwise (`meta/2` and `worker/4` then read
  the table, and `worker/4` keeps what it read).
  """
  @spec kept(atom, non_neg_integer) :: {Table.meta(), Entry.ready()} | nil
  def kept(pool, index) do
    case kept_route(pool) do
      {meta, ^index, entry} -> {meta, entry}
      _other -> nil
    end
  end

  # The route the calling process keeps to a worker of `pool`, while its entry is not
  # retired (see the module comment).
  defp kept_route(pool) do
    case :erlang.get(:snakebridge_route) do
      {%{name: ^pool}, _index, Entry.ready(load: load)} = route ->
        if Table.retired?(load), do: nil, else: route

      _other ->
        nil
    end
  end

  # The kept facts of `pool` (its workers stop before the pool erases its facts, and a
  # restarted pool's workers are new), else the published ones.
  defp routed_meta(pool) do
    case kept_route(pool) do
      {meta, _index, _entry} -> meta
      nil -> Table.meta(pool)
    end
  end

  @doc "The session a request runs in. A released session is refused (Session.resolve/2)."
  @spec session(atom, keyword) :: {:ok, Session.t()} | {:error, RefError.t()}
  def session(pool, []), do: Session.resolve(pool, nil)

  def session(pool, opts) do
    case Keyword.get(opts, :session) do
      %Session{pool: ^pool} = session -> Session.resolve(pool, session)
      _ -> Session.resolve(pool, nil)
    end
  end

  @doc """
  The worker a request goes to, as `{:ok, index, entry}`: the refs' worker if
  `worker_id`, else the session's. A ref-less request whose session's worker is on a
  node that is down goes to the least busy ready worker (see SnakeBridge.Pool.Remote).
  """
  @spec worker(Table.meta(), Session.t(), Entry.worker_id() | nil, integer | :infinity) ::
          {:ok, non_neg_integer, Entry.ready()}
          | {:error, RefError.t() | WorkerCrashError.t()}
  def worker(meta, _session, {_pool, index, _incarnation} = worker_id, deadline) do
    with {:ok, entry} <- ready_entry(meta, index, worker_id, deadline), do: {:ok, index, entry}
  end

  def worker(meta, session, nil, deadline) do
    case ready_entry(meta, session.worker, nil, deadline) do
      {:ok, entry} ->
        {:ok, session.worker, entry}

      {:error, %WorkerCrashError{node: node} = error} when node != nil ->
        Remote.elsewhere(meta, error)

      error ->
        error
    end
  end

  @doc """
  The ready entry of worker `index`, waiting for a worker that is starting until
  `deadline`. `worker_id` (the refs' worker, or nil) must still be the one there.
  """
  @spec ready_entry(Table.meta(), non_neg_integer, Entry.worker_id() | nil, integer | :infinity) ::
          {:ok, Entry.ready()} | {:error, RefError.t() | WorkerCrashError.t()}
  def ready_entry(%{size: size} = meta, index, _worker_id, _deadline)
      when not is_integer(index) or index < 0 or index >= size do
    {:error,
     %RefError{
       reason: :unknown,
       message: "the session names worker #{inspect(index)}, not one of #{inspect(meta.name)}"
     }}
  end

  def ready_entry(%{name: pool, table: table} = meta, index, worker_id, deadline) do
    case kept_route(pool) do
      {%{table: ^table}, ^index, entry} -> same_incarnation(entry, worker_id)
      _other -> read_entry(meta, index, worker_id, deadline)
    end
  end

  defp same_incarnation(Entry.ready(incarnation: incarnation) = entry, worker_id) do
    if worker_id == nil or elem(worker_id, 2) == incarnation,
      do: {:ok, entry},
      else: {:error, worker_lost(worker_id)}
  end

  defp read_entry(meta, index, worker_id, deadline) do
    case Table.entry(meta, index) do
      Entry.ready() = entry ->
        :erlang.put(:snakebridge_route, {meta, index, entry})
        same_incarnation(entry, worker_id)

      # The ref's incarnation is gone whatever comes next.
      _not_ready when worker_id != nil ->
        {:error, worker_lost(worker_id)}

      {:starting, server} ->
        await_start(server, meta, index, deadline)

      {:failed, _server, error} ->
        {:error, error}

      :absent ->
        # Between a worker's death and its replacement's init: a few milliseconds.
        if remaining(deadline) == 0 do
          {:error,
           %WorkerCrashError{reason: "worker #{index} of #{inspect(meta.name)} is not running"}}
        else
          Process.sleep(5)
          # Read the pool again: it may have been restarted or stopped meanwhile.
          ready_entry(Table.meta(meta.name), index, worker_id, deadline)
        end
    end
  end

  defp await_start(server, meta, index, deadline) do
    WorkerServer.await_ready(server, remaining(deadline))
    ready_entry(Table.meta(meta.name), index, nil, deadline)
  catch
    :exit, {:timeout, _} ->
      {:error,
       %WorkerCrashError{reason: "worker #{index} of #{inspect(meta.name)} is still starting"}}

    # It died while starting: its replacement may be up already.
    :exit, _ ->
      ready_entry(Table.meta(meta.name), index, nil, deadline)
  end

  @doc "Forgets the calling process's kept route: its worker's channel was found closed."
  @spec forget() :: term
  def forget, do: :erlang.erase(:snakebridge_route)

  @doc "The error for a ref whose worker is gone."
  @spec worker_lost(Entry.worker_id()) :: RefError.t()
  def worker_lost(worker_id) do
    case Remote.lost_to(worker_id) do
      nil ->
        %RefError{
          reason: :worker_lost,
          message: "the worker that held this ref (#{inspect(worker_id)}) died and was replaced"
        }

      node ->
        %RefError{
          reason: :node_down,
          message:
            "the node that held this ref (#{inspect(worker_id)}), #{node}, went down or " <>
              "became unreachable"
        }
    end
  end

  @doc "The deadline, in `now_ms/0` time, of a call with `timeout`."
  @spec deadline(timeout) :: integer | :infinity
  def deadline(:infinity), do: :infinity
  def deadline(timeout), do: now_ms() + timeout

  @doc "Milliseconds left until `deadline`."
  @spec remaining(integer | :infinity) :: timeout
  def remaining(:infinity), do: :infinity
  def remaining(deadline), do: max(deadline - now_ms(), 0)

  # The monotonic clock in milliseconds. Asking :erlang for :millisecond costs ~120 ns
  # (a unit conversion); the native clock and one division ~80 ns, twice a call. The
  # native unit is fixed for a given OS and VM build (nanoseconds on Linux), so it is
  # read when this module is compiled, on the machine that runs it.
  @native_per_ms System.convert_time_unit(1, :millisecond, :native)
  @doc "The monotonic clock in milliseconds."
  @spec now_ms() :: integer
  def now_ms, do: div(:erlang.monotonic_time(), @native_per_ms)
end
