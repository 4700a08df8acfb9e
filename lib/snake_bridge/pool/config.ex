defmodule SnakeBridge.Pool.Config do
  @moduledoc false
  # A pool's configuration: its options (documented in SnakeBridge.Pool) over the
  # application's config over the defaults, every value checked. Its own module, below
  # the pool and the remote worker's host, which both build one.

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
    kill_grace: 2_000,
    output: :logger
  ]

  @doc "The pool options' names."
  def option_names, do: [:name | Keyword.keys(@defaults)]

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
  defp valid?(:output, value), do: value in [:logger, :caller]

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
  defp expected(:output), do: ":logger or :caller"
end
