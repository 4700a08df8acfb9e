defmodule SnakeBridge.Pool.Router do
  @moduledoc false
  # How a reply finds its caller: the tag a request carries, and the process that reads
  # the worker's port and forwards each reply to the tag's caller.
  #
  # Replies are every call's path, so each worker's port is connected to a plain
  # receive loop (a GenServer's dispatch costs about 0.35 µs a message here, measured)
  # that reads only a reply's header and forwards its payload, undecoded and uncopied (a
  # sub-binary of the port's binary). Everything else that comes on the port (log
  # lines, events, the nanny's exit report) goes on to the SnakeBridge.Pool.WorkerServer process,
  # which owns the port's life; the router is linked to it and stopped with it.
  #
  # The port is in stream mode and the router frames it (SnakeBridge.Pool.Frames), from
  # the worker's first byte on, so that a lying length header costs no memory. A chunk
  # that is one whole reply, nearly every one, is read by a single receive clause;
  # anything else (several frames in a chunk, a frame over several) goes through
  # Frames.split/3. A header over :max_frame ends the router with the reason
  # {:frame_too_large, size}, which its worker server turns into the worker's crash.
  #
  # Tags (opaque bytes to Python, echoed in every reply to the request):
  #
  #   * <<0, id::signed-64, pid::binary>>: a request on the port, counted in flight
  #     (see Pool.Table). `pid` is the caller's pid in external term format, which the router
  #     decodes once per caller and then finds in a cache; the caller receives
  #     {:snakebridge_reply, id, kind, payload}, `id` unique to the call.
  #   * the external term format of {:uncounted, alias}: a request that waits behind no
  #     call and is not counted (stats, the answer to a cancel). The caller receives
  #     {alias, :uncounted, kind, payload}; once it removes the alias, late replies are
  #     dropped by the runtime.
  #
  # The first kind costs no alias and no term decoding per call (0.45 µs of a 12 µs
  # call, measured). Its replies go to the caller's pid, so a caller that stops waiting
  # before the final reply (a timeout) abandons the call here: the router drops what
  # still comes for it, and the caller flushes what was forwarded before.

  import Bitwise

  alias SnakeBridge.Pool.{Frames, Table}
  alias SnakeBridge.Wire

  @callback_kind Wire.kind(:callback)
  @started Wire.kind(:started)
  @kind_mask bnot(Wire.shm_flag() ||| Wire.blob_flag()) &&& 0xFF
  # A reply at least this big is collected from the router's heap as soon as it is
  # forwarded: the router allocates little, so it might otherwise keep a reference to
  # the port's binary (pinning it in memory after its caller dropped it) for a long time.
  @big_reply 1_048_576
  # Pids cached per router; past this many callers the cache starts over.
  @max_cached_pids 4096

  @doc """
  Starts the router of `port` (owned by the calling worker process), which reads
  frames of at most `max_frame` bytes from it (see SnakeBridge.Pool.Frames).
  """
  def start_link(port, load, max_frame) do
    router = start_unconnected(port, load, max_frame)
    Port.connect(port, router)
    router
  end

  @doc """
  Starts a router for `port` that another process feeds with the port's frames, whole
  ({:snakebridge_frames, frames}): the port is on another node (see
  SnakeBridge.Pool.Remote.Relay), so it cannot be connected here.
  """
  def start_unconnected(port, load, max_frame) do
    worker = self()
    spawn_link(fn -> route(port, worker, load, %{}, %{}, nil, max_frame) end)
  end

  @doc "Stops `router` and waits until it is gone (the caller traps exits)."
  def stop(router) do
    Process.exit(router, :kill)

    receive do
      {:EXIT, ^router, _reason} -> :ok
    end
  end

  @doc "A counted request's tag, and the id its replies carry."
  def call_tag do
    tag = <<0, :erlang.unique_integer()::signed-64, pid_tag()::binary>>
    # The id as the router will read it back (unique integers may outgrow 64 bits).
    <<0, id::signed-64, _pid::binary>> = tag
    {tag, id}
  end

  @doc "An uncounted request's tag: replies go to `alias`."
  def alias_tag(alias), do: :erlang.term_to_binary({:uncounted, alias})

  defp pid_tag do
    # The BIF itself: read on every call, and Process.get/1 costs two calls more.
    case :erlang.get(:snakebridge_pid_tag) do
      :undefined ->
        tag = :erlang.term_to_binary(self())
        Process.put(:snakebridge_pid_tag, tag)
        tag

      tag ->
        tag
    end
  end

  @doc """
  Stops waiting for the counted request `tag` (id `id`) sent to `port`: the router
  drops the replies it has not forwarded yet, and those it has are flushed from the
  mailbox. The final reply, whichever of the two gets it, is given to `discard`
  (which deletes its segments and releases its refs).
  """
  def abandon(port, tag, id, discard) do
    case Port.info(port, :connected) do
      {:connected, router} ->
        abandon_via(router, tag, id, discard)

      # The port is closed: its router is gone and forwards nothing more.
      nil ->
        flush(id, discard)
        :ok
    end
  end

  @doc "`abandon/4` through the router `router` (the port's, or a remote worker's)."
  def abandon_via(router, tag, id, discard) do
    monitor = Process.monitor(router)
    send(router, {:abandon, tag, discard, self(), monitor})

    # The router forwards in order, so everything it sent for `tag` is here before
    # its acknowledgement.
    receive do
      {:snakebridge_abandoned, ^monitor} -> Process.demonitor(monitor, [:flush])
      {:DOWN, ^monitor, :process, _pid, _reason} -> :ok
    end

    # A final reply that came before the router heard of it ends the call: the
    # router will see nothing more for it to drop.
    if flush(id, discard), do: send(router, {:forget, tag})
    :ok
  end

  @doc "Removes the replies to `id` already in the mailbox; true if the final one was."
  def flush(id, discard, final? \\ false) do
    receive do
      {:snakebridge_reply, ^id, kind, payload} ->
        final = final?(kind)
        if final or callback?(kind), do: discard.(kind, payload)
        flush(id, discard, final? or final)
    after
      0 -> final?
    end
  end

  # `pids`: caller pids by their external term format. `dropped`: tags of abandoned
  # calls still in flight, with the function that cleans up after their final reply.
  # `reading`: the start of a frame that the next chunk continues (Pool.Frames).
  defp route(port, worker, load, pids, dropped, reading, max_frame) do
    receive do
      # The common case, read by this clause alone: a chunk that is one whole reply.
      {^port, {:data, <<size::32, kind, tsize, tag::binary-size(tsize), payload::binary>>}}
      when reading == nil and size == byte_size(payload) + tsize + 2 and size <= max_frame and
             ((kind &&& @kind_mask) <= @callback_kind or kind == @started) ->
        {pids, dropped} = reply(kind, tag, payload, load, pids, dropped)
        route(port, worker, load, pids, dropped, nil, max_frame)

      {^port, {:data, chunk}} ->
        case Frames.read(reading, chunk, max_frame) do
          # Nothing more on the port can be trusted: the worker server stops the
          # worker with this reason (and the port closes with this process).
          {:too_large, size, frames} ->
            frames(frames, port, worker, load, pids, dropped)
            exit({:frame_too_large, size})

          {frames, reading} ->
            {pids, dropped} = frames(frames, port, worker, load, pids, dropped)
            route(port, worker, load, pids, dropped, reading, max_frame)
        end

      {:snakebridge_frames, frames} ->
        {pids, dropped} = frames(frames, port, worker, load, pids, dropped)
        route(port, worker, load, pids, dropped, reading, max_frame)

      {:abandon, tag, discard, from, ref} ->
        send(from, {:snakebridge_abandoned, ref})
        route(port, worker, load, pids, Map.put(dropped, tag, discard), reading, max_frame)

      {:forget, tag} ->
        route(port, worker, load, pids, Map.delete(dropped, tag), reading, max_frame)

      # The worker died in the middle of a frame, which may hold its last replies (a
      # :started among them): its server must not take their absence for proof.
      {^port, {:exit_status, status}} when reading != nil ->
        send(worker, {:snakebridge_exited_mid_frame, port, status})
        route(port, worker, load, pids, dropped, reading, max_frame)

      message ->
        send(worker, message)
        route(port, worker, load, pids, dropped, reading, max_frame)
    after
      # Between frames it waits for ever; inside one, see Pool.Frames.
      if(reading == nil, do: :infinity, else: Frames.wait_ms(reading)) ->
        exit({:frame_stalled, Frames.missing(reading)})
    end
  end

  defp frames([], _port, _worker, _load, pids, dropped), do: {pids, dropped}

  defp frames([frame | frames], port, worker, load, pids, dropped) do
    case frame do
      <<kind, tsize, tag::binary-size(tsize), payload::binary>>
      when (kind &&& @kind_mask) <= @callback_kind or kind == @started ->
        {pids, dropped} = reply(kind, tag, payload, load, pids, dropped)
        frames(frames, port, worker, load, pids, dropped)

      _ ->
        send(worker, {port, {:data, frame}})
        frames(frames, port, worker, load, pids, dropped)
    end
  end

  # Inlined: in route/7's first clause it is every call's path.
  @compile {:inline, reply: 6}
  defp reply(kind, tag, payload, load, pids, dropped) do
    final = final?(kind)

    case tag do
      <<0, id::signed-64, pid_bin::binary>> ->
        if final, do: Table.count_out(load)

        if dropped != %{} and Map.has_key?(dropped, tag) do
          cond do
            # Its caller gave up on it: what the reply holds is cleaned up here.
            final ->
              discard(Map.fetch!(dropped, tag), kind, payload)
              {pids, Map.delete(dropped, tag)}

            # Nobody runs this callback: what its arguments made goes too.
            callback?(kind) ->
              discard(Map.fetch!(dropped, tag), kind, payload)
              {pids, dropped}

            true ->
              {pids, dropped}
          end
        else
          {pid, pids} = pid(pids, pid_bin)
          send(pid, {:snakebridge_reply, id, kind, payload})
          if byte_size(payload) >= @big_reply, do: :erlang.garbage_collect()
          {pids, dropped}
        end

      _ ->
        {:uncounted, alias} = :erlang.binary_to_term(tag)
        send(alias, {alias, :uncounted, kind, payload})
        {pids, dropped}
    end
  end

  # A call's replies end with an :ok or :error one; :callback and :started ones come
  # before it.
  @compile {:inline, final?: 1, callback?: 1}
  defp final?(kind), do: (kind &&& @kind_mask) < @callback_kind
  defp callback?(kind), do: (kind &&& @kind_mask) == @callback_kind

  # A clean-up that fails must not take the router, and with it the worker, down.
  defp discard(fun, kind, payload) do
    fun.(kind, payload)
  catch
    _kind, _reason -> :ok
  end

  defp pid(pids, pid_bin) do
    case pids do
      %{^pid_bin => pid} ->
        {pid, pids}

      _ ->
        pid = :erlang.binary_to_term(pid_bin)
        pids = if map_size(pids) < @max_cached_pids, do: pids, else: %{}
        # A copy: `pid_bin` is part of the reply's binary, which the key would pin.
        {pid, Map.put(pids, :binary.copy(pid_bin), pid)}
    end
  end
end
