defmodule SnakeBridge.Pool.Transport do
  @moduledoc false
  # How callers reach a worker: the one seam between the call path and where the
  # Python process runs.
  #
  # A transport carries request frames to the worker (its main channel, read in order,
  # and its control channel, read while the worker is busy), routes the worker's
  # replies to their callers (each implementation has its router), and says which node
  # the worker runs on. The call path only ever uses the functions below; it never
  # touches a port or a socket itself, so a worker on another node is a second
  # implementation, not a change to the call path.
  #
  # Implementations are structs, and dispatch is on the struct's module: one remote
  # call with a variable module, a few nanoseconds on a call that costs microseconds.

  @typedoc "A transport: a struct whose module implements this behaviour."
  @type t :: struct

  @typedoc "A counted request's tag and the id its replies carry (see Pool.Router)."
  @type tag :: binary

  @doc """
  Writes a frame on the main channel without ever blocking: `:busy` (nothing written)
  while the channel holds as much as it takes, `:closed` if the worker is gone.
  """
  @callback send_frame(t, iodata) :: :ok | :busy | :closed

  @doc """
  Writes a frame on the main channel, now or, while the channel is busy, from a
  process of its own: the calling process is never held up (housekeeping frames, sent
  by shared servers, and callback results).
  """
  @callback send_frame_async(t, iodata) :: :ok

  @doc "Writes a frame on the control channel; `:closed` if the worker is gone."
  @callback send_control(t, iodata) :: :ok | :closed

  @doc """
  Stops waiting for the counted request `tag` (reply id `id`): its router drops what
  still comes for it, and what was already forwarded is flushed from the caller's
  mailbox; `discard` is given the kind and payload of a flushed final reply.
  """
  @callback abandon(t, tag, integer, (byte, binary -> term)) :: :ok

  @doc "The node the worker runs on."
  @callback node(t) :: node

  @doc """
  Whether every reply the Python process wrote reaches its caller before the caller
  sees the worker's server go down, when that server stops because the process died:
  then a caller missing a reply knows the process never wrote it (see SnakeBridge.Call,
  "Re-running").
  """
  @callback replies_precede_death?(t) :: boolean

  @doc false
  def send_frame(%module{} = transport, frame), do: module.send_frame(transport, frame)

  @doc false
  def send_frame_async(%module{} = transport, frame),
    do: module.send_frame_async(transport, frame)

  @doc false
  def send_control(%module{} = transport, frame), do: module.send_control(transport, frame)

  @doc false
  def abandon(%module{} = transport, tag, id, discard),
    do: module.abandon(transport, tag, id, discard)

  @doc false
  def node(%module{} = transport), do: module.node(transport)

  @doc false
  def replies_precede_death?(%module{} = transport), do: module.replies_precede_death?(transport)
end
