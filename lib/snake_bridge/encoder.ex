defprotocol SnakeBridge.Encoder do
  @moduledoc """
  Teaches SnakeBridge to send your own structs to Python.

  Return any term SnakeBridge can already send; it is encoded in place of the struct.
  A struct without an implementation is a `SnakeBridge.EncodeError`.

      defmodule Point do
        defstruct [:x, :y]
      end

      defimpl SnakeBridge.Encoder, for: Point do
        def encode(%Point{x: x, y: y}), do: {x, y}
      end
  """

  @doc "Turns the struct into a term SnakeBridge can send."
  @spec encode(t) :: term
  def encode(struct)
end
