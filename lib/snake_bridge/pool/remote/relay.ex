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
  # The router is named after the worker is up ({:route_to, router}); a reply cannot
  # come before then, since no request can, and any that did would wait in the mailbox.

  import Bitwise

  alias SnakeBridge.Wire

  @callback_kind Wire.kind(:callback)
  @event Wire.kind(:event)
  @started Wire.kind(:started)
  @kind_mask bnot(Wire.shm_flag() ||| Wire.blob_flag()) &&& 0xFF

  defguardp routed?(kind)
            when (kind &&& @kind_mask) <= @callback_kind or kind in [@event, @started]

  @doc "Starts the relay of `port` and `control` (owned by the calling worker server)."
  def start_link(port, control) do
    worker = self()
    relay = spawn_link(fn -> relay(port, control, worker, nil) end)
    Port.connect(port, relay)
    relay
  end

  defp relay(port, control, worker, router) do
    router =
      receive do
        {^port, {:data, <<kind, _::binary>>}} = message when routed?(kind) and router != nil ->
          send(router, message)
          router

        {^port, {:data, <<kind, _::binary>>}} = message when not routed?(kind) ->
          send(worker, message)
          router

        {^port, {:exit_status, _status}} = message ->
          send(worker, message)
          router

        {:snakebridge_main, frame, files} ->
          Enum.each(files, &write_segment/1)
          write(port, frame)
          router

        {:snakebridge_control, frame} ->
          :gen_tcp.send(control, frame)
          router

        {:route_to, router} ->
          router
      end

    relay(port, control, worker, router)
  end

  defp write(port, frame) do
    Port.command(port, frame)
  rescue
    # The port closed: its server stops, and the callers see it go.
    ArgumentError -> :closed
  end

  # A segment file of the calling node, on this host's filesystem at the same path
  # (SnakeBridge.Shm checks where, and whose).
  defp write_segment({path, bytes}), do: SnakeBridge.Shm.write_relayed(path, bytes)
end
