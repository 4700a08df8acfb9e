defmodule SnakeBridge.Pool.Remote.Worker do
  @moduledoc false
  # A remote worker's server on the calling node: what SnakeBridge.Pool.WorkerServer is
  # for a local one, and the `server` of its entry (SnakeBridge.Pool.Entry), so the
  # call path watches, restarts and waits for it the same way.
  #
  # One life of this process is one incarnation of the worker: it asks the far node
  # to start a worker (SnakeBridge.Pool.Remote.Host, over :erpc), starts the router
  # its replies come back to, publishes the entry with a Transport.Remote, and
  # monitors the far worker's server. When that server stops (its Python process
  # died) this process stops with the same reason; when its node goes down or is cut
  # off (:noconnection), it records the incarnation as lost to that node (refs of it
  # then give RefError :node_down) and stops with a WorkerCrashError naming the node.
  # Its callers in flight see it go down, as they would a local worker's server.
  #
  # Its replacement finds the node down: it publishes a failed entry whose error names
  # the node (ref-less calls then go to the pool's other workers, see Call.Route) and
  # tries to reconnect every @retry_ms; when the node is back the pool rejoins.

  use GenServer, restart: :permanent
  require Logger

  require SnakeBridge.Pool.Entry
  alias SnakeBridge.{Wire, WorkerCrashError}
  alias SnakeBridge.Call.Callback
  alias SnakeBridge.Pool.{Entry, Remote, Router, StartWaiters, Table, WorkerServer}
  alias SnakeBridge.Pool.Remote.Host
  alias SnakeBridge.Pool.Transport

  @event Wire.kind(:event)
  # How often a node that is down is tried again.
  @retry_ms 500
  @start_timeout 75_000

  defstruct [
    :pool,
    :index,
    :node,
    :config,
    :incarnation,
    :server,
    :router,
    :load,
    :transport,
    :started_at,
    failures: 0
  ]

  @doc false
  def start_link({pool, index, node, config}),
    do: GenServer.start_link(__MODULE__, {pool, index, node, config})

  @doc false
  def child_spec({_pool, index, _node, _config} = arg) do
    %{id: {WorkerServer, index}, start: {__MODULE__, :start_link, [arg]}, shutdown: 5_000}
  end

  @impl true
  def init({pool, index, node, config}) do
    Process.flag(:trap_exit, true)
    Table.put_entry(pool, index, {:starting, self()})
    {:ok, %__MODULE__{pool: pool, index: index, node: node, config: config}, {:continue, :boot}}
  end

  @impl true
  def handle_continue(:boot, state) do
    case Table.restart_delay(state.pool, state.index) do
      {0, _last_crash} ->
        start(state)

      {delay, last_crash} ->
        reason = "it keeps crashing soon after starting; next start in #{delay} ms"
        fail(state, %{last_crash | reason: reason}, delay)
    end
  end

  defp start(state) do
    cond do
      not Node.alive?() ->
        reason =
          "this node is not distributed, so it cannot reach node #{state.node}: start it " <>
            "with --name or --sname (or Node.start/2)"

        fail(state, %WorkerCrashError{reason: reason}, Table.max_backoff())

      Node.connect(state.node) != true ->
        fail(state, Remote.node_down(state.node), @retry_ms)

      true ->
        start_far(state)
    end
  end

  defp start_far(state) do
    incarnation = System.unique_integer([:positive])
    worker_id = {state.pool, state.index, incarnation}
    # Directories added at run time (SnakeBridge.add_python_path/2) go along, as they
    # do for a local replacement.
    python_path = Table.added_python_path(state.pool) ++ state.config.python_path
    config = %{state.config | python_path: python_path}
    probe = SnakeBridge.Shm.probe()
    args = [worker_id, self(), Host.forwarded_options(config), probe, Wire.protocol_version()]
    started = far_start(state.node, args)
    SnakeBridge.Shm.drop_probe(probe)

    case started do
      {:ok, far} ->
        Process.monitor(far.server)
        load = Table.new_load()
        router = Router.start_unconnected(far.port, load, state.config.max_frame)
        send(far.relay, {:route_to, router})

        transport = %Transport.Remote{
          relay: far.relay,
          router: router,
          node: state.node,
          same_host?: far.same_host?
        }

        entry =
          Entry.ready(server: self(), transport: transport, incarnation: incarnation, load: load)

        Table.put_entry(state.pool, state.index, entry)
        StartWaiters.reply_all(entry)

        {:noreply,
         %{
           state
           | incarnation: incarnation,
             server: far.server,
             router: router,
             load: load,
             transport: transport,
             started_at: System.monotonic_time(:millisecond),
             failures: 0
         }}

      {:error, %WorkerCrashError{node: nil} = error} ->
        failures = state.failures + 1
        backoff = Table.start_backoff(failures)

        Logger.error(
          "SnakeBridge worker #{inspect(state.pool)}/#{state.index} on node #{state.node} " <>
            "failed to start (attempt #{failures}, retrying in #{backoff} ms): " <>
            Exception.message(error)
        )

        fail(%{state | failures: failures}, error, backoff)

      {:error, error} ->
        fail(state, error, @retry_ms)
    end
  end

  # Starts the worker on `node`, with an error that says what the node lacks.
  defp far_start(node, args) do
    :erpc.call(node, Host, :start_worker, args, @start_timeout)
  catch
    :error, {:erpc, :noconnection} ->
      {:error, Remote.node_down(node)}

    :error, {:exception, :undef, [{Host, :start_worker, _, _} | _]} ->
      {:error,
       %WorkerCrashError{
         reason:
           "node #{node} does not have SnakeBridge: it needs the snakebridge application " <>
             "(the same version, started) and the pool's Python environment"
       }}

    kind, reason ->
      {:error,
       %WorkerCrashError{
         reason: "cannot start a worker on node #{node}: #{Exception.format(kind, reason)}"
       }}
  end

  # The worker cannot run for now: callers get `error` at once; try again in `delay`.
  defp fail(state, error, delay) do
    Table.put_entry(state.pool, state.index, {:failed, self(), error})
    StartWaiters.reply_all({:failed, self(), error})
    Process.send_after(self(), :retry, delay)
    {:noreply, state}
  end

  @impl true
  def handle_call(:await_ready, from, state) do
    case StartWaiters.await(state.pool, state.index, from) do
      :wait -> {:noreply, state}
      {:ready, entry} -> {:reply, entry, state}
    end
  end

  @impl true
  def handle_cast({:restart, reason}, state) do
    if state.server, do: WorkerServer.restart(state.server, reason)
    {:noreply, state}
  end

  @impl true
  def handle_info(:retry, %{server: nil} = state), do: start(state)

  def handle_info({:DOWN, _ref, :process, server, reason}, %{server: server} = state) do
    error =
      case reason do
        {:shutdown, %WorkerCrashError{} = error} ->
          Table.note_death(state.pool, state.index, Table.quick_death?(state.started_at), error)
          error

        :noconnection ->
          Remote.note_lost(state.pool, state.index, state.incarnation, state.node)
          Remote.node_down(state.node)

        other ->
          %WorkerCrashError{reason: "the worker on node #{state.node} stopped: #{inspect(other)}"}
      end

    {:stop, {:shutdown, error}, state}
  end

  # An event from the far worker, through the router: a callback Python invoked
  # outside any call runs here, on the node of the process that passed the function.
  def handle_info({_port, {:data, <<@event, 0, payload::binary>>}}, state) do
    case :erlang.binary_to_term(payload, [:safe]) do
      {:orphan_callback, callback_id, fun, args, owner} ->
        Callback.run_orphan(state.transport, callback_id, fun, args, owner)

      event ->
        Logger.warning("SnakeBridge worker #{state.index}: unexpected event #{inspect(event)}")
    end

    {:noreply, state}
  end

  def handle_info({:EXIT, router, reason}, %{router: router} = state) when reason != :normal do
    error = %WorkerCrashError{reason: "its reply router died: #{inspect(reason)}"}
    {:stop, {:shutdown, error}, %{state | router: nil}}
  end

  def handle_info(_other, state), do: {:noreply, state}

  @impl true
  def terminate(reason, state) do
    Table.retire(state.load)

    with {:shutdown, %WorkerCrashError{} = error} <- reason,
         do: Table.note_exit(state.pool, state.index, self(), error)

    # Before this process exits: no reply is forwarded after a caller has seen it go
    # down (see SnakeBridge.Call). The far worker stops when it sees this process go.
    if state.router, do: Router.stop(state.router)
    Table.delete_entry(state.pool, state.index, self())
  end
end
