defmodule Mix.Tasks.Snakebridge.Setup do
  @shortdoc "Builds the managed Python environment from python_deps, locked"
  @moduledoc """
  Creates or updates the project's managed Python environment.

      mix snakebridge.setup            # lock if python_deps changed, then install
      mix snakebridge.setup --check    # verify the environment against the lock (CI)
      mix snakebridge.setup --force    # run even if nothing seems to have changed

  It reads `python_deps` and `python_indexes` from `project/0` in mix.exs, and those
  of every dependency, and locks them with uv into `priv/snakebridge/` (commit that
  directory): one universal lock with an extra per hardware profile (CPU, each CUDA
  line, ROCm, Apple). It then detects this machine's hardware, picks its profile and
  makes the environment (`config :snakebridge, venv: path`, default `.venv`) match the
  lock exactly. The pool's workers use that environment automatically.

  A re-run with nothing changed is a no-op that starts no Python. Changing one
  dependency re-locks and reinstalls only what changed.

  `--check` exits non-zero, with a readable diff and the fix, when the environment and
  the lock disagree or the lock is stale.

  See docs/ENVIRONMENT.md for the details: indexes, hardware detection, variant rules,
  the lock and releases.
  """
  use Mix.Task

  @impl true
  def run(argv) do
    {opts, _} = OptionParser.parse!(argv, strict: [check: :boolean, force: :boolean])
    Mix.Task.run("loadconfig")

    status =
      if opts[:check],
        do: SnakeBridge.Python.CLI.run("check", []),
        else: SnakeBridge.Python.CLI.setup(Keyword.get(opts, :force, false))

    if status != 0, do: exit({:shutdown, status})
  end
end
