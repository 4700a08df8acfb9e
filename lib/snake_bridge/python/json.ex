defmodule SnakeBridge.Python.JSON do
  @moduledoc false
  # Just enough JSON to hand the Python CLI its spec: maps with string keys, lists,
  # strings, booleans, integers and nil. SnakeBridge has no Hex dependencies and
  # Elixir 1.14 has no JSON module, and the spec needs nothing more.

  @doc """
  Encodes `term` as JSON, with map keys sorted so equal terms give equal bytes.

      iex> SnakeBridge.Python.JSON.encode(%{"b" => [1, true, nil], "a" => "q\\"\\n"})
      ~S({"a":"q\\"\\n","b":[1,true,null]})
  """
  @spec encode(term) :: String.t()
  def encode(term), do: term |> encode_iodata() |> IO.iodata_to_binary()

  defp encode_iodata(nil), do: "null"
  defp encode_iodata(true), do: "true"
  defp encode_iodata(false), do: "false"
  defp encode_iodata(n) when is_integer(n), do: Integer.to_string(n)
  defp encode_iodata(s) when is_binary(s), do: [?", escape(s), ?"]

  defp encode_iodata(list) when is_list(list),
    do: [?[, Enum.map_intersperse(list, ?,, &encode_iodata/1), ?]]

  defp encode_iodata(map) when is_map(map) do
    pairs =
      map
      |> Enum.sort()
      |> Enum.map_intersperse(?,, fn {k, v} when is_binary(k) ->
        [encode_iodata(k), ?:, encode_iodata(v)]
      end)

    [?{, pairs, ?}]
  end

  defp escape(s) do
    for <<c::utf8 <- s>>, into: "" do
      case c do
        ?" -> "\\\""
        ?\\ -> "\\\\"
        ?\n -> "\\n"
        c when c < 0x20 -> "\\u" <> String.pad_leading(Integer.to_string(c, 16), 4, "0")
        c -> <<c::utf8>>
      end
    end
  end
end
