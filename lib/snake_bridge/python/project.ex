defmodule SnakeBridge.Python.Project do
  @moduledoc false
  # What a Mix project declares for its managed Python environment, merged with what its
  # dependencies declare, as the spec the Python CLI reads.
  #
  # Keys in `project/0` of mix.exs:
  #
  #   * `python_deps` - PEP 508 strings, e.g. `["numpy>=2", "torch==2.5.*"]`;
  #   * `python_indexes` - simple-index URLs or local directories of wheels, searched
  #     before PyPI; relative directories are from that project's root;
  #   * `python_pypi` - `false` drops PyPI (air-gapped machines, tests), default `true`;
  #   * `python_variants` - a TOML file of distribution-name variants extending the
  #     shipped rules, default `"snakebridge_variants.toml"` if it exists.
  #
  # Each Elixir dependency's own `python_deps` and `python_indexes` are merged in, with
  # the app that asked kept beside each entry so conflicts can say who asked for what
  # (the merge and its conflict check run in Python, where `packaging` is).

  alias SnakeBridge.Interpreter

  @lock_dir "priv/snakebridge"

  @doc "The spec for the current Mix project, as a map ready for JSON."
  @spec spec() :: map
  def spec do
    config = Mix.Project.config()
    root = File.cwd!()
    app = config[:app] || :project

    {deps, indexes} =
      [{app, root, config} | dep_configs()]
      |> Enum.map(fn {name, dir, conf} -> declared(name, dir, conf) end)
      |> Enum.unzip()

    %{
      "project_dir" => root,
      "lock_dir" => Path.join(root, @lock_dir),
      "venv" => Interpreter.venv_dir([]),
      "deps" => List.flatten(deps),
      "indexes" => List.flatten(indexes),
      "pypi" => Keyword.get(config, :python_pypi, true),
      "rules" => rules(root, config)
    }
  end

  defp dep_configs do
    for {app, dir} <- Enum.sort(Mix.Project.deps_paths()),
        File.regular?(Path.join(dir, "mix.exs")) do
      {app, dir, Mix.Project.in_project(app, dir, fn _ -> Mix.Project.config() end)}
    end
  end

  defp declared(app, dir, config) do
    origin = Atom.to_string(app)
    deps = strings!(config, :python_deps, app)
    indexes = strings!(config, :python_indexes, app)

    {Enum.map(deps, &%{"requirement" => &1, "origin" => origin}),
     Enum.map(indexes, &%{"url" => index_url(&1, dir), "origin" => origin})}
  end

  defp index_url(entry, dir) do
    if entry =~ ~r{^[a-z][a-z0-9+.-]*://}i, do: entry, else: Path.expand(entry, dir)
  end

  defp strings!(config, key, app) do
    value = Keyword.get(config, key, [])

    unless is_list(value) and Enum.all?(value, &is_binary/1) do
      Mix.raise(
        "expected #{inspect(key)} of #{inspect(app)} to be a list of strings, " <>
          "got: #{inspect(value)}"
      )
    end

    value
  end

  defp rules(root, config) do
    case Keyword.fetch(config, :python_variants) do
      {:ok, path} when is_binary(path) ->
        [Path.expand(path, root)]

      {:ok, other} ->
        Mix.raise("expected :python_variants to be a path, got: #{inspect(other)}")

      :error ->
        default = Path.join(root, "snakebridge_variants.toml")
        if File.regular?(default), do: [default], else: []
    end
  end

  @doc """
  A digest of everything that decides the environment's contents: the spec, the lock
  directory's files, the rule files, the accelerator override, the engine's shipped
  rules and the installed distributions' names. Equal digests mean `mix snakebridge.setup` has nothing to do.
  """
  @spec fingerprint(map) :: String.t()
  def fingerprint(spec) do
    files =
      Enum.map(~w(pyproject.toml uv.toml uv.lock), &Path.join(spec["lock_dir"], &1)) ++
        spec["rules"] ++ [Path.join(engine_dir(), "snakebridge/variants.toml")]

    contents = Enum.map(files, &(File.read(&1) |> elem_or_empty()))
    accelerator = System.get_env("SNAKEBRIDGE_ACCELERATOR", "")
    # What is installed, by name and version, without asking Python: an uninstalled or
    # replaced package changes the digest, so setup repairs it instead of saying "no-op".
    installed =
      Path.join(spec["venv"], "lib/python*/site-packages/*.dist-info")
      |> Path.wildcard()
      |> Enum.map(&Path.basename/1)

    data = [SnakeBridge.Python.JSON.encode(spec), accelerator, installed | contents]
    # A change detector, not a security boundary: the BIF avoids depending on :crypto.
    :erlang.md5(Enum.intersperse(data, <<0>>)) |> Base.encode16(case: :lower)
  end

  defp elem_or_empty({:ok, data}), do: data
  defp elem_or_empty({:error, _}), do: ""

  @doc "Where the engine's Python code is, read from this source tree (no app needed)."
  @spec engine_dir() :: String.t()
  def engine_dir, do: Path.expand("../../../priv/python", __DIR__)
end
