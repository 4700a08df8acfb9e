defmodule SnakeBridge.Call.Header do
  @moduledoc false
  # Every request header the VM sends is built here (see docs/PROTOCOL.md, "Requests"):
  #
  #     <<op, flags, tag_size, tag::binary, session::64, caller::64,
  #       parent_size, parent::binary>>
  #
  # The op code and every flag bit come from SnakeBridge.Wire, so a flag that drifts
  # from the Python table fails test/snake_bridge/call/header_test.exs, which parses
  # these headers with the engine's own parse_header.

  import Bitwise

  alias SnakeBridge.Wire

  @no_reply Wire.no_reply()
  @has_blobs Wire.has_blobs()

  @typedoc "A request op's name, as in `SnakeBridge.Wire`."
  @type op :: atom

  @doc "A request header; `flags` from `flags/2`."
  @spec build(op, byte, binary, non_neg_integer, non_neg_integer, binary) :: binary
  def build(op, flags, tag, session, caller, parent) do
    <<op_code(op), flags, byte_size(tag), tag::binary, session::64, caller::64, byte_size(parent),
      parent::binary>>
  end

  # The codes read from Wire when this module compiles, as `flags/1`'s are: a call into
  # Wire on every request is one more module's code to bring back into the cache.
  for {op, code} <- Wire.table().ops do
    defp op_code(unquote(op)), do: unquote(code)
  end

  @doc """
  A request's flags byte: its return mode (`:auto`, `:value` or `:ref`) and, when set,
  the bits named in `extra` (`:no_reply`, `:has_blobs`).
  """
  @spec flags(:auto | :value | :ref) :: byte
  @spec flags(:auto | :value | :ref, [:no_reply | :has_blobs]) :: byte

  # One clause per mode, its code read from Wire when this module compiles: every call
  # asks for its flags.
  for {mode, code} <- Wire.table().return_modes do
    def flags(unquote(mode)), do: unquote(code)
  end

  def flags(return_mode, extra),
    do: Enum.reduce(extra, flags(return_mode), &(&2 ||| extra_bit(&1)))

  defp extra_bit(:no_reply), do: @no_reply
  defp extra_bit(:has_blobs), do: @has_blobs

  @doc "A frame that wants no reply: `op` with `body` (a term) in `session`."
  @spec one_way(op, term, non_neg_integer) :: iodata
  def one_way(op, body, session \\ 0) do
    [build(op, @no_reply, <<>>, session, 0, <<>>) | :erlang.term_to_binary(body)]
  end
end
