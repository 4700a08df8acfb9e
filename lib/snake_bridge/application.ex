defmodule SnakeBridge.Application do
  @moduledoc false
  use Application

  @impl true
  def start(_type, _args) do
    SnakeBridge.Shm.remove_directories(own: false)

    pools =
      case Application.get_env(:snakebridge, :pools) do
        nil -> [[name: :default]]
        pools -> Enum.map(pools, fn {name, opts} -> Keyword.put(opts, :name, name) end)
      end

    children =
      [
        SnakeBridge.Sessions,
        {Task.Supervisor, name: SnakeBridge.TaskSupervisor}
      ] ++ Enum.map(pools, &{SnakeBridge.Pool, &1})

    Supervisor.start_link(children, strategy: :one_for_one, name: SnakeBridge.Supervisor)
  end

  @impl true
  def stop(_state), do: SnakeBridge.Shm.remove_directories(own: true)
end
