defmodule SnakeBridge.Gen.Project do
  @moduledoc false
  # Generated wrappers for one Mix project: its declared wrappers, its committed API
  # data (`python_api/<module>.terms`), the generated sources (`lib/<prefix>/...`) and
  # the manifest that lists them.
  #
  # The up-to-date check hashes the inputs (wrapper config, prefix, the API data files,
  # the generator's code and Elixir's version) and compares with the manifest: it never
  # starts Python. Python runs only to introspect: for declared modules without API
  # data (the compiler), or on `mix snakebridge.gen`, which re-introspects a module
  # when its resolved library version, its `only:` list or the introspector changed.

  alias SnakeBridge.Gen.{API, Emitter, Introspector, Naming, Writer}

  @api_dir "python_api"

  defstruct [:root, :wrappers, :prefix, :manifest, :lock, :tools]

  @type wrapper :: {String.t(), [String.t()] | nil}
  @type t :: %__MODULE__{
          root: Path.t(),
          wrappers: [wrapper],
          prefix: String.t(),
          manifest: Path.t(),
          lock: Path.t(),
          tools: Path.t()
        }

  @doc "The project from Mix's config (`python_wrappers`, `python_wrappers_prefix`)."
  @spec load(keyword) :: t
  def load(config \\ Mix.Project.config()) do
    build_root = Path.dirname(Mix.Project.build_path())

    %__MODULE__{
      root: File.cwd!(),
      wrappers: config |> Keyword.get(:python_wrappers, []) |> Enum.map(&wrapper!/1),
      prefix: prefix!(Keyword.get(config, :python_wrappers_prefix, "Py")),
      manifest: Path.join(Mix.Project.manifest_path(config), "compile.snakebridge"),
      lock: Path.join(build_root, "snakebridge.lock"),
      tools: Path.join(build_root, "snakebridge_tools")
    }
  end

  defp wrapper!(module) when is_binary(module), do: {valid_module!(module), nil}

  defp wrapper!({module, opts} = entry) when is_binary(module) and is_list(opts) do
    opts = Keyword.validate!(opts, [:only])

    case opts[:only] do
      nil -> {valid_module!(module), nil}
      names when is_list(names) and names != [] -> {valid_module!(module), Enum.sort(names)}
      _ -> raise ArgumentError, "expected only: to be a list of names, got: #{inspect(entry)}"
    end
  end

  defp wrapper!(other) do
    raise ArgumentError,
          "expected each python_wrappers entry to be a module name or {name, only: [...]}, " <>
            "got: #{inspect(other)}"
  end

  defp valid_module!(module) do
    if module =~ ~r/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/,
      do: module,
      else:
        raise(ArgumentError, "not a Python module name in python_wrappers: #{inspect(module)}")
  end

  defp prefix!(prefix) when is_binary(prefix) do
    if prefix =~ ~r/^[A-Z][A-Za-z0-9_]*(\.[A-Z][A-Za-z0-9_]*)*$/,
      do: prefix,
      else:
        raise(
          ArgumentError,
          "python_wrappers_prefix must be an alias like \"Py\", got: #{inspect(prefix)}"
        )
  end

  defp prefix!(other), do: prefix!(inspect(other))

  @doc "The API data path of `module`, relative to the project root."
  @spec api_path(String.t()) :: Path.t()
  def api_path(module), do: API.path(@api_dir, module)

  @doc "The declared modules."
  @spec modules(t) :: [String.t()]
  def modules(project), do: Enum.map(project.wrappers, &elem(&1, 0))

  # ------------------------------------------------------------------ staleness

  @doc "True when the generated sources match the inputs (reads files only)."
  @spec up_to_date?(t) :: boolean
  def up_to_date?(project) do
    case read_manifest(project) do
      %{key: key, files: files} ->
        key == key(project) and Enum.all?(files, &File.regular?(Path.join(project.root, &1)))

      _ ->
        false
    end
  end

  defp key(project) do
    data =
      for {module, _} <- project.wrappers do
        case File.read(Path.join(project.root, api_path(module))) do
          {:ok, text} -> :erlang.md5(text)
          {:error, _} -> :missing
        end
      end

    inputs = {generator(), System.version(), project.wrappers, project.prefix, data}
    Base.encode16(:erlang.md5(:erlang.term_to_binary(inputs)), case: :lower)
  end

  defp read_manifest(project) do
    with {:ok, binary} <- File.read(project.manifest),
         {:snakebridge_gen, 1, manifest} <- safe_binary_to_term(binary) do
      manifest
    else
      _ -> %{files: []}
    end
  end

  defp safe_binary_to_term(binary) do
    :erlang.binary_to_term(binary)
  rescue
    ArgumentError -> :invalid
  end

  # ------------------------------------------------------------------ introspection

  @doc """
  Introspects the `selected` declared modules whose API data is missing or stale (or
  all of them with `force: true`) and writes their API data. Returns the written paths.
  """
  @spec refresh(t, [String.t()], keyword) :: {:ok, [Path.t()]} | {:error, String.t()}
  def refresh(project, selected, opts \\ []) do
    with {:ok, plan} <- plan(project, selected, opts) do
      Enum.reduce_while(plan, {:ok, []}, fn {module, only}, {:ok, written} ->
        case Introspector.introspect(module, only, project.tools) do
          {:ok, text} ->
            path = api_path(module)

            Writer.with_lock(project.lock, fn ->
              Writer.write(Path.join(project.root, path), text)
            end)

            {:cont, {:ok, [path | written]}}

          {:error, message} ->
            {:halt, {:error, message}}
        end
      end)
    end
  end

  @doc "The API data text `selected` modules would have now, by path (for --check)."
  @spec fresh_data(t, [String.t()]) :: {:ok, %{Path.t() => String.t()}} | {:error, String.t()}
  def fresh_data(project, selected) do
    Enum.reduce_while(project.wrappers, {:ok, %{}}, fn {module, only}, {:ok, acc} ->
      if module in selected do
        case Introspector.introspect(module, only, project.tools) do
          {:ok, text} -> {:cont, {:ok, Map.put(acc, api_path(module), text)}}
          error -> {:halt, error}
        end
      else
        {:cont, {:ok, acc}}
      end
    end)
  end

  defp plan(project, selected, opts) do
    # A declared module without API data is always introspected: nothing can be
    # generated without it.
    {existing, missing} =
      Enum.split_with(project.wrappers, fn {m, _} ->
        File.regular?(Path.join(project.root, api_path(m)))
      end)

    wanted = Enum.filter(existing, fn {module, _} -> module in selected end)

    cond do
      opts[:force] ->
        {:ok, wanted ++ missing}

      opts[:missing_only] ->
        {:ok, missing}

      true ->
        with {:ok, versions} <-
               Introspector.versions(Enum.map(wanted, &elem(&1, 0)), project.tools) do
          {:ok, Enum.reject(wanted, &fresh?(project, &1, versions, Introspector.id())) ++ missing}
        end
    end
  end

  defp fresh?(project, {module, only}, versions, introspector) do
    case API.head(Path.join(project.root, api_path(module))) do
      {:ok, head} ->
        head.version == versions[module] and head.only == only and
          head.introspector == introspector

      {:error, _} ->
        false
    end
  end

  # ------------------------------------------------------------------ generation

  @doc """
  The generated sources for the current API data, per module: `{module, key, files}`
  with `files` as `{relative_path, source}` pairs, or `{module, key, {:cached, paths}}`
  for a module whose key is in `cache` and whose files all exist (nothing to emit).
  `overrides` replaces API data by path (fresh data, for --check).
  """
  @spec sources(t, %{Path.t() => String.t()}, map) :: {:ok, [tuple]} | {:error, String.t()}
  def sources(project, overrides \\ %{}, cache \\ %{}) do
    project.wrappers
    |> Task.async_stream(&module_sources(project, &1, overrides, cache), timeout: :infinity)
    |> Enum.reduce_while({:ok, []}, fn
      {:ok, {:ok, entry}}, {:ok, acc} -> {:cont, {:ok, [entry | acc]}}
      {:ok, {:error, message}}, _ -> {:halt, {:error, message}}
    end)
    |> case do
      {:ok, entries} -> {:ok, Enum.reverse(entries)}
      error -> error
    end
  end

  defp module_sources(project, {module, _}, overrides, cache) do
    path = api_path(module)

    text =
      case overrides do
        %{^path => text} -> {:ok, text}
        _ -> File.read(Path.join(project.root, path))
      end

    with {:ok, text} <- text_or_error(text, path),
         key = module_key(project, text),
         :emit <- cached(project, cache, module, key),
         {:ok, api} <- API.parse(text, path) do
      files = Emitter.files(api, project.prefix, path)
      {:ok, {module, key, Enum.map(files, fn {p, s} -> {Path.join("lib", p), s} end)}}
    else
      {:cached, paths} -> {:ok, {module, module_key(project, elem(text, 1)), {:cached, paths}}}
      {:error, message} -> {:error, message}
    end
  end

  defp text_or_error({:ok, text}, _path), do: {:ok, text}

  defp text_or_error({:error, reason}, path),
    do: {:error, "cannot read #{path}: #{:file.format_error(reason)}; run mix snakebridge.gen"}

  defp cached(project, cache, module, key) do
    case cache do
      %{^module => {^key, paths}} ->
        if Enum.all?(paths, &File.regular?(Path.join(project.root, &1))),
          do: {:cached, paths},
          else: :emit

      _ ->
        :emit
    end
  end

  # A module's generated files depend on its API data, the prefix and the generator.
  defp module_key(project, text) do
    inputs = {generator(), System.version(), project.prefix, :erlang.md5(text)}
    :erlang.md5(:erlang.term_to_binary(inputs))
  end

  # The generator's own version is the code that emits: its modules' MD5s.
  defp generator, do: Enum.map([Emitter, Naming, SnakeBridge.Gen.Types], & &1.module_info(:md5))

  @doc """
  Writes the generated sources (identical ones untouched), deletes the ones the
  previous manifest lists that are no longer generated, and writes the manifest,
  all under the project's lock. Modules whose API data and generator are unchanged
  since the manifest are not emitted again, except those listed in `:force`.
  """
  @spec generate(t, keyword) ::
          {:ok, %{written: [Path.t()], deleted: [Path.t()]}} | {:error, String.t()}
  def generate(project, opts \\ []) do
    Writer.with_lock(project.lock, fn ->
      previous = read_manifest(project)
      cache = Map.drop(Map.get(previous, :modules, %{}), Keyword.get(opts, :force, []))

      with {:ok, entries} <- sources(project, %{}, cache) do
        written =
          for {_module, _key, files} when is_list(files) <- entries,
              {path, source} <- files,
              Writer.write(Path.join(project.root, path), source) == :written,
              do: path

        modules = Map.new(entries, fn {module, key, files} -> {module, {key, paths(files)}} end)
        paths = Enum.flat_map(entries, fn {_, _, files} -> paths(files) end)
        deleted = previous.files -- paths
        Enum.each(deleted, &File.rm(Path.join(project.root, &1)))

        paths
        |> Enum.map(&Path.dirname(Path.join(project.root, &1)))
        |> Enum.uniq()
        |> Enum.each(&Writer.sweep/1)

        manifest = %{key: key(project), files: paths, modules: modules}
        binary = :erlang.term_to_binary({:snakebridge_gen, 1, manifest}, [:deterministic])
        Writer.write(project.manifest, binary)
        {:ok, %{written: written, deleted: deleted}}
      end
    end)
  end

  defp paths({:cached, paths}), do: paths
  defp paths(files), do: Enum.map(files, &elem(&1, 0))

  @doc "Paths whose content would change (or be deleted) given fresh API data."
  @spec changes(t, %{Path.t() => String.t()}) :: {:ok, [Path.t()]} | {:error, String.t()}
  def changes(project, fresh) do
    with {:ok, entries} <- sources(project, fresh) do
      files = Enum.flat_map(entries, fn {_module, _key, files} -> files end)
      expected = Map.merge(Map.new(files), fresh)

      changed =
        for {path, text} <- expected,
            File.read(Path.join(project.root, path)) != {:ok, text},
            do: path

      stale = read_manifest(project).files -- Map.keys(expected)
      {:ok, Enum.sort(changed ++ stale)}
    end
  end

  @doc false
  @spec module_alias(t, String.t()) :: String.t()
  def module_alias(project, module), do: Naming.module_alias(project.prefix, module)
end
