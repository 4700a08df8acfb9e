defmodule SnakeBridge.Runtime do
  @moduledoc false
  # The call path: route a request to a worker, send its frame, and wait for the answer
  # while serving the callbacks Python makes meanwhile.
  #
  # Routing: a request that carries refs goes to the worker holding them (checked
  # against the worker's incarnation, so a ref never reaches a replacement worker);
  # otherwise to the worker of the caller's session. The caller writes the frame
  # straight to the port, tagged with its reply address; the worker's router forwards
  # the replies there (see SnakeBridge.Router, which also says how a call that is given
  # up leaves nothing behind in the mailbox).
  #
  # Crash detection: a call that is still waiting after @watch_after ms monitors its
  # worker. Nearly every call is answered before that, and a monitor with its removal
  # costs about 0.18 µs of a 12 µs call (measured); a worker that dies meanwhile is
  # noticed then, at most @watch_after ms late, with the reason it recorded (see
  # Pool.note_exit/4).

  import Bitwise

  alias SnakeBridge.{
    Args,
    Callback,
    EncodeError,
    Pool,
    Ref,
    RefError,
    Router,
    Session,
    Shm,
    TimeoutError,
    Wire,
    Worker,
    WorkerCrashError
  }

  @ok Wire.kind(:ok)
  @error Wire.kind(:error)
  @callback_kind Wire.kind(:callback)
  @shm_flag Wire.shm_flag()
  @blob_flag Wire.blob_flag()
  @kind_mask bnot(@shm_flag ||| @blob_flag) &&& 0xFF
  @no_reply Wire.no_reply()

  # Atoms that replies contain, kept in this module's literals so that they exist
  # before the first `binary_to_term(_, [:safe])`.
  @reply_atoms [
    SnakeBridge.Ref,
    SnakeBridge.Bytes,
    SnakeBridge.Array,
    SnakeBridge.PythonError,
    SnakeBridge.RefError,
    SnakeBridge.EncodeError,
    Calendar.ISO,
    :id,
    :type,
    :session,
    :worker,
    :dtype,
    :shape,
    :data,
    :traceback,
    :bases,
    :reason,
    :message,
    :path,
    :value,
    :refs,
    :sessions,
    :pending,
    :callbacks,
    :os_pid,
    :rss,
    :protocol,
    :python,
    :pid,
    :control,
    :cont,
    :done,
    :cancelled,
    :orphan_callback,
    :hello,
    :main,
    :limit,
    :released,
    :unknown,
    :nan,
    :infinity,
    :neg_infinity
  ]
  @doc false
  def reply_atoms, do: @reply_atoms

  @repr_limit 200
  @repr_timeout 500
  # See "Crash detection" in the module comment.
  @watch_after 50

  # ------------------------------------------------------------------ requests

  @doc false
  # Sends `op` with an already prepared `body` and waits for its answer.
  # `worker` is where the body's refs live (nil if none).
  def request(op, body, worker, opts) do
    pool = route_pool(worker, opts)
    meta = Pool.meta(pool)
    timeout = opt(opts, :timeout, meta.timeout)
    deadline = deadline(timeout)

    with {:ok, session} <- session(op, pool, opts),
         index = if(worker, do: elem(worker, 1), else: session.worker),
         {:ok, entry} <- ready_entry(meta, index, worker, deadline),
         :ok <- check_in(meta, index, elem(entry, 5), opts) do
      # Counted out by the worker process when the reply comes (see Pool).
      try do
        send_and_await(op, body, opts, meta, index, entry, session, timeout, deadline)
      after
        Shm.clean_up()
      end
    end
  end

  @doc false
  # For bench/pool_overhead.exs only: `request/4` with routing bypassed, to measure
  # what the pool adds. `route` comes from `__route__/1`, resolved once up front; what
  # remains is the frame's send and its answer, and the in-flight count, which must
  # stay because the worker process counts every reply out.
  def __direct__(op, body, {meta, index, entry, session}, opts) do
    :atomics.add(elem(entry, 5), 1, 1)
    deadline = deadline(meta.timeout)

    try do
      send_and_await(op, body, opts, meta, index, entry, session, meta.timeout, deadline)
    after
      Shm.clean_up()
    end
  end

  @doc false
  # The calling process's worker in `pool`, as `__direct__/4` takes it.
  def __route__(pool) do
    {:ok, session} = Session.resolve(pool, nil)
    meta = Pool.meta(pool)
    {:ok, entry} = ready_entry(meta, session.worker, nil, :infinity)
    {meta, session.worker, entry, session}
  end

  # Requests on the control socket (stats) wait behind no call: they are not counted.
  defp check_in(meta, index, load, opts) do
    if opt(opts, :channel, nil) == :control,
      do: :ok,
      else: Pool.check_in(meta, index, load)
  end

  # Options are usually [], and Keyword.get costs a function call and a keyfind on every
  # request: eight of them, on every call.
  defp opt([], _key, default), do: default
  defp opt(opts, key, default), do: Keyword.get(opts, key, default)

  defp route_pool({pool, _index, _incarnation}, _opts), do: pool
  defp route_pool(nil, opts), do: opt(opts, :pool, :default)

  # A released session is refused (see Session.resolve/2), except by its own release.
  defp session(:release_session, _pool, opts), do: {:ok, Keyword.fetch!(opts, :session)}

  defp session(_op, pool, opts) do
    case opt(opts, :session, nil) do
      %Session{pool: ^pool} = session -> Session.resolve(pool, session)
      _ -> Session.resolve(pool, nil)
    end
  end

  defp deadline(:infinity), do: :infinity
  defp deadline(timeout) when is_integer(timeout) and timeout >= 0, do: now_ms() + timeout

  defp deadline(other) do
    raise ArgumentError,
          "expected :timeout to be a non-negative integer (ms) or :infinity, got: #{inspect(other)}"
  end

  # The monotonic clock in milliseconds. Asking :erlang for :millisecond costs ~120 ns
  # (a unit conversion); the native clock and one division ~80 ns, twice a call. The
  # native unit is fixed for a given OS and VM build (nanoseconds on Linux), so it is
  # read when this module is compiled, on the machine that runs it.
  @native_per_ms System.convert_time_unit(1, :millisecond, :native)
  defp now_ms, do: div(:erlang.monotonic_time(), @native_per_ms)

  defp remaining(:infinity), do: :infinity
  defp remaining(deadline), do: max(deadline - now_ms(), 0)

  defp ready_entry(meta, index, worker, deadline) do
    case Pool.entry(meta, index) do
      {:ready, _pid, _port, _control, incarnation, _load} = entry ->
        if worker == nil or elem(worker, 2) == incarnation,
          do: {:ok, entry},
          else: {:error, worker_lost(worker)}

      # The ref's incarnation is gone whatever comes next.
      _not_ready when worker != nil ->
        {:error, worker_lost(worker)}

      {:starting, pid} ->
        await_start(pid, meta, index, deadline)

      {:failed, _pid, error} ->
        {:error, error}

      :absent ->
        # Between a worker's death and its replacement's init: a few milliseconds.
        if remaining(deadline) == 0 do
          {:error,
           %WorkerCrashError{reason: "worker #{index} of #{inspect(meta.name)} is not running"}}
        else
          Process.sleep(5)
          # Read the pool again: it may have been restarted or stopped meanwhile.
          ready_entry(Pool.meta(meta.name), index, worker, deadline)
        end
    end
  end

  defp await_start(pid, meta, index, deadline) do
    Worker.await_ready(pid, remaining(deadline))
    ready_entry(Pool.meta(meta.name), index, nil, deadline)
  catch
    :exit, {:timeout, _} ->
      {:error,
       %WorkerCrashError{reason: "worker #{index} of #{inspect(meta.name)} is still starting"}}

    # It died while starting: its replacement may be up already.
    :exit, _ ->
      ready_entry(Pool.meta(meta.name), index, nil, deadline)
  end

  defp worker_lost(worker) do
    %RefError{
      reason: :worker_lost,
      message: "the worker that held this ref (#{inspect(worker)}) died and was replaced"
    }
  end

  defp send_and_await(op, body, opts, meta, index, entry, session, timeout, deadline) do
    {:ready, pid, port, control, _incarnation, load} = entry
    caller = Session.caller_id()
    {op, body} = encode_body(op, body)
    {blob_flag, body} = Shm.frame_body(body)

    # A request on the control socket (stats) is not counted in flight, and its tag
    # tells the router so (see Pool and Router).
    {parent, channel, tag, box, id, load} =
      if opt(opts, :channel, nil) == :control do
        alias = :erlang.alias()
        {<<>>, :control, Router.alias_tag(alias), alias, :uncounted, nil}
      else
        {parent, channel} = parent(meta.name, index)
        {tag, id} = Router.call_tag()
        {parent, channel, tag, :snakebridge_reply, id, load}
      end

    header =
      <<Wire.op(op), flags(opts) + blob_flag, byte_size(tag), tag::binary, session.id::64,
        caller::64, byte_size(parent), parent::binary>>

    # Replies come as {box, id, kind, payload}.
    call = %{
      box: box,
      id: id,
      monitor: nil,
      tag: tag,
      pid: pid,
      port: port,
      control: control,
      load: load,
      pool: meta.name,
      index: index,
      session: session,
      caller: caller,
      timeout: timeout,
      grace: opt(opts, :kill_grace, meta.kill_grace),
      on_timeout: opt(opts, :on_timeout, :interrupt)
    }

    size = :erlang.iolist_size(body)

    if size > meta.max_frame do
      finish(call)
      Pool.count_out(load)
      {:error, too_large(size, meta.max_frame)}
    else
      case transmit(channel, call, [header | body]) do
        :ok ->
          await(call, deadline, timeout)

        :closed ->
          Pool.count_out(load)
          crashed(call)
      end
    end
  end

  # A call on a module by name carries the two names as length-prefixed UTF-8 before
  # the ETF of its arguments: decoding two ETF binaries costs Python more, on the
  # commonest request there is (see CALL_MODULE in docs/PROTOCOL.md).
  defp encode_body(:call, {module, name, args, kwargs})
       when is_binary(module) and byte_size(module) < 256 and byte_size(name) < 256 do
    payload = if kwargs == [], do: args, else: {args, kwargs}

    {:call_module,
     [byte_size(module), module, byte_size(name), name | :erlang.term_to_binary(payload)]}
  end

  defp encode_body(op, body), do: {op, :erlang.term_to_binary(body)}

  defp flags(opts) do
    case opt(opts, :return, :auto) do
      :auto ->
        0

      :value ->
        1

      :ref ->
        2

      other ->
        raise ArgumentError,
              "expected :return to be :auto, :value or :ref, got: #{inspect(other)}"
    end
  end

  defp parent(pool, index) do
    case Process.get({:snakebridge_parent, pool, index}) do
      nil -> {<<>>, :main}
      {callback_id, channel} -> {<<callback_id::64>>, channel}
    end
  end

  @doc false
  # Writes a frame to the worker's port (fd 3) or to its control socket.
  def transmit(:main, call, frame) do
    Port.command(call.port, frame)
    :ok
  rescue
    ArgumentError -> :closed
  end

  def transmit(:control, call, frame) do
    case :gen_tcp.send(call.control, frame) do
      :ok -> :ok
      {:error, _} -> :closed
    end
  end

  defp crashed(call) do
    %{monitor: monitor} = call = watch(call)

    receive do
      {:DOWN, ^monitor, :process, pid, reason} ->
        finish(call)
        {:error, crash_error(call, pid, reason)}
    after
      1_000 ->
        finish(call)
        {:error, %WorkerCrashError{reason: "the worker's channel is closed"}}
    end
  end

  # Monitors the call's worker (see the module comment).
  defp watch(%{monitor: nil} = call),
    do: %{call | monitor: :erlang.monitor(:process, call.pid)}

  defp watch(call), do: call

  # The call got its final reply, or its worker is gone.
  defp finish(%{box: box, monitor: monitor}) do
    if is_reference(box), do: :erlang.unalias(box)
    if monitor, do: Process.demonitor(monitor, [:flush])
  end

  # The call is given up while its worker may still answer it.
  defp abandon(%{box: :snakebridge_reply} = call) do
    Router.abandon(call.port, call.tag, call.id, &discard_segments/2)
    finish(call)
  end

  defp abandon(call), do: finish(call)

  defp discard_segments(kind, payload) do
    if (kind &&& @shm_flag) != 0, do: Shm.discard(:erlang.binary_to_term(payload, [:safe]))
  end

  defp await(call, deadline), do: await(call, deadline, remaining(deadline))

  # `wait` is the time left, in ms; an unwatched call waits at most @watch_after of it
  # before it watches its worker and goes on waiting.
  defp await(%{box: box, id: id, monitor: monitor} = call, deadline, wait) do
    receive do
      {^box, ^id, kind, payload} ->
        case kind &&& @kind_mask do
          @ok ->
            finish(call)
            decoded(kind, payload)

          @error ->
            finish(call)

            with {:ok, exception} <- decoded(kind, payload),
                 do: {:error, error(exception, call)}

          @callback_kind ->
            Callback.run(call, decode(kind, payload))
            await(call, deadline)
        end

      # The router stops before its worker does, so nothing for this call follows.
      {:DOWN, ^monitor, :process, pid, reason} ->
        finish(call)
        {:error, crash_error(call, pid, reason)}
    after
      if(monitor, do: wait, else: min(wait, @watch_after)) ->
        if monitor == nil and wait > @watch_after,
          do: await(watch(call), deadline),
          else: timed_out(call)
    end
  end

  # A final reply, or the error that the VM refused to decode it: a Python dict (or set)
  # whose keys are distinct in Python but equal in Elixir, such as two NaN keys (each
  # NaN is a distinct key) or a DataFrame's repeated column names, makes a map with a
  # repeated key.
  defp decoded(kind, payload) do
    {:ok, decode(kind, payload)}
  rescue
    ArgumentError ->
      {:error,
       %EncodeError{
         path: "(the reply)",
         value: nil,
         reason:
           "the result has a dict or set whose keys are distinct in Python but equal in " <>
             "Elixir (two NaN keys, or a DataFrame's repeated column names), so it has no " <>
             "map form; return: :ref keeps it in Python"
       }}
  end

  # A reply payload: plain ETF, or ETF with segments to resolve (see SnakeBridge.Shm).
  defp decode(kind, payload) when (kind &&& @blob_flag) != 0 do
    <<size::32, etf::binary-size(size), blobs::binary>> = payload
    Shm.resolve(:erlang.binary_to_term(etf, [:safe]), blobs)
  end

  defp decode(kind, payload) when (kind &&& @shm_flag) != 0,
    do: Shm.resolve(:erlang.binary_to_term(payload, [:safe]), <<>>)

  defp decode(_kind, payload), do: :erlang.binary_to_term(payload, [:safe])

  defp error(:cancelled, call), do: %TimeoutError{timeout: call.timeout}
  defp error(exception, _call), do: exception

  defp crash_error(_call, _pid, {:shutdown, %WorkerCrashError{} = error}), do: error

  # It had stopped before the call watched it: how it stopped is in the pool's record.
  defp crash_error(call, pid, :noproc) do
    Pool.exit_reason(call.pool, call.index, pid) ||
      %WorkerCrashError{reason: "the worker is not running"}
  end

  defp crash_error(_call, _pid, reason),
    do: %WorkerCrashError{reason: "the worker stopped: #{inspect(reason)}"}

  # Cancel the Python call, asking the worker whether it had started. One still queued
  # behind other calls is skipped when the worker reaches it, so the caller is answered
  # at once and nobody else's call is disturbed. One that had started is interrupted
  # and given the grace period to unwind. A call that ignores the interrupt (a
  # swallowed KeyboardInterrupt), or a worker too wedged to answer at all (a C loop
  # holding the GIL), costs the worker its life: it is killed and replaced.
  defp timed_out(%{on_timeout: :abandon} = call) do
    _ = :gen_tcp.send(call.control, control_frame(:cancel, {[call.tag]}))
    abandon(call)
    {:error, %TimeoutError{timeout: call.timeout}}
  end

  defp timed_out(call) do
    answer = :erlang.alias([:reply])
    tag = Router.alias_tag(answer)
    frame = [<<Wire.op(:cancel), 0, byte_size(tag), tag::binary, 0::128, 0>>]
    _ = :gen_tcp.send(call.control, [frame | :erlang.term_to_binary({[call.tag]})])
    await_unwind(watch(call), answer, now_ms() + call.grace)
  end

  defp await_unwind(%{box: box, id: id, monitor: monitor} = call, answer, grace_deadline) do
    receive do
      {^box, ^id, kind, payload} when (kind &&& @kind_mask) == @callback_kind ->
        Callback.refuse(call, decode(kind, payload), "the call timed out")
        await_unwind(call, answer, grace_deadline)

      {^box, ^id, kind, payload} ->
        finish(call)
        :erlang.unalias(answer)
        discard_segments(kind, payload)
        {:error, %TimeoutError{timeout: call.timeout}}

      {^answer, :uncounted, _kind, payload} ->
        case :erlang.binary_to_term(payload, [:safe]) do
          :queued ->
            # Skipped when the worker reaches it, and answered then: not waited for.
            abandon(call)
            {:error, %TimeoutError{timeout: call.timeout}}

          :running ->
            await_unwind(call, answer, grace_deadline)
        end

      {:DOWN, ^monitor, :process, _pid, _reason} ->
        finish(call)
        :erlang.unalias(answer)
        {:error, %TimeoutError{timeout: call.timeout, worker_restarted: true}}
    after
      remaining(grace_deadline) ->
        :erlang.unalias(answer)
        Worker.restart(call.pid, "a call ignored its cancellation for #{call.grace} ms")

        receive do
          {:DOWN, ^monitor, :process, _pid, _reason} -> finish(call)
        after
          5_000 -> abandon(call)
        end

        {:error, %TimeoutError{timeout: call.timeout, worker_restarted: true}}
    end
  end

  # A control-socket frame that wants no reply.
  defp control_frame(op, body) do
    [<<Wire.op(op), @no_reply, 0, 0::128, 0>> | :erlang.term_to_binary(body)]
  end

  defp too_large(size, max_frame) do
    %EncodeError{
      path: "request",
      value: nil,
      reason: "the request is #{size} bytes, above the :max_frame limit of #{max_frame} bytes"
    }
  end

  # ------------------------------------------------------------------ fire-and-forget

  @doc false
  # After a caller's death: cancels its calls in flight on every worker of `pool` and
  # releases the sessions it owned there, without waiting.
  #
  # A worker with nothing in flight has nothing of the caller's to cancel (a request is
  # counted before it is sent), so it gets no cancellation. A busy one gets
  # CANCEL_CALLER on the control socket to interrupt the calls at once, then
  # CALLER_DONE on fd 3 behind the caller's last frame, which lets the worker forget
  # the caller (Cancellation.caller_done).
  def caller_gone(pool, caller, sessions) do
    cancel = control_frame(:cancel_caller, {caller})
    done = control_frame(:caller_done, {caller})
    releases = Enum.map(sessions, &release_session_frame/1)

    each_ready(pool, fn _index, {:ready, _pid, port, control, _, load} ->
      if :atomics.get(load, 1) > 0 do
        :gen_tcp.send(control, cancel)
        transmit(:main, %{port: port}, done)
      end

      Enum.each(releases, &transmit(:main, %{port: port}, &1))
    end)
  end

  defp release_session_frame(%Session{id: id}) do
    [<<Wire.op(:release_session), @no_reply, 0, id::64, 0::64, 0>> | :erlang.term_to_binary({})]
  end

  @doc false
  # Releases refs without waiting (release/1 is idempotent and never fails).
  def release_refs(%Ref{worker: {pool, index, incarnation}, session: session}, ids) do
    case Pool.entry(pool, index) do
      {:ready, _pid, port, _control, ^incarnation, _load} ->
        frame = [
          <<Wire.op(:release), @no_reply, 0, session::64, 0::64, 0>>
          | :erlang.term_to_binary({ids})
        ]

        transmit(:main, %{port: port}, frame)

      _ ->
        :ok
    end
  rescue
    # The pool is gone, and its objects with it.
    ArgumentError -> :ok
  end

  defp each_ready(pool, fun) do
    meta = Pool.meta(pool)

    for index <- 0..(meta.size - 1) do
      case Pool.entry(pool, index) do
        {:ready, _, _, _, _, _} = entry -> fun.(index, entry)
        _ -> :ok
      end
    end

    :ok
  rescue
    # The pool is gone (application stopping): nothing left to clean.
    ArgumentError -> :ok
  end

  @doc false
  # Releases a session on every worker of its pool and waits until each has done so.
  def release_session(%Session{pool: pool} = session) do
    each_ready(pool, fn index, {:ready, _pid, _port, _control, incarnation, _load} ->
      request(:release_session, {}, {pool, index, incarnation}, session: session)
    end)
  end

  @doc false
  def stats(pool) do
    meta = Pool.meta(pool)
    per_worker = for index <- 0..(meta.size - 1), do: worker_stats(pool, index)

    %{
      workers: meta.size,
      sessions: per_worker |> Enum.map(&Map.get(&1, :sessions, 0)) |> Enum.sum(),
      refs: per_worker |> Enum.map(&Map.get(&1, :refs, 0)) |> Enum.sum(),
      queued: Pool.queued(meta),
      per_worker: per_worker
    }
  end

  defp worker_stats(pool, index) do
    case Pool.entry(pool, index) do
      {:ready, _pid, _port, _control, incarnation, _load} ->
        # Over the control socket: a worker busy with a long call still answers. One too
        # wedged to answer is left alone: its own callers' timeouts deal with it.
        opts = [channel: :control, timeout: 5_000, on_timeout: :abandon]

        case request(:stats, {}, {pool, index, incarnation}, opts) do
          {:ok, stats} -> Map.merge(stats, %{index: index, status: :ready})
          {:error, error} -> %{index: index, status: :unavailable, error: error}
        end

      {:failed, _pid, error} ->
        %{index: index, status: :failed, error: error}

      other ->
        %{index: index, status: if(other == :absent, do: :absent, else: :starting)}
    end
  end

  # ------------------------------------------------------------------ op helpers

  @doc false
  def ref_request(op, %Ref{worker: worker} = ref, rest, opts) do
    with {:ok, rest, worker} <- Args.prepare(rest, "args", worker) do
      request(op, List.to_tuple([ref | rest]), worker, opts)
    end
  end

  @doc false
  def short_repr(%Ref{} = ref) do
    case ref_request(:repr, ref, [@repr_limit], timeout: @repr_timeout, on_timeout: :abandon) do
      {:ok, repr} when is_binary(repr) -> {:ok, repr}
      {:error, %RefError{reason: reason}} -> {:error, Atom.to_string(reason)}
      {:error, %TimeoutError{}} -> {:error, "repr timed out"}
      {:error, _} -> {:error, "repr failed"}
    end
  rescue
    _ -> {:error, "repr unavailable"}
  catch
    :exit, _ -> {:error, "repr unavailable"}
  end

  @doc false
  def str!(%Ref{} = ref) do
    case ref_request(:str, ref, [], []) do
      {:ok, text} -> text
      {:error, error} -> raise error
    end
  end

  @doc false
  def len(%Ref{} = ref), do: type_error_as_missing(ref_request(:len, ref, [], []))

  @doc false
  def contains(%Ref{} = ref, element),
    do: type_error_as_missing(ref_request(:contains, ref, [element], []))

  defp type_error_as_missing({:ok, value}), do: {:ok, value}

  defp type_error_as_missing({:error, %SnakeBridge.PythonError{type: "TypeError"}}), do: :error
  defp type_error_as_missing({:error, error}), do: raise(error)

  @doc false
  def array_export(%Ref{} = ref), do: ref_request(:array_export, ref, [], [])
end
