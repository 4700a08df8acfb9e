defmodule SnakeBridge.Pool.Transport.LocalPort do
  @moduledoc false
  # The transport to a Python process on this node: an Erlang port (fds 3 and 4, framed
  # by SnakeBridge.Pool.Frames) for the main channel, and a Unix socket for the control
  # channel.
  # Callers write to the port themselves, so a call costs no hop through the worker's
  # server; replies come back through the port's router (SnakeBridge.Pool.Router).

  @behaviour SnakeBridge.Pool.Transport

  alias SnakeBridge.Pool.{Frames, Router}

  @enforce_keys [:port, :control]
  defstruct [:port, :control]

  @type t :: %__MODULE__{port: port, control: :gen_tcp.socket()}

  # A port whose queue is over its busy limit (a big request waits behind a long call)
  # suspends every process that writes to it until the worker has read enough; with
  # :nosuspend the write is refused instead, and the writer decides how to wait (a
  # caller within its own deadline, see SnakeBridge.Call; a shared server not at all).
  @impl true
  def send_frame(%__MODULE__{port: port}, frame) do
    if :erlang.port_command(port, Frames.frame(frame), [:nosuspend]), do: :ok, else: :busy
  rescue
    ArgumentError -> :closed
  end

  @impl true
  def send_frame_async(%__MODULE__{port: port} = transport, frame) do
    with :busy <- send_frame(transport, frame) do
      # Suspended in its place until the port takes the frame; or gone with the port.
      spawn(fn ->
        try do
          Port.command(port, Frames.frame(frame))
        rescue
          ArgumentError -> :closed
        end
      end)
    end

    :ok
  end

  @impl true
  def send_control(%__MODULE__{control: control}, frame) do
    case :gen_tcp.send(control, frame) do
      :ok -> :ok
      {:error, _} -> :closed
    end
  end

  @impl true
  def abandon(%__MODULE__{port: port}, tag, id, discard),
    do: Router.abandon(port, tag, id, discard)

  @impl true
  def node(%__MODULE__{}), do: node()

  # The router reads the port in order and passes the nanny's exit report (or the
  # port's exit status, which comes after all its data) on to the server, which only
  # then stops: whatever the process wrote was forwarded before.
  @impl true
  def replies_precede_death?(%__MODULE__{}), do: true
end
