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
      worker is replaced, in ms (default 2 000).

  ## Pools on other nodes

  With `node: :"py@gpu-host"` (or `nodes: [...]`), each worker's Python process runs on
  that node, and calls reach it over Erlang distribution: the calling code does not
  change. The far node must run SnakeBridge (the same version, started) with the
  Python environment the pool needs (the interpreter, `python_deps`); the path
  options (`:python`, `:venv`, `:python_path`) are read there. A node that is down
  leaves its workers failed until it comes back. See "Nodes" in docs/LIFECYCLE.md.

  ## Interpreter

  First found wins: the `:python` option or config, the `SNAKEBRIDGE_PYTHON`
  environment variable, the managed virtualenv, then `python3` on the `PATH`.
  """

  use Supervisor

  alias SnakeBridge.Pool.{Remote, Table, WorkerServer}

  @max_frame_limit 4_294_967_295

  @defaults [
    size: nil,
    node: nil,
    nodes: nil,
    python: nil,
    venv: nil,
    python_path: [],
    env: [],
    max_frame: @max_frame_limit,
    max_refs: 1_000_000,
    max_queue: 10_000,
    timeout: 30_000,
    kill_grace: 2_000
  ]

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

  @doc "The pool options' names."
  @spec option_names() :: [atom]
  def option_names, do: [:name | Keyword.keys(@defaults)]

  @doc """
  Starts a pool linked to the calling process. See the module doc for the options.

  Raises `ArgumentError` for an unknown option or a value of the wrong type:

      iex> SnakeBridge.Pool.start_link(name: :doc_pool, sise: 2)
      ** (ArgumentError) unknown option :sise for SnakeBridge.Pool; valid: [:name, :size, :node, :nodes, :python, :venv, :python_path, :env, :max_frame, :max_refs, :max_queue, :timeout, :kill_grace]
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

  @doc false
  # The pool's full configuration: `opts` over the application's config over the
  # defaults, every value checked.
  def config(opts) do
    SnakeBridge.Options.validate!(opts, option_names(), "SnakeBridge.Pool")
    app_env = Application.get_all_env(:snakebridge) |> Keyword.take(Keyword.keys(@defaults))
    opts = Keyword.merge(@defaults, app_env) |> Keyword.merge(opts)
    opts = Keyword.put(opts, :size, opts[:size] || System.schedulers_online())
    Enum.each(opts, &check_value/1)
    nodes = nodes!(opts[:node], opts[:nodes])

    # `size` is per node; the table counts every worker of the pool.
    opts
    |> Keyword.put_new(:name, :default)
    |> Keyword.drop([:node])
    |> Keyword.merge(nodes: nodes, size: opts[:size] * length(nodes))
    |> Map.new()
  end

  defp nodes!(nil, nil), do: [node()]
  defp nodes!(node, nil), do: [node]
  defp nodes!(nil, nodes), do: nodes

  defp nodes!(node, nodes) do
    raise ArgumentError,
          "expected :node or :nodes, not both, got: node: #{inspect(node)}, " <>
            "nodes: #{inspect(nodes)}"
  end

  @doc false
  # Raises ArgumentError unless `{key, value}` is a valid pool setting.
  def check_value({key, value}) do
    unless valid?(key, value) do
      raise ArgumentError,
            "expected #{inspect(key)} to be #{expected(key)}, got: #{inspect(value)}"
    end
  end

  defp valid?(:name, value), do: is_atom(value)
  defp valid?(:size, value), do: is_integer(value) and value > 0
  defp valid?(:node, value), do: value == nil or (is_atom(value) and value != false)

  defp valid?(:nodes, value),
    do: value == nil or (is_list(value) and value != [] and Enum.all?(value, &is_atom/1))

  defp valid?(key, value) when key in [:python, :venv], do: value == nil or is_binary(value)
  defp valid?(:python_path, value), do: is_list(value) and Enum.all?(value, &is_binary/1)
  defp valid?(:env, value), do: is_list(value) and Enum.all?(value, &env_pair?/1)

  defp valid?(:max_frame, value),
    do: is_integer(value) and value > 0 and value <= @max_frame_limit

  defp valid?(:max_refs, value), do: is_integer(value) and value > 0

  defp valid?(key, value) when key in [:max_queue, :kill_grace],
    do: is_integer(value) and value >= 0

  defp valid?(:timeout, value), do: value == :infinity or (is_integer(value) and value >= 0)

  defp env_pair?({name, value}), do: is_binary(name) and (value == nil or is_binary(value))
  defp env_pair?(_), do: false

  defp expected(:name), do: "an atom"
  defp expected(:size), do: "a positive integer"
  defp expected(:node), do: "a node name (an atom)"
  defp expected(:nodes), do: "a non-empty list of node names (atoms)"
  defp expected(key) when key in [:python, :venv], do: "a path (a string) or nil"
  defp expected(:python_path), do: "a list of directories (strings)"
  defp expected(:env), do: "a list of {name, value} string pairs (nil unsets)"
  defp expected(:max_frame), do: "a positive integer of at most #{@max_frame_limit}"
  defp expected(:max_refs), do: "a positive integer"
  defp expected(key) when key in [:max_queue, :kill_grace], do: "a non-negative integer (ms)"
  defp expected(:timeout), do: "a non-negative integer (ms) or :infinity"

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
