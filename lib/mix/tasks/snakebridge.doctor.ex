defmodule Mix.Tasks.Snakebridge.Doctor do
  @shortdoc "Checks the managed Python environment, one line per check"
  @moduledoc """
  Checks, one line each, and names the fix for every failure:

    * the interpreter and the environment;
    * that the lock is not stale (python_deps unchanged since locking);
    * installed versus locked;
    * that every declared package imports;
    * the detected hardware and the chosen profile;
    * that the indexes are reachable;
    * that a worker starts and answers one call.

  Exits non-zero when any check fails.
  """
  use Mix.Task

  @impl true
  def run(_argv) do
    Mix.Task.run("loadconfig")
    status = SnakeBridge.Python.CLI.run("doctor", [])
    worker_ok? = worker_check()
    if status != 0 or not worker_ok?, do: exit({:shutdown, 1})
  end

  defp worker_check do
    Mix.Task.run("app.start")
    venv_python = Path.join([SnakeBridge.Interpreter.venv_dir([]), "bin", "python"])

    case SnakeBridge.eval("__import__('sys').prefix") do
      {:ok, prefix} ->
        managed? = Path.expand(prefix) == Path.dirname(Path.dirname(venv_python))

        if managed? or not File.regular?(venv_python) do
          Mix.shell().info("ok   worker: started, one call answered (#{prefix})")
          true
        else
          Mix.shell().info(
            "FAIL worker: the pool runs #{prefix}, not the managed environment -- fix: " <>
              "unset SNAKEBRIDGE_PYTHON and `config :snakebridge, python: ...`"
          )

          false
        end

      {:error, error} ->
        Mix.shell().info(
          "FAIL worker: #{Exception.message(error)} -- fix: run `mix snakebridge.setup`"
        )

        false
    end
  end
end
