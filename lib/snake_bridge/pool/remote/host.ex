defmodule SnakeBridge.Pool.Remote.Host do
  @moduledoc false
  # On the node that runs a remote pool's worker: the process that holds one worker
  # for a pool on another node, started there over :erpc by SnakeBridge.Pool.Remote.Worker.
  #
  # It runs an ordinary SnakeBridge.Pool.WorkerServer under a routing table of its own
  # (a pool of one, named {:remote, node, pool, index, incarnation}: two calling nodes
  # never share one, and a stopping incarnation never unpublishes its replacement's),
  # with the worker id the calling pool gave it, and a relay in place of
  # the router (SnakeBridge.Pool.Remote.Relay). The worker lives as long as the
  # calling node's process that asked for it: when that process exits, or its node
  # goes down or is cut off (:noconnection), the worker is stopped. Nothing here
  # restarts it: the calling node does, as a new incarnation.

  use GenServer, restart: :temporary

  require SnakeBridge.Pool.Entry
  alias SnakeBridge.{Wire, WorkerCrashError}
  alias SnakeBridge.Pool.{Config, Entry, Table, WorkerServer}
  alias SnakeBridge.Pool.Transport.LocalPort

  # Longer than a worker's own wait for its hello (WorkerServer).
  @ready_timeout 65_000

  # The pool options that hold on the far node; nil ones fall back to its own config.
  @forwarded [:python, :venv, :python_path, :env, :max_frame, :max_refs, :max_queue]

  @doc "The options of `config` (a pool's) that a far node's worker is started with."
  def forwarded_options(config) do
    for key <- @forwarded, (value = config[key]) != nil, do: {key, value}
  end

  @doc """
  Runs on the far node (called over :erpc): starts a worker there for `owner`, a
  process on the calling node, with the worker id `worker_id` and the pool options
  `opts`; `probe` is the calling node's shared-memory probe (SnakeBridge.Shm.probe/0).
  Returns how to reach it.
  """
  def start_worker(worker_id, owner, opts, probe, protocol) do
    cond do
      protocol != Wire.protocol_version() ->
        {:error,
         crash(
           "node #{node()} runs a SnakeBridge that speaks protocol " <>
             "#{Wire.protocol_version()}, the calling node #{protocol}: deploy the same version"
         )}

      Process.whereis(SnakeBridge.Supervisor) == nil ->
        {:error,
         crash(
           "SnakeBridge is loaded but not started on node #{node()}: start it there " <>
             "(Application.ensure_all_started(:snakebridge))"
         )}

      true ->
        # One /dev/shm, not one host name: two hosts may share a name, and containers
        # on one host may not share /dev/shm.
        same_host? = SnakeBridge.Shm.probe_visible?(probe)
        {:ok, host} = GenServer.start(__MODULE__, {worker_id, owner, opts, same_host?})
        await(host, same_host?)
    end
  end

  defp await(host, same_host?) do
    server = GenServer.call(host, :server)

    case WorkerServer.await_ready(server, @ready_timeout) do
      Entry.ready(transport: %LocalPort{port: port}) ->
        {:connected, relay} = Port.info(port, :connected)
        {:ok, %{host: host, server: server, port: port, relay: relay, same_host?: same_host?}}

      {:failed, _server, error} ->
        GenServer.stop(host)
        {:error, %{error | reason: "on node #{node()}: #{error.reason}"}}
    end
  catch
    :exit, reason ->
      GenServer.stop(host)
      {:error, crash("the worker on node #{node()} did not start: #{inspect(reason)}")}
  end

  defp crash(reason), do: %WorkerCrashError{reason: reason}

  @impl true
  def init({{pool, index, incarnation} = worker_id, owner, opts, same_host?}) do
    Process.flag(:trap_exit, true)
    Process.monitor(owner)
    name = {:remote, node(owner), pool, index, incarnation}

    config =
      (opts ++ [size: 1, nodes: [node()]])
      |> Config.config()
      |> Map.merge(%{name: name, remote: %{worker: worker_id}})
      |> without_segments(same_host?)

    Table.publish(config)
    {:ok, server} = WorkerServer.start_link({name, 0, config})
    {:ok, %{name: name, server: server}}
  end

  # Between hosts the worker must not answer with segment files: they would be on its
  # host's /dev/shm, out of the caller's reach ("0" turns them off, see WorkerServer).
  defp without_segments(config, true), do: config

  defp without_segments(config, false),
    do: %{config | env: config.env ++ [{"SNAKEBRIDGE_SHM_THRESHOLD", "0"}]}

  @impl true
  def handle_call(:server, _from, state), do: {:reply, state.server, state}

  @impl true
  # The calling node's process is gone, or its node is unreachable.
  def handle_info({:DOWN, _ref, :process, _owner, _reason}, state),
    do: {:stop, :normal, state}

  def handle_info({:EXIT, server, _reason}, %{server: server} = state),
    do: {:stop, :normal, %{state | server: nil}}

  def handle_info(_other, state), do: {:noreply, state}

  @impl true
  def terminate(_reason, state) do
    if state.server, do: stop_server(state.server)
    Table.unpublish(state.name)
  end

  defp stop_server(server) do
    GenServer.stop(server, :shutdown, 5_000)
  catch
    # Still starting its worker (a server hears no stop until the worker's hello), or
    # gone already: killed, its port closes with it and the nanny ends the worker.
    :exit, _ -> Process.exit(server, :kill)
  end
end
