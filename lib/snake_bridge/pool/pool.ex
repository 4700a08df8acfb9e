defmodule SnakeBridge.Pool do
  @moduledoc """
  A supervised pool of Python worker processes.

  The application starts the pools named in its configuration (one `:default` pool
  unless `config :snakebridge, pools: [...]` says otherwise). A pool can also be
  started under your own supervisor, e.g. for a test or a pool with its own limits:

      children = [{SnakeBridge.Pool, name: :gpu, size: 1, timeout: 120_000}]
      Supervisor.start_link(children, strategy: :one_for_one)

  Calls choose it with the `:pool` option (`SnakeBridge.call(..., pool: :gpu)`); a call
  that carries a ref goes to the pool and worker holding it.

  ## Options

  Each option falls back to the application's configuration (`config :snakebridge,
  key: value`), then to the default below. An unknown option, or a value of the wrong
  type, raises `ArgumentError` when the pool starts.

    * `:name` — the pool's name, an atom (default `:default`);
    * `:size` — how many worker processes, on each of the pool's nodes (default:
      `System.schedulers_online/0`);
    * `:node` — the connected node the workers run on (default: this node); see
      "Pools on other nodes" below;
    * `:nodes` — a list of nodes to spread the workers over, `:size` on each (give
      `:node` or `:nodes`, not both);
    * `:python` — the interpreter's path (default: see "Interpreter" below);
    * `:venv` — a virtualenv whose `bin/python` to use (default `".venv"`, if it
      exists);
    * `:python_path` — directories put in front of the workers' `sys.path` (default
      `[]`);
    * `:env` — extra environment variables for the workers, `[{name, value}]` with
      string names and string (or nil, to unset) values (default `[]`);
    * `:max_frame` — the largest request or reply in bytes (default and maximum
      4 294 967 295);
    * `:max_refs` — live refs allowed per session (default 1 000 000);
    * `:max_queue` — requests that may wait behind a busy worker before calls get
      `SnakeBridge.OverloadError` (default 10 000);
    * `:timeout` — the default call timeout in ms, or `:infinity` (default 30 000);
    * `:kill_grace` — how long an interrupted call may take to unwind before its
      worker is replaced, in ms (default 2 000);
    * `:output` — where what a call prints goes: `:logger` (default) or `:caller`,
      the calling process's group leader (see `SnakeBridge`'s bridge options).

  ## Pools on other nodes

  With `node: :"py@gpu-host"` (or `nodes: [...]`), each worker's Python process runs on
  that node, and calls reach it over Erlang distribution: the calling code does not
  change. The far node must run SnakeBridge (the same version, started) with the
  Python environment the pool needs (the interpreter, `python_deps`). The path
  options (`:python`, `:venv`, `:python_path`) name paths on that node; the pool's
  options, this node's `config :snakebridge` defaults included, travel with the pool,
  and only what neither sets falls back to the far node's own config. A node that is down
  leaves its workers failed until it comes back. See "Nodes" in docs/LIFECYCLE.md.

  ## Interpreter

  First found wins: the `:python` option or config, the `SNAKEBRIDGE_PYTHON`
  environment variable, the managed virtualenv, then `python3` on the `PATH`.
  """

  use Supervisor

  alias SnakeBridge.Pool.{Config, Remote, Table, WorkerServer}

  @typedoc "A pool option (see the module doc)."
  @type option ::
          {:name, atom}
          | {:size, pos_integer}
          | {:node, node}
          | {:nodes, [node, ...]}
          | {:python, String.t()}
          | {:venv, String.t()}
          | {:python_path, [String.t()]}
          | {:env, [{String.t(), String.t() | nil}]}
          | {:max_frame, pos_integer}
          | {:max_refs, pos_integer}
          | {:max_queue, non_neg_integer}
          | {:timeout, timeout}
          | {:kill_grace, non_neg_integer}
          | {:output, :logger | :caller}

  @doc "The pool options' names."
  @spec option_names() :: [atom]
  defdelegate option_names, to: Config

  @doc false
  defdelegate config(opts), to: Config

  @doc false
  defdelegate check_value(setting), to: Config

  @doc """
  Starts a pool linked to the calling process. See the module doc for the options.

  Raises `ArgumentError` for an unknown option or a value of the wrong type:

      iex> SnakeBridge.Pool.start_link(name: :doc_pool, sise: 2)
      ** (ArgumentError) unknown option :sise for SnakeBridge.Pool; valid: [:name, :size, :node, :nodes, :python, :venv, :python_path, :env, :max_frame, :max_refs, :max_queue, :timeout, :kill_grace, :output]
  """
  @spec start_link([option]) :: Supervisor.on_start()
  def start_link(opts) when is_list(opts) do
    config = config(opts)
    Supervisor.start_link(__MODULE__, config, name: supervisor_name(config.name))
  end

  @doc "A child spec for a pool; `opts` as in `start_link/1`."
  @spec child_spec([option]) :: Supervisor.child_spec()
  def child_spec(opts) when is_list(opts) do
    name = Keyword.get(opts, :name, :default)
    %{id: {__MODULE__, name}, start: {__MODULE__, :start_link, [opts]}, type: :supervisor}
  end

  # Workers interleave over the nodes, so a pool's first workers are on different nodes.
  defp worker_spec(%{nodes: nodes} = config, index) do
    case Enum.at(nodes, rem(index, length(nodes))) do
      node when node == node() -> {WorkerServer, {config.name, index, config}}
      node -> {Remote.Worker, {config.name, index, node, config}}
    end
  end

  defp supervisor_name(name), do: :"Elixir.SnakeBridge.Pool.#{name}"

  @impl true
  def init(config) do
    Table.publish(config)
    workers = for index <- 0..(config.size - 1), do: worker_spec(config, index)
    children = [{__MODULE__.Facts, config.name} | workers]
    # Restarts are paced by each worker (see WorkerServer: quick deaths back off), so
    # the supervisor itself must not give up on a pool whose workers users crash on
    # purpose.
    Supervisor.init(children, strategy: :one_for_one, max_restarts: 10_000, max_seconds: 1)
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
  def terminate(_reason, pool), do: SnakeBridge.Pool.Table.unpublish(pool)
end
