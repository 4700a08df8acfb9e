defmodule SnakeBridge.Interpreter do
  @moduledoc false
  # Which Python runs the workers, and where the engine's code is.
  #
  # Interpreter, first found wins: the pool's `:python` option, `config :snakebridge,
  # python: path`, the SNAKEBRIDGE_PYTHON environment variable, the project's managed
  # environment (`<venv>/bin/python`: the pool's `:venv` option or `config :snakebridge,
  # venv: path`, default ".venv" under the current directory, which is where
  # `mix snakebridge.setup` builds it) if it exists, then `python3` on the PATH.

  @doc false
  @spec python(map) :: {:ok, String.t()} | {:error, String.t()}
  def python(config) do
    candidate =
      config[:python] || Application.get_env(:snakebridge, :python) ||
        System.get_env("SNAKEBRIDGE_PYTHON") || managed_venv(config) ||
        System.find_executable("python3")

    cond do
      candidate == nil -> {:error, "no Python interpreter: python3 is not on the PATH"}
      executable?(candidate) -> {:ok, candidate}
      found = System.find_executable(candidate) -> {:ok, found}
      true -> {:error, "the configured Python interpreter #{inspect(candidate)} does not exist"}
    end
  end

  defp managed_venv(config) do
    python = Path.join([venv_dir(config), "bin", "python"])
    if executable?(python), do: python
  end

  @doc "The managed environment's directory, absolute (relative paths are from the cwd)."
  @spec venv_dir(map | keyword) :: String.t()
  def venv_dir(config) do
    Path.expand(config[:venv] || Application.get_env(:snakebridge, :venv, ".venv"))
  end

  defp executable?(path), do: File.regular?(path)

  @doc """
  PYTHONPATH for Python that runs the engine's code (`engine`, default the installed
  application's): that code first, then whatever was set.
  """
  @spec python_path_env(String.t()) :: String.t()
  def python_path_env(engine \\ Application.app_dir(:snakebridge, "priv/python")) do
    case System.get_env("PYTHONPATH") do
      nil -> engine
      "" -> engine
      existing -> engine <> ":" <> existing
    end
  end
end
