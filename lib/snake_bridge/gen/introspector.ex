defmodule SnakeBridge.Gen.Introspector do
  @moduledoc false
  # Runs `python -m snakebridge._introspect` with the interpreter the pool would use
  # (SnakeBridge.Interpreter: config, SNAKEBRIDGE_PYTHON, the managed venv, python3),
  # the configured :python_path and :env as the workers get them.
  #
  # The introspector needs griffe, which the user's interpreter may not have. Rather
  # than touch the user's environment, griffe (pinned) is installed once with that
  # interpreter's pip into a tool directory under `_build` (`pip install --target`)
  # and put first on PYTHONPATH for this process only. Concurrent first runs each
  # install into a private directory and rename it into place; the loser discards its
  # copy. Only this step needs the network, and only once per build directory.

  alias SnakeBridge.Interpreter

  @griffe "2.4.1"

  @doc "What API data records as its introspector: the data format and griffe's version."
  @spec id() :: String.t()
  def id, do: "1/griffe-#{@griffe}"

  @doc "The text of `module`'s API data (only the names in `only`, if given)."
  @spec introspect(String.t(), [String.t()] | nil, Path.t()) ::
          {:ok, String.t()} | {:error, String.t()}
  def introspect(module, only, tools_dir) do
    only_args = if only, do: ["--only" | only], else: []
    run("snakebridge._introspect", [module | only_args], tools_dir)
  end

  @doc "The resolved library version of each module, without importing any of them."
  @spec versions([String.t()], Path.t()) ::
          {:ok, %{String.t() => String.t()}} | {:error, String.t()}
  def versions([], _tools_dir), do: {:ok, %{}}

  def versions(modules, tools_dir) do
    with {:ok, text} <- run("snakebridge._versions", modules, tools_dir),
         {:ok, tokens, _} <- :erl_scan.string(String.to_charlist(text)) do
      {:ok, tokens |> split_terms() |> Map.new(fn {:version, m, v} -> {m, v} end)}
    else
      {:error, message} when is_binary(message) -> {:error, message}
      other -> {:error, "unreadable version list: #{inspect(other)}"}
    end
  end

  defp split_terms(tokens) do
    tokens
    |> Enum.chunk_while(
      [],
      fn
        {:dot, _} = dot, acc -> {:cont, Enum.reverse([dot | acc]), []}
        token, acc -> {:cont, [token | acc]}
      end,
      fn acc -> {:cont, acc} end
    )
    |> Enum.reject(&(&1 == []))
    |> Enum.map(fn tokens -> tokens |> :erl_parse.parse_term() |> elem(1) end)
  end

  defp run(python_module, args, tools_dir) do
    with {:ok, python} <- Interpreter.python(%{}),
         {:ok, griffe} <- ensure_griffe(python, tools_dir) do
      out = Path.join(System.tmp_dir!(), "snakebridge-api-#{System.pid()}-#{unique()}.terms")
      env = [{"PYTHONPATH", search_path(griffe)} | Application.get_env(:snakebridge, :env, [])]

      try do
        case System.cmd(python, ["-m", python_module, "--out", out | args],
               env: env,
               stderr_to_stdout: true
             ) do
          {_, 0} ->
            File.read(out) |> read_result(out)

          {output, status} ->
            {:error,
             "introspection of #{Enum.join(args, " ")} failed " <>
               "(exit #{status}):\n#{output}"}
        end
      after
        File.rm(out)
      end
    end
  end

  # griffe, then the directories the workers put in front of sys.path (config
  # :snakebridge, :python_path), so that the project's own modules are found as the
  # pool finds them, then the engine's code.
  defp search_path(griffe) do
    configured = Enum.map(Application.get_env(:snakebridge, :python_path, []), &Path.expand/1)
    Enum.join([griffe | configured] ++ [Interpreter.python_path_env()], ":")
  end

  defp read_result({:ok, text}, _out), do: {:ok, text}
  defp read_result({:error, reason}, out), do: {:error, "cannot read #{out}: #{inspect(reason)}"}

  defp unique, do: Base.encode16(:rand.bytes(8), case: :lower)

  defp ensure_griffe(python, tools_dir) do
    final = Path.join(tools_dir, "griffe-#{@griffe}")

    if File.dir?(final) do
      {:ok, final}
    else
      File.mkdir_p!(tools_dir)
      temp = "#{final}.#{System.pid()}-#{unique()}.sbtmp"

      args =
        ~w(-m pip install --quiet --disable-pip-version-check --no-input --target) ++
          [temp, "griffe==#{@griffe}"]

      # griffe is pure Python, so any Python 3's pip can install it for the pool's
      # interpreter; a managed environment built by uv has no pip of its own.
      installers = Enum.uniq([python | List.wrap(System.find_executable("python3"))])

      Enum.reduce_while(installers, {:error, ""}, fn installer, {:error, failures} ->
        case System.cmd(installer, args, stderr_to_stdout: true) do
          {_, 0} ->
            # Another run may have won the race; its copy is identical.
            with {:error, _} <- File.rename(temp, final), do: File.rm_rf!(temp)
            {:halt, {:ok, final}}

          {output, status} ->
            File.rm_rf!(temp)
            {:cont, {:error, failures <> "\n#{installer} -m pip (exit #{status}):\n#{output}"}}
        end
      end)
      |> case do
        {:ok, final} ->
          {:ok, final}

        {:error, failures} ->
          {:error,
           "installing griffe==#{@griffe} failed; SnakeBridge needs it to introspect:" <>
             failures}
      end
    end
  end
end
