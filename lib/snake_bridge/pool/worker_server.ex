defmodule SnakeBridge.Pool.WorkerServer do
  @moduledoc false
  # The server of one worker: owns the Python process's Erlang port and control socket,
  # and publishes how to reach it in the pool's table (SnakeBridge.Pool.Entry).
  #
  # Callers write request frames straight to the port (any process may), and the port's
  # replies go to the worker's router (SnakeBridge.Pool.Router), which forwards each to its
  # caller: a call is one hop, not two. The router passes everything else on to here.
  #
  # The Python side is a nanny process (the port's program) and the worker it forks; see
  # docs/PROTOCOL.md. When the worker dies the nanny reports how (EXITED frame), and
  # this process stops with that report as its reason: callers waiting on it get it in
  # their :DOWN message, and the pool supervisor starts a new incarnation.
  #
  # A start failure (missing interpreter, protocol mismatch, crash during import) does
  # not crash this process: it records the failure, answers callers with it, and
  # retries with exponential backoff, so a broken environment never spins.

  use GenServer, restart: :permanent
  require Logger

  require SnakeBridge.Pool.Entry
  alias SnakeBridge.{Interpreter, Wire, WorkerCrashError}
  alias SnakeBridge.Pool.{Entry, Router, StartWaiters, Table}
  alias SnakeBridge.Pool.Remote.Relay
  alias SnakeBridge.Pool.Transport.LocalPort

  @event Wire.kind(:event)
  @log Wire.kind(:log)
  @exited Wire.kind(:exited)

  @hello_timeout 60_000

  defstruct [
    :pool,
    :index,
    :config,
    :incarnation,
    :port,
    :control,
    :os_pid,
    :python_pid,
    :started_at,
    :load,
    :router,
    stderr_tail: [],
    failures: 0
  ]

  @doc false
  def start_link({pool, index, config}) do
    GenServer.start_link(__MODULE__, {pool, index, config})
  end

  @doc false
  def child_spec({_pool, index, _config} = arg) do
    %{id: {__MODULE__, index}, start: {__MODULE__, :start_link, [arg]}, shutdown: 5_000}
  end

  @doc "Blocks until the worker is ready (or failed); returns its pool entry."
  def await_ready(pid, timeout), do: GenServer.call(pid, :await_ready, timeout)

  @doc "Kills the Python process and replaces it (a call ignored its interrupt)."
  def restart(pid, reason), do: GenServer.cast(pid, {:restart, reason})

  @impl true
  def init({pool, index, config}) do
    Process.flag(:trap_exit, true)
    state = %__MODULE__{pool: pool, index: index, config: config}
    Table.put_entry(pool, index, {:starting, self()})
    {:ok, state, {:continue, :boot}}
  end

  @impl true
  def handle_continue(:boot, state) do
    case Table.restart_delay(state.pool, state.index) do
      {0, _last_crash} ->
        start(state)

      {delay, last_crash} ->
        # The worker keeps dying soon after starting: wait before the next start, and
        # meanwhile answer calls at once with how it last died instead of holding them.
        reason = "it keeps crashing soon after starting; next start in #{delay} ms"
        error = %{last_crash | reason: reason}
        Table.put_entry(state.pool, state.index, {:failed, self(), error})
        StartWaiters.reply_all({:failed, self(), error})
        Process.send_after(self(), :start, delay)
        {:noreply, state}
    end
  end

  defp start(state) do
    {_pool, _index, incarnation} =
      worker_id(%{state | incarnation: System.unique_integer([:positive])})

    case boot(%{state | incarnation: incarnation}) do
      {:ok, state} ->
        transport = %LocalPort{port: state.port, control: state.control}

        entry =
          Entry.ready(
            server: self(),
            transport: transport,
            incarnation: incarnation,
            load: state.load
          )

        Table.put_entry(state.pool, state.index, entry)
        StartWaiters.reply_all(entry)
        started_at = System.monotonic_time(:millisecond)
        {:noreply, %{state | started_at: started_at, failures: 0}}

      {:error, message, state} ->
        failures = state.failures + 1
        backoff = Table.start_backoff(failures)

        Logger.error(
          "SnakeBridge worker #{inspect(state.pool)}/#{state.index} failed to start " <>
            "(attempt #{failures}, retrying in #{backoff} ms): #{message}"
        )

        error = %WorkerCrashError{
          reason: "the worker failed to start: #{message}; next start in #{backoff} ms"
        }

        Table.put_entry(state.pool, state.index, {:failed, self(), error})
        StartWaiters.reply_all({:failed, self(), error})
        Process.send_after(self(), :retry_boot, backoff)
        {:noreply, %{close(state) | failures: failures}}
    end
  end

  # The router (or relay) reads the port from its first byte, hello included: it is
  # the port's one reader, so the framing of the stream never changes hands.
  defp boot(state) do
    with {:ok, python} <- Interpreter.python(state.config),
         {:ok, port} <- open_port(python, state) do
      state = %{state | port: port, os_pid: os_pid(port), load: Table.new_load()}
      state = %{state | router: start_router(state)}

      with {:ok, hello} <- await_hello(state),
           :ok <- check_protocol(hello),
           {:ok, control} <- connect_control(hello) do
        put_control(state, control)
        {:ok, %{state | control: control, python_pid: hello.pid}}
      else
        {:error, message} -> {:error, message, state}
        {:router_down, reason} -> {:error, router_down(reason, state), %{state | router: nil}}
      end
    else
      {:error, message} -> {:error, message, state}
    end
  end

  # sys.path order: the paths added while the pool runs (SnakeBridge.add_python_path/2)
  # were put in front of the configured ones in the workers already running.
  defp python_path(state),
    do: Table.added_python_path(state.pool) ++ state.config.python_path

  defp open_port(python, state) do
    identity = :erlang.term_to_binary(worker_id(state))

    env =
      [
        {"PYTHONPATH", Interpreter.python_path_env()},
        {"SNAKEBRIDGE_WORKER", Base.encode64(identity)},
        {"SNAKEBRIDGE_PYTHON_PATH", Enum.join(python_path(state), ":")},
        {"SNAKEBRIDGE_MAX_FRAME", Integer.to_string(state.config.max_frame)},
        {"SNAKEBRIDGE_MAX_REFS", Integer.to_string(state.config.max_refs)},
        {"SNAKEBRIDGE_SHM_THRESHOLD", shm_threshold()}
        | state.config.env
      ]
      |> Enum.map(fn {k, v} -> {String.to_charlist(k), v && String.to_charlist(v)} end)

    options = [
      :binary,
      :nouse_stdio,
      :exit_status,
      {:args, ["-m", "snakebridge"]},
      {:env, env}
    ]

    {:ok, Port.open({:spawn_executable, python}, options)}
  rescue
    error in ErlangError -> {:error, "cannot start #{python}: #{inspect(error.original)}"}
  end

  # A worker serving another node's pool (SnakeBridge.Pool.Remote.Host) has the worker
  # id that pool gave it, since its refs name the pool that routes calls to them; its
  # replies go to that node through a relay instead of a router here.
  defp worker_id(%{config: %{remote: %{worker: worker_id}}}), do: worker_id
  defp worker_id(state), do: {state.pool, state.index, state.incarnation}

  defp start_router(%{config: %{remote: _}} = state),
    do: Relay.start_link(state.port, state.config.max_frame)

  defp start_router(state), do: Router.start_link(state.port, state.load, state.config.max_frame)

  defp put_control(%{config: %{remote: _}, router: relay}, control),
    do: Relay.put_control(relay, control)

  defp put_control(_state, _control), do: :ok

  defp shm_threshold do
    case SnakeBridge.Shm.threshold() do
      :infinity -> "0"
      bytes -> Integer.to_string(bytes)
    end
  end

  defp os_pid(port) do
    case Port.info(port, :os_pid) do
      {:os_pid, pid} -> pid
      nil -> nil
    end
  end

  defp await_hello(%{port: port, router: router} = state) do
    receive do
      {^port, {:data, <<@event, 0, payload::binary>>}} ->
        case :erlang.binary_to_term(payload, [:safe]) do
          {:hello, hello} -> {:ok, hello}
          other -> {:error, "expected a hello from the worker, got #{inspect(other)}"}
        end

      {^port, {:data, <<@log, 0, _stream, line::binary>>}} ->
        Logger.info(line, snakebridge_worker: :starting)
        await_hello(state)

      {^port, {:data, <<@exited, 0, report::binary>>}} ->
        {:error, describe_exit(parse_exit(report))}

      {^port, {:exit_status, status}} ->
        {:error, "the Python process exited with status #{status} before its hello"}

      {:EXIT, ^router, reason} ->
        {:router_down, reason}
    after
      @hello_timeout -> {:error, "no hello from the worker within #{@hello_timeout} ms"}
    end
  end

  defp check_protocol(%{protocol: protocol}) do
    if protocol == Wire.protocol_version() do
      :ok
    else
      {:error,
       "protocol mismatch: the Python engine speaks #{protocol}, this SnakeBridge speaks " <>
         "#{Wire.protocol_version()}; the priv/python code and the Elixir code differ"}
    end
  end

  defp connect_control(%{control: path}) do
    case :gen_tcp.connect({:local, path}, 0, [:binary, packet: 4, active: false], 5_000) do
      {:ok, socket} -> {:ok, socket}
      {:error, reason} -> {:error, "cannot connect to the control socket: #{inspect(reason)}"}
    end
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
    Logger.warning(
      "SnakeBridge worker #{inspect(state.pool)}/#{state.index} is being replaced: #{reason}"
    )

    error = %WorkerCrashError{reason: reason, stderr: stderr_text(state)}
    {:stop, {:shutdown, error}, close(state)}
  end

  @impl true
  def handle_info({port, {:data, data}}, %{port: port} = state) do
    case data do
      <<@log, 0, stream, line::binary>> ->
        {:noreply, log(state, stream, line)}

      <<@event, 0, payload::binary>> ->
        handle_event(:erlang.binary_to_term(payload, [:safe]), state)
        {:noreply, state}

      # The worker is dead: stop now, not at the port's exit status, which comes only
      # once every holder of fd 4 has closed it (a daemonized grandchild may never).
      <<@exited, 0, report::binary>> ->
        died(state, parse_exit(report))

      other ->
        Logger.warning(
          "SnakeBridge worker #{inspect(state.pool)}/#{state.index}: unexpected frame " <>
            inspect(other, limit: 8, printable_limit: 64)
        )

        {:noreply, state}
    end
  end

  # No EXITED report came (the nanny itself was killed, or the report was swallowed by
  # a frame the worker left unfinished): the nanny's status is the worker's, encoded as
  # a shell would (see _nanny.py).
  def handle_info({port, {:exit_status, status}}, %{port: port} = state),
    do: died(%{state | port: nil}, from_nanny_status(status, stderr_text(state)))

  # The same, with a frame left unfinished (Pool.Router): the replies the worker wrote
  # last may be lost in it, which the error says, so no call is taken for unstarted
  # for want of its :started reply (see SnakeBridge.Call, "Re-running").
  def handle_info({:snakebridge_exited_mid_frame, port, status}, %{port: port} = state) do
    report = from_nanny_status(status, stderr_text(state))
    lost = "it died in the middle of writing a frame; the replies it sent last are lost"
    died(%{state | port: nil}, report, lost)
  end

  def handle_info(:retry_boot, state), do: start(state)
  def handle_info(:start, state), do: start(state)

  # The router stops on a lying frame header (see Pool.Frames): the worker is replaced,
  # as if it had died in its call (the port closes with the router, and the nanny then
  # ends the worker).
  def handle_info({:EXIT, router, {fault, _bytes} = reason}, %{router: router} = state)
      when fault in [:frame_too_large, :frame_stalled] do
    error = %WorkerCrashError{reason: router_down(reason, state), stderr: stderr_text(state)}
    ended(%{state | router: nil}, error, "is replaced: " <> error.reason)
  end

  # The router is linked to the port: it dies with the port's own failure (the
  # nanny lingers after its report so that writes never meet a closed pipe, see
  # _nanny.py; this is what is left when the nanny itself is killed).
  def handle_info({:EXIT, router, reason}, %{router: router} = state) when reason != :normal do
    error = %WorkerCrashError{reason: router_down(reason, state), stderr: stderr_text(state)}
    {:stop, {:shutdown, error}, close(%{state | router: nil})}
  end

  def handle_info({:EXIT, _from, _reason}, state), do: {:noreply, state}
  def handle_info(_stale, state), do: {:noreply, state}

  @impl true
  def terminate(reason, state) do
    Table.retire(state.load)

    with {:shutdown, %WorkerCrashError{} = error} <- reason,
         do: Table.note_exit(state.pool, state.index, self(), error)

    close(state)
    Table.delete_entry(state.pool, state.index, self())
  end

  defp close(state) do
    # Before the port closes and this process exits: so no reply is forwarded after a
    # caller has seen this process go down (see SnakeBridge.Call).
    if state.router, do: Router.stop(state.router)
    if state.control, do: :gen_tcp.close(state.control)

    if state.port do
      try do
        Port.close(state.port)
      rescue
        ArgumentError -> :already_closed
      end
    end

    %{state | port: nil, control: nil, router: nil}
  end

  defp router_down({:frame_too_large, size}, state) do
    "it sent a frame header declaring #{size} bytes, above :max_frame " <>
      "(#{state.config.max_frame} bytes)"
  end

  defp router_down({:frame_stalled, missing}, _state) do
    "it stopped sending a frame with #{missing} bytes of it still to come (a lying " <>
      "frame header, or a worker stopped mid-write)"
  end

  defp router_down(reason, _state),
    do: "its port closed (#{inspect(reason)}) before the worker's exit was reported"

  defp died(state, report, reason \\ nil) do
    error = %WorkerCrashError{
      status: report.status,
      signal: report.signal,
      stderr: report.stderr,
      reason: reason
    }

    ended(state, error, describe_exit(report))
  end

  defp ended(state, error, how) do
    Logger.error(
      "SnakeBridge worker #{inspect(state.pool)}/#{state.index} (pid #{state.python_pid}) " <>
        how
    )

    # A worker killed by the call it was running is that call's failure, not a sign of
    # a broken environment: only deaths before the hello or while idle back off.
    Table.note_death(
      state.pool,
      state.index,
      Table.quick_death?(state.started_at) and not busy?(state),
      error
    )

    {:stop, {:shutdown, error}, close(state)}
  end

  defp busy?(%{load: nil}), do: false
  defp busy?(%{load: load}), do: :atomics.get(load, 1) > 0

  # 128 + N is "killed by signal N", as _nanny.py exits.
  @signal_base 128
  defp from_nanny_status(status, stderr) when status > @signal_base and status < 256,
    do: %{status: nil, signal: status - @signal_base, stderr: stderr}

  defp from_nanny_status(status, stderr), do: %{status: status, signal: nil, stderr: stderr}

  defp handle_event({:orphan_callback, callback_id, fun, args, owner}, state) do
    SnakeBridge.Call.Callback.run_orphan(
      %LocalPort{port: state.port, control: state.control},
      callback_id,
      fun,
      args,
      owner
    )
  end

  defp handle_event(event, state) do
    Logger.warning("SnakeBridge worker #{state.index}: unexpected event #{inspect(event)}")
  end

  @tail_lines 20

  defp log(state, stream, line) do
    metadata = [snakebridge_worker: {state.pool, state.index}]

    if stream == Wire.stream(:stderr) do
      Logger.warning(line, metadata)
      %{state | stderr_tail: Enum.take([line | state.stderr_tail], @tail_lines)}
    else
      Logger.info(line, metadata)
      state
    end
  end

  defp stderr_text(state), do: state.stderr_tail |> Enum.reverse() |> Enum.join("\n")

  defp parse_exit(<<has_status, status::signed-32, signal, stderr::binary>>) do
    if has_status == 1,
      do: %{status: status, signal: nil, stderr: stderr},
      else: %{status: nil, signal: signal, stderr: stderr}
  end

  defp describe_exit(%{signal: nil, status: status, stderr: stderr}),
    do: "exited with status #{status}" <> tail(stderr)

  defp describe_exit(%{signal: signal, stderr: stderr}),
    do: "was killed by signal #{signal}" <> tail(stderr)

  defp tail(""), do: ""
  defp tail(stderr), do: "; last stderr lines:\n" <> stderr
end
