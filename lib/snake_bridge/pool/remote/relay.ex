defmodule SnakeBridge.Pool.Remote.Relay do
  @moduledoc false
  # On the node that runs a remote pool's worker: the process connected to the
  # worker's port, standing where a local worker has its router (SnakeBridge.Pool.Router).
  #
  # It writes the frames the calling node sends (SnakeBridge.Pool.Transport.Remote) to
  # the port and the control socket, and sends the port's replies and events, undecoded,
  # to the calling node's router, which forwards each reply to its caller and counts it
  # out there: the in-flight counter lives on the calling node, with the callers that
  # count requests in. Everything else (output lines, the exit report) goes to this
  # node's SnakeBridge.Pool.WorkerServer, which owns the port's life.
  #
  # Like the router, it reads the port from the worker's first byte and frames it
  # (SnakeBridge.Pool.Frames): the calling node gets whole frames, a chunk's worth in
  # one message, and a header over :max_frame ends the relay with the reason
  # {:frame_too_large, size}, which its worker server turns into the worker's crash.
  #
  # The router is named after the worker is up ({:route_to, router}): a reply cannot
  # come before then, since no request can, and the hello event, which does, goes to
  # the worker server. The control socket is given once connected ({:control, socket});
  # no control frame can come before then either, and any that did would wait for it.

  import Bitwise

  alias SnakeBridge.Pool.Frames
  alias SnakeBridge.Wire

  @callback_kind Wire.kind(:callback)
  @event Wire.kind(:event)
  @started Wire.kind(:started)
  @kind_mask bnot(Wire.shm_flag() ||| Wire.blob_flag()) &&& 0xFF

  defguardp routed?(kind)
            when (kind &&& @kind_mask) <= @callback_kind or kind in [@event, @started]

  @doc """
  Starts the relay of `port` (owned by the calling worker server), which reads frames
  of at most `max_frame` bytes from it.
  """
  def start_link(port, max_frame) do
    worker = self()
    relay = spawn_link(fn -> relay(port, nil, worker, nil, nil, max_frame) end)
    Port.connect(port, relay)
    relay
  end

  @doc "Gives `relay` the worker's control socket, once connected."
  def put_control(relay, control), do: send(relay, {:control, control})

  defp relay(port, control, worker, router, reading, max_frame) do
    receive do
      {^port, {:data, chunk}} ->
        case Frames.read(reading, chunk, max_frame) do
          {:too_large, size, frames} ->
            forward(frames, port, worker, router)
            exit({:frame_too_large, size})

          {frames, reading} ->
            forward(frames, port, worker, router)
            relay(port, control, worker, router, reading, max_frame)
        end

      {^port, {:exit_status, _status}} = message ->
        send(worker, message)
        relay(port, control, worker, router, reading, max_frame)

      {:snakebridge_main, frame, files} ->
        Enum.each(files, &write_segment/1)
        write(port, frame)
        relay(port, control, worker, router, reading, max_frame)

      # After the frame they came with: see SnakeBridge.Shm.Files.delete/1.
      {:snakebridge_delete_relayed, paths} ->
        SnakeBridge.Shm.Files.delete_relayed(paths)
        relay(port, control, worker, router, reading, max_frame)

      {:snakebridge_control, frame} when control != nil ->
        :gen_tcp.send(control, frame)
        relay(port, control, worker, router, reading, max_frame)

      {:control, control} ->
        relay(port, control, worker, router, reading, max_frame)

      {:route_to, router} ->
        relay(port, control, worker, router, reading, max_frame)
    after
      # Between frames it waits for ever; inside one, see Pool.Frames.
      if(reading == nil, do: :infinity, else: Frames.wait_ms(reading)) ->
        exit({:frame_stalled, Frames.missing(reading)})
    end
  end

  # Replies, events and STARTED reports to the router, in one message; the rest (output
  # lines, the exit report) to the worker server, each as the port would have sent it.
  defp forward(frames, port, worker, router) do
    {routed, others} = Enum.split_with(frames, &routed_frame?(&1, router))
    Enum.each(others, &send(worker, {port, {:data, &1}}))
    if routed != [], do: send(router, {:snakebridge_frames, routed})
  end

  defp routed_frame?(<<kind, _::binary>>, router) when routed?(kind) and router != nil, do: true
  defp routed_frame?(_frame, _router), do: false

  defp write(port, frame) do
    Port.command(port, Frames.frame(frame))
  rescue
    # The port closed: its server stops, and the callers see it go.
    ArgumentError -> :closed
  end

  # A segment file of the calling node, on this host's filesystem at the same path
  # (SnakeBridge.Shm checks where, and whose).
  defp write_segment({path, bytes}), do: SnakeBridge.Shm.write_relayed(path, bytes)
end
