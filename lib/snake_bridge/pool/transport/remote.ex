defmodule SnakeBridge.Pool.Transport.Remote do
  @moduledoc false
  # The transport to a Python process on another node. Frames go as messages to the
  # worker's relay there (SnakeBridge.Pool.Remote.Relay), which writes them to the
  # port and the control socket it sits next to; replies come back from the relay to
  # a router on this node (SnakeBridge.Pool.Router, fed instead of connected), which
  # forwards them to their callers and counts them out of this node's in-flight
  # counter, the one callers count their requests into.
  #
  # Segment files (SnakeBridge.Shm) need one filesystem: between hosts, the files a
  # request names travel with it and the relay writes them there; the far worker
  # itself never writes any (Pool.Remote.Host starts it without).

  @behaviour SnakeBridge.Pool.Transport

  alias SnakeBridge.Pool.Router

  @enforce_keys [:relay, :router, :node, :same_host?]
  defstruct [:relay, :router, :node, :same_host?]

  @type t :: %__MODULE__{relay: pid, router: pid, node: node, same_host?: boolean}

  # A send to a pid on another node never fails: a worker that is gone is noticed by
  # the caller's watch on its server (see SnakeBridge.Call, "Crash detection").
  @impl true
  def send_frame(%__MODULE__{relay: relay} = transport, frame) do
    send(relay, {:snakebridge_main, frame, files(transport)})
    :ok
  end

  @impl true
  def send_frame_async(transport, frame) do
    send_frame(transport, frame)
    :ok
  end

  @impl true
  def send_control(%__MODULE__{relay: relay}, frame) do
    send(relay, {:snakebridge_control, frame})
    :ok
  end

  @impl true
  def abandon(%__MODULE__{router: router}, tag, id, discard),
    do: Router.abandon_via(router, tag, id, discard)

  @impl true
  def node(%__MODULE__{node: node}), do: node

  # The far relay's replies come to the router here, the far server's death to the
  # worker's server here (SnakeBridge.Pool.Remote.Worker), which stops the router
  # without waiting for what is still on its way to it.
  @impl true
  def replies_precede_death?(%__MODULE__{}), do: false

  # The segment files this process wrote for the frame it is sending, with their bytes
  # (their copies on this host are of no use to the far one; see
  # SnakeBridge.Shm.take_for_relay/1).
  defp files(%{same_host?: true}), do: []
  defp files(%{relay: relay}), do: SnakeBridge.Shm.take_for_relay(relay)
end
