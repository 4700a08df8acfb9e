defmodule SnakeBridge.Python.Release do
  @moduledoc """
  Builds a release's managed Python environment at run time, from the committed lock.

  `mix release` needs no Python: the lock (`priv/snakebridge/` of your app, written by
  `mix snakebridge.setup` and committed) and SnakeBridge's engine (its own `priv/`) go
  into the release as ordinary priv files. On the target machine, run once per deploy,
  before the app serves traffic, the way migrations are run:

      bin/my_app eval "SnakeBridge.Python.Release.setup(:my_app)"

  It detects that machine's hardware, picks its profile from the lock and installs
  exactly the locked versions into the managed environment (`config :snakebridge,
  venv: path` in `config/runtime.exs`, default `.venv` under the current directory),
  where the pool's workers find it. It never re-locks. It needs a Python 3.11+ on the
  target to build the environment from, and uv (installed into a tool environment with
  pip on first use, or named by `SNAKEBRIDGE_TOOL_PYTHON`).

  See docs/ENVIRONMENT.md, "Releases".
  """

  alias SnakeBridge.{Interpreter, Python.CLI}

  @doc """
  Installs `app`'s locked environment for this machine.

  Returns `:ok`, or `{:error, status}` with the installer's exit status (its output,
  which says what went wrong, is printed as it runs).

  ## Options

    * `:venv` - where to build the environment; default the configured one
      (`config :snakebridge, venv: path`, else `.venv`).
  """
  @spec setup(atom, keyword) :: :ok | {:error, pos_integer}
  def setup(app, opts \\ []) when is_atom(app) and is_list(opts) do
    opts = Keyword.validate!(opts, venv: nil)

    spec = %{
      "project_dir" => File.cwd!(),
      "lock_dir" => Application.app_dir(app, "priv/snakebridge"),
      "venv" => Interpreter.venv_dir(opts),
      "deps" => [],
      "indexes" => [],
      "pypi" => true,
      "rules" => []
    }

    case CLI.run("install", [], spec, Application.app_dir(:snakebridge, "priv/python")) do
      0 -> :ok
      status -> {:error, status}
    end
  end
end
