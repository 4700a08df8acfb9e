defmodule SnakeBridge.Application do
  @moduledoc false
  # Starts the sessions' watcher, the task supervisor for orphan callbacks, and the
  # configured pools, after checking the application's configuration: a misspelt key
  # fails the start with a message that names it.
  use Application

  alias SnakeBridge.{Options, Pool}

  # Keys of `config :snakebridge` besides the pools' own defaults (SnakeBridge.Pool).
  @app_keys [:pools, :shm_threshold]

  @impl true
  def start(_type, _args) do
    pools = pools!(Application.get_all_env(:snakebridge))
    SnakeBridge.Shm.remove_directories(own: false)

    children =
      [
        SnakeBridge.Pool.Sessions,
        {Task.Supervisor, name: SnakeBridge.TaskSupervisor}
      ] ++ Enum.map(pools, &{Pool, &1})

    Supervisor.start_link(children, strategy: :one_for_one, name: SnakeBridge.Supervisor)
  end

  @impl true
  def stop(_state), do: SnakeBridge.Shm.remove_directories(own: true)

  @doc false
  # The pools to start, from the application's configuration, every key checked.
  def pools!(env) do
    valid = @app_keys ++ (Pool.option_names() -- [:name])
    Options.validate!(env, valid, "config :snakebridge")
    env |> Keyword.drop(@app_keys) |> Enum.each(&Pool.check_value/1)
    check_shm_threshold(Keyword.get(env, :shm_threshold, :infinity))

    case Keyword.get(env, :pools) do
      nil ->
        [[name: :default]]

      pools when is_list(pools) ->
        Enum.map(pools, fn
          {name, opts} when is_atom(name) and is_list(opts) ->
            opts = Keyword.put(opts, :name, name)
            # Checked here, so a bad option fails the start with its own message rather
            # than inside a supervisor's report.
            Pool.config(opts)
            opts

          other ->
            raise ArgumentError,
                  "expected each entry of config :snakebridge, :pools to be {name, options}, " <>
                    "got: #{inspect(other)}"
        end)

      other ->
        raise ArgumentError,
              "expected config :snakebridge, :pools to be a keyword list of pools, got: " <>
                inspect(other)
    end
  end

  defp check_shm_threshold(:infinity), do: :ok
  defp check_shm_threshold(bytes) when is_integer(bytes) and bytes > 0, do: :ok

  defp check_shm_threshold(other) do
    raise ArgumentError,
          "expected config :snakebridge, :shm_threshold to be a positive integer (bytes) " <>
            "or :infinity, got: #{inspect(other)}"
  end
end
