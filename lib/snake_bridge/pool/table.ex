defmodule SnakeBridge.Pool.Table do
  @moduledoc false
  # A pool's routing state, shared without a process on the call path.
  #
  # Routing reads only lock-free shared state, so choosing a worker is not a message to
  # a pool process: a persistent_term with the pool's static facts (size, limits, the
  # ETS table of worker entries), and in each ready worker's entry an :atomics counter
  # of its requests in flight. A caller keeps a copy of the facts and the entry it last
  # used (SnakeBridge.Call.Route) until the entry is retired: replaced or removed here.
  #
  # A caller counts its request in before sending it; the worker's router counts it out
  # when it forwards the request's final reply. Counting out there, not in the caller,
  # keeps the count right when a caller is killed mid-call (no `after` runs then) or
  # abandons a call Python is still running. The counter belongs to one incarnation of
  # the worker, so requests that died with an earlier incarnation are never counted
  # against its replacement.

  require SnakeBridge.Pool.Entry
  alias SnakeBridge.OverloadError
  alias SnakeBridge.Pool.Entry

  @typedoc "A pool's static facts, as callers read them."
  @type meta :: %{
          name: atom,
          size: pos_integer,
          table: :ets.tid(),
          turn: :atomics.atomics_ref(),
          max_queue: non_neg_integer,
          max_frame: pos_integer,
          timeout: timeout,
          kill_grace: non_neg_integer,
          output: :logger | :caller
        }

  @doc "Publishes the facts of a pool that is starting; returns them."
  @spec publish(map) :: meta
  def publish(config) do
    meta = %{
      name: config.name,
      size: config.size,
      table: :ets.new(__MODULE__, [:set, :public, read_concurrency: true]),
      turn: :atomics.new(1, signed: false),
      max_queue: config.max_queue,
      max_frame: config.max_frame,
      timeout: config.timeout,
      kill_grace: config.kill_grace,
      output: config.output
    }

    :persistent_term.put({__MODULE__, config.name}, meta)
    meta
  end

  @doc """
  Forgets a pool that has stopped. Entries its workers left behind (a worker killed
  before it could remove its own) are retired first.
  """
  @spec unpublish(atom) :: boolean
  def unpublish(pool) do
    with %{table: table, size: size} <- lookup(pool), do: retire_all(table, size)
    :persistent_term.erase({__MODULE__, pool})
  end

  # A pool killed outright took its table with it; its workers, which trap exits,
  # retired their own entries as they stopped (see `retire/1`).
  defp retire_all(table, size) do
    for index <- 0..(size - 1), do: retire_entry(lookup_entry(table, index))
  rescue
    ArgumentError -> []
  end

  @doc "A running pool's facts; raises ArgumentError for an unknown pool."
  @spec meta(atom) :: meta
  def meta(pool) do
    :persistent_term.get({__MODULE__, pool})
  rescue
    ArgumentError -> raise ArgumentError, "no SnakeBridge pool named #{inspect(pool)} is running"
  end

  @doc "A running pool's facts, or nil."
  @spec lookup(atom) :: meta | nil
  def lookup(pool), do: :persistent_term.get({__MODULE__, pool}, nil)

  @doc """
  Puts `entry` in worker `index`'s slot. The ready entry it replaces is retired (see
  `retired?/1`), so no caller goes on using a copy of it.
  """
  @spec put_entry(atom, non_neg_integer, Entry.t()) :: true
  def put_entry(pool, index, entry) do
    table = meta(pool).table
    previous = lookup_entry(table, index)
    :ets.insert(table, {index, entry})
    retire_replaced(previous, entry)
  end

  # An entry updated in place (the same worker's, its counter kept) stays in use.
  defp retire_replaced(Entry.ready(load: load), Entry.ready(load: load)), do: true
  defp retire_replaced(previous, _entry), do: retire_entry(previous)

  @spec entry(meta | atom, non_neg_integer) :: Entry.t()
  def entry(%{table: table}, index), do: lookup_entry(table, index)
  def entry(pool, index), do: lookup_entry(meta(pool).table, index)

  defp lookup_entry(table, index) do
    case :ets.lookup(table, index) do
      [{_, entry}] -> entry
      [] -> :absent
    end
  end

  @doc """
  Removes the entry of `index` if its server is still `server`; nothing if the pool has
  stopped meanwhile (its table went with it).
  """
  def delete_entry(pool, index, server) do
    with %{table: table} <- lookup(pool) do
      case :ets.lookup(table, index) do
        [{_, {:starting, ^server}}] ->
          :ets.delete(table, index)

        [{_, {:failed, ^server, _}}] ->
          :ets.delete(table, index)

        [{_, Entry.ready(server: ^server) = entry}] ->
          :ets.delete(table, index)
          retire_entry(entry)

        _ ->
          true
      end
    end
  end

  @doc """
  Adds `path` to the directories the pool's workers put in front of `sys.path` when
  they start (after the pool's `:python_path`, newest first); a path already added
  keeps its place. The pool's ETS table holds them, so they last as long as the pool.
  """
  @spec add_python_path(atom, String.t()) :: :ok
  def add_python_path(pool, path) do
    :ets.insert_new(meta(pool).table, {{:python_path, path}, System.unique_integer([:monotonic])})
    :ok
  end

  @doc "The directories added with `add_python_path/2`, newest first."
  @spec added_python_path(atom) :: [String.t()]
  def added_python_path(pool) do
    meta(pool).table
    |> :ets.match({{:python_path, :"$1"}, :"$2"})
    |> Enum.sort_by(fn [_path, added] -> -added end)
    |> Enum.map(fn [path, _added] -> path end)
  end

  @doc "The ready entries of a pool, with their indexes (none if the pool is gone)."
  @spec ready_entries(atom) :: [{non_neg_integer, Entry.ready()}]
  def ready_entries(pool) do
    case lookup(pool) do
      nil ->
        []

      meta ->
        for index <- 0..(meta.size - 1),
            entry = lookup_entry(meta.table, index),
            Entry.ready?(entry),
            do: {index, entry}
    end
  rescue
    # The pool stopped between the lookup and the read: nothing left to reach.
    ArgumentError -> []
  end

  @doc "Records how worker `index` died; `quick?` if soon after it started."
  def note_death(pool, index, quick?, error) do
    table = meta(pool).table
    key = {:quick_deaths, index}

    deaths =
      case :ets.lookup(table, key) do
        [{_, deaths, _error}] when quick? -> deaths + 1
        [] when quick? -> 1
        _ -> 0
      end

    :ets.insert(table, {key, deaths, error})
  end

  @doc """
  Records why the server `server` (worker `index`) is stopping, for calls that notice
  only afterwards (see SnakeBridge.Call: crash detection). One record per index.
  """
  def note_exit(pool, index, server, error),
    do: :ets.insert(meta(pool).table, {{:exit, index}, server, error})

  @doc "Why the server `server` stopped, if it recorded it; nil otherwise."
  def exit_reason(pool, index, server) do
    case :ets.lookup(meta(pool).table, {:exit, index}) do
      [{_, ^server, error}] -> error
      _ -> nil
    end
  rescue
    ArgumentError -> nil
  end

  @doc "How worker `index` last stopped, if it recorded it; nil otherwise."
  def last_exit(pool, index) do
    case :ets.lookup(meta(pool).table, {:exit, index}) do
      [{_, _server, error}] -> error
      [] -> nil
    end
  rescue
    ArgumentError -> nil
  end

  @doc """
  How long to wait before starting worker `index` again, and how it last died. Quick
  deaths in a row back off exponentially, so a worker that cannot stay up never spins.
  """
  def restart_delay(pool, index) do
    case :ets.lookup(meta(pool).table, {:quick_deaths, index}) do
      [{_, deaths, error}] when deaths >= 2 ->
        {min(100 * Integer.pow(2, deaths - 2), 10_000), error}

      _ ->
        {0, nil}
    end
  end

  # A worker that dies sooner than this after starting counts as a quick death.
  @quick_death_ms 5_000
  @max_backoff 30_000

  @doc "Is a death now, of a worker started at `started_at` (ms, or nil), a quick one?"
  @spec quick_death?(integer | nil) :: boolean
  def quick_death?(nil), do: true

  def quick_death?(started_at),
    do: System.monotonic_time(:millisecond) - started_at < @quick_death_ms

  @doc "The pause before start attempt `failures + 1` after as many failed starts."
  @spec start_backoff(pos_integer) :: pos_integer
  def start_backoff(failures), do: min(100 * Integer.pow(2, failures), @max_backoff)

  @doc "The longest pause between start attempts."
  @spec max_backoff() :: pos_integer
  def max_backoff, do: @max_backoff

  @doc """
  A new in-flight counter for a ready worker (see the module comment). Its second
  slot says whether the entry it belongs to has been retired.
  """
  def new_load, do: :atomics.new(2, signed: true)

  @doc """
  Has the ready entry whose counter is `load` left its slot? A caller may keep a copy
  of an entry (SnakeBridge.Call.Route does) while this says false: the check reads the
  cache line the call's check-in writes anyway, where a table lookup cost about a
  microsecond a call live (bench/README.md, "session 7").
  """
  @spec retired?(:atomics.atomics_ref()) :: boolean
  def retired?(load), do: :atomics.get(load, 2) != 0

  @doc """
  Retires the ready entry whose counter is `load`, from its worker's server as it
  stops: before it touches the table, which is gone if the pool was killed outright.
  """
  @spec retire(:atomics.atomics_ref() | nil) :: :ok
  def retire(nil), do: :ok
  def retire(load), do: :atomics.put(load, 2, 1)

  defp retire_entry(Entry.ready(load: load)) do
    retire(load)
    true
  end

  defp retire_entry(_entry), do: true

  @doc "The least busy worker, ties broken in turn so idle workers share the work."
  def least_busy(%{size: 1}), do: 0

  def least_busy(%{size: size, turn: turn} = meta) do
    start = :atomics.add_get(turn, 1, 1)

    Enum.min_by(0..(size - 1), fn offset ->
      index = rem(start + offset, size)
      {busyness(meta, index), offset}
    end)
    |> then(&rem(start + &1, size))
  end

  @doc """
  Counts a request in on `load`: `:queued` if other requests are in flight on the
  worker, else `:ok`; refuses it when the worker's queue is full.
  """
  @spec check_in(meta, non_neg_integer, :atomics.atomics_ref()) ::
          :ok | :queued | {:error, OverloadError.t()}
  def check_in(%{max_queue: max_queue, name: name}, index, load) do
    case :atomics.add_get(load, 1, 1) do
      1 ->
        :ok

      in_flight when in_flight > max_queue + 1 ->
        :atomics.sub(load, 1, 1)
        {:error, %OverloadError{pool: name, worker: index, queued: in_flight - 2}}

      _in_flight ->
        :queued
    end
  end

  @doc "Counts out one request (its final reply); nil for a request not counted."
  def count_out(nil), do: :ok
  def count_out(load), do: :atomics.sub(load, 1, 1)

  @doc "Requests waiting behind a busy worker, over the whole pool."
  def queued(%{size: size} = meta) do
    Enum.reduce(0..(size - 1), 0, fn index, acc -> acc + max(in_flight(meta, index) - 1, 0) end)
  end

  @doc "Requests in flight on a worker (none if it is not ready)."
  def in_flight(meta, index) do
    case lookup_entry(meta.table, index) do
      Entry.ready(load: load) -> :atomics.get(load, 1)
      _ -> 0
    end
  end

  # A worker that failed to start counts as full, so new sessions avoid it while
  # another worker runs.
  defp busyness(meta, index) do
    case lookup_entry(meta.table, index) do
      {:failed, _server, _error} -> meta.max_queue + 1
      _ -> in_flight(meta, index)
    end
  end
end
