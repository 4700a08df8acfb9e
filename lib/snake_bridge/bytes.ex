defmodule SnakeBridge.Bytes do
  @moduledoc """
  Python `bytes`, as opposed to `str`.

  An Elixir binary that is valid UTF-8 crosses to Python as `str`; any other binary
  crosses as `bytes`. Wrap a binary in `SnakeBridge.Bytes` to send `bytes` whatever its
  content. Python `bytes` always come back wrapped, so `str` and `bytes` round-trip
  exactly.

      iex> SnakeBridge.bytes("abc")
      %SnakeBridge.Bytes{data: "abc"}
  """

  @enforce_keys [:data]
  defstruct [:data]

  @typedoc "Python `bytes` holding `data`."
  @type t :: %__MODULE__{data: binary}
end
