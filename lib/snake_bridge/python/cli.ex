defmodule SnakeBridge.Python.CLI do
  @moduledoc false
  # Runs the engine's environment commands (`python -m snakebridge._cli`) for the mix
  # tasks, streaming their output. The logic is in Python; this only writes the spec,
  # starts the process and, for setup, keeps the fingerprint that makes an unchanged
  # re-run a no-op that starts no Python at all.

  alias SnakeBridge.Interpreter
  alias SnakeBridge.Python.{JSON, Project}

  @fingerprint ".snakebridge-fingerprint"

  @doc """
  Runs `command` with `args` on `spec` (default: the current Mix project's) with the
  engine's code from `engine` (default: this source tree); returns the exit status.
  """
  @spec run(String.t(), [String.t()], map, String.t()) :: non_neg_integer
  def run(command, args, spec \\ Project.spec(), engine \\ Project.engine_dir()) do
    path = Path.join(System.tmp_dir!(), "snakebridge-spec-#{System.unique_integer([:positive])}")
    File.write!(path, JSON.encode(spec))

    try do
      {_, status} =
        System.cmd(python!(), ["-m", "snakebridge._cli", command, "--spec", path | args],
          env: [{"PYTHONPATH", Interpreter.python_path_env(engine)}],
          into: IO.stream(:stdio, :line),
          stderr_to_stdout: true
        )

      status
    after
      File.rm(path)
    end
  end

  @doc """
  `mix snakebridge.setup`: nothing when the fingerprint matches, else the Python setup,
  recording the new fingerprint on success.
  """
  @spec setup(boolean) :: non_neg_integer
  def setup(force?) do
    spec = Project.spec()
    stamp = Path.join(spec["venv"], @fingerprint)
    python = Path.join([spec["venv"], "bin", "python"])

    if not force? and File.regular?(python) and
         File.read(stamp) == {:ok, Project.fingerprint(spec)} do
      Mix.shell().info("snakebridge: #{spec["venv"]} is up to date (nothing changed)")
      0
    else
      File.rm(stamp)
      status = run("setup", [], spec)
      if status == 0, do: File.write!(stamp, Project.fingerprint(spec))
      status
    end
  end

  # Any Python 3 starts the CLI; it re-executes itself in the tool environment.
  defp python! do
    System.get_env("SNAKEBRIDGE_TOOL_PYTHON") || System.find_executable("python3") ||
      raise "setting up the Python environment needs python3 on the PATH"
  end
end
