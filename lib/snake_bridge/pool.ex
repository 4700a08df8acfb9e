defmodule SnakeBridge.Pool do
  @moduledoc false
  # A supervised set of workers with shared routing state.
  #
  # Routing reads only lock-free shared state, so choosing a worker is not a message to
  # a pool process: a persistent_term with the pool's static facts (size, limits, the
  # ETS table of worker entries), and in each ready worker's entry an :atomics counter
  # of its requests in flight.
  #
  # A caller counts its request in before sending it; the worker process counts it out
  # when it forwards the request's final reply. Counting out there, not in the caller,
  # keeps the count right when a caller is killed mid-call (no `after` runs then) or
  # abandons a call Python is still running. The counter belongs to one incarnation of
  # the worker, so requests that died with an earlier incarnation are never counted
  # against its replacement.

  use Supervisor

  alias SnakeBridge.{OverloadError, Worker}

  @defaults [
    size: nil,
    python: nil,
    venv: nil,
    python_path: [],
    env: [],
    max_frame: 4_294_967_295,
    max_refs: 1_000_000,
    max_queue: 10_000,
    timeout: 30_000,
    kill_grace: 2_000
  ]

  @doc false
  def defaults, do: @defaults

  @doc false
  def start_link(opts) do
    config = config(opts)
    Supervisor.start_link(__MODULE__, config, name: supervisor_name(config.name))
  end

  @doc false
  def child_spec(opts) do
    name = Keyword.get(opts, :name, :default)
    %{id: {__MODULE__, name}, start: {__MODULE__, :start_link, [opts]}, type: :supervisor}
  end

  @doc false
  def config(opts) do
    app_env = Application.get_all_env(:snakebridge) |> Keyword.take(Keyword.keys(@defaults))
    opts = Keyword.merge(@defaults, app_env) |> Keyword.merge(opts)
    size = opts[:size] || System.schedulers_online()

    unless is_integer(size) and size > 0 do
      raise ArgumentError, "expected :size to be a positive integer, got: #{inspect(size)}"
    end

    opts |> Keyword.put(:size, size) |> Keyword.put_new(:name, :default) |> Map.new()
  end

  defp supervisor_name(name), do: :"Elixir.SnakeBridge.Pool.#{name}"

  @impl true
  def init(config) do
    table = :ets.new(__MODULE__, [:set, :public, read_concurrency: true])

    meta = %{
      name: config.name,
      size: config.size,
      table: table,
      turn: :atomics.new(1, signed: false),
      max_queue: config.max_queue,
      max_frame: config.max_frame,
      timeout: config.timeout,
      kill_grace: config.kill_grace
    }

    :persistent_term.put({__MODULE__, config.name}, meta)
    workers = for index <- 0..(config.size - 1), do: {Worker, {config.name, index, config}}
    children = [{__MODULE__.Facts, config.name} | workers]
    # Restarts are paced by each worker (see Worker: quick deaths back off), so the
    # supervisor itself must not give up on a pool whose workers users crash on purpose.
    Supervisor.init(children, strategy: :one_for_one, max_restarts: 10_000, max_seconds: 1)
  end

  @doc false
  def meta(pool) do
    :persistent_term.get({__MODULE__, pool})
  rescue
    ArgumentError -> raise ArgumentError, "no SnakeBridge pool named #{inspect(pool)} is running"
  end

  @doc false
  def put_entry(pool, index, entry), do: :ets.insert(meta(pool).table, {index, entry})

  @doc false
  def entry(%{table: table}, index), do: lookup_entry(table, index)
  def entry(pool, index), do: lookup_entry(meta(pool).table, index)

  defp lookup_entry(table, index) do
    case :ets.lookup(table, index) do
      [{_, entry}] -> entry
      [] -> :absent
    end
  end

  @doc false
  def delete_entry(pool, index, pid) do
    table = meta(pool).table

    case :ets.lookup(table, index) do
      [{_, entry}] when elem(entry, 1) == pid -> :ets.delete(table, index)
      _ -> :ok
    end
  end

  @doc false
  # Records how worker `index` died; `quick?` if soon after it started.
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

  @doc false
  # Records why the worker process `pid` (worker `index`) is stopping, for calls that
  # notice only afterwards (see Runtime: crash detection). One record per index.
  def note_exit(pool, index, pid, error),
    do: :ets.insert(meta(pool).table, {{:exit, index}, pid, error})

  @doc false
  # Why the worker process `pid` stopped, if it recorded it; nil otherwise.
  def exit_reason(pool, index, pid) do
    case :ets.lookup(meta(pool).table, {:exit, index}) do
      [{_, ^pid, error}] -> error
      _ -> nil
    end
  rescue
    ArgumentError -> nil
  end

  @doc false
  # How long to wait before starting worker `index` again, and how it last died. Quick
  # deaths in a row back off exponentially, so a worker that cannot stay up never spins.
  def restart_delay(pool, index) do
    case :ets.lookup(meta(pool).table, {:quick_deaths, index}) do
      [{_, deaths, error}] when deaths >= 2 ->
        {min(100 * Integer.pow(2, deaths - 2), 10_000), error}

      _ ->
        {0, nil}
    end
  end

  @doc false
  # A ready worker's in-flight counter (see the module comment).
  def new_load, do: :atomics.new(1, signed: true)

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

  @doc "Counts a request in on `load`; refuses it when the worker's queue is full."
  def check_in(%{max_queue: max_queue, name: name}, index, load) do
    in_flight = :atomics.add_get(load, 1, 1)

    if in_flight > max_queue + 1 do
      :atomics.sub(load, 1, 1)
      {:error, %OverloadError{pool: name, worker: index, queued: in_flight - 2}}
    else
      :ok
    end
  end

  @doc false
  # Counts out one request of the worker whose counter is `load` (its final reply);
  # nil for a request that was not counted.
  def count_out(nil), do: :ok
  def count_out(load), do: :atomics.sub(load, 1, 1)

  @doc false
  def queued(%{size: size} = meta) do
    Enum.reduce(0..(size - 1), 0, fn index, acc -> acc + max(in_flight(meta, index) - 1, 0) end)
  end

  @doc false
  # Requests in flight on a worker (none if it is not ready).
  def in_flight(meta, index) do
    case :ets.lookup(meta.table, index) do
      [{_, {:ready, _pid, _port, _control, _incarnation, load}}] -> :atomics.get(load, 1)
      _ -> 0
    end
  end

  # A worker that failed to start counts as full, so new sessions avoid it while
  # another worker runs.
  defp busyness(meta, index) do
    case :ets.lookup(meta.table, index) do
      [{_, {:failed, _pid, _error}}] -> meta.max_queue + 1
      _ -> in_flight(meta, index)
    end
  end
end

defmodule SnakeBridge.Pool.Facts do
  @moduledoc false
  # A pool's first child, so the last to stop: when the pool stops, it erases the
  # pool's routing facts, and calls to the stopped pool then get a clear ArgumentError
  # instead of one from a dead ETS table.
  use GenServer

  def start_link(pool), do: GenServer.start_link(__MODULE__, pool)

  @impl true
  def init(pool) do
    Process.flag(:trap_exit, true)
    {:ok, pool}
  end

  @impl true
  def terminate(_reason, pool), do: :persistent_term.erase({SnakeBridge.Pool, pool})
end
