defmodule SnakeBridge.Pool.Transport.LocalPort do
  @moduledoc false
  # The transport to a Python process on this node: an Erlang port ({:packet, 4} on
  # fds 3 and 4) for the main channel, and a Unix socket for the control channel.
  # Callers write to the port themselves, so a call costs no hop through the worker's
  # server; replies come back through the port's router (SnakeBridge.Pool.Router).

  @behaviour SnakeBridge.Pool.Transport

  alias SnakeBridge.Pool.Router

  @enforce_keys [:port, :control]
  defstruct [:port, :control]

  @type t :: %__MODULE__{port: port, control: :gen_tcp.socket()}

  @impl true
  def send_frame(%__MODULE__{port: port}, frame) do
    Port.command(port, frame)
    :ok
  rescue
    ArgumentError -> :closed
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
end
