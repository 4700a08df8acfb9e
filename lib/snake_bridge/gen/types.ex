defmodule SnakeBridge.Gen.Types do
  @moduledoc false
  # Type terms from the API data (see priv/python/snakebridge/_specs.py) as typespec
  # source text. Any value may also arrive as a ref, so every argument type other than
  # term() admits `SnakeBridge.Ref.t()`, and so does every result type: `return: :ref`
  # turns any result into a ref.

  @ref "SnakeBridge.Ref.t()"

  @doc "The spec text of a parameter of type `type`."
  @spec argument(term) :: String.t()
  def argument(type), do: with_ref(type)

  @doc "The spec text of a wrapper's result, `{:ok, ...} | {:error, ...}`."
  @spec result(term) :: String.t()
  def result(type), do: "{:ok, #{with_ref(type)}} | {:error, SnakeBridge.error()}"

  @doc "The spec text of a bang twin's result."
  @spec bang(term) :: String.t()
  def bang(type), do: with_ref(type)

  defp with_ref(:term), do: "term()"
  defp with_ref(:enumerable), do: "Enumerable.t()"
  defp with_ref(type), do: render(type) <> " | " <> @ref

  defp render(:integer), do: "integer()"
  defp render(:float), do: "float()"
  defp render(:string), do: "String.t()"
  defp render(:boolean), do: "boolean()"
  defp render(nil), do: "nil"
  defp render(:bytes), do: "SnakeBridge.Bytes.t() | binary()"
  defp render(:list), do: "list()"
  defp render(:map), do: "map()"
  defp render(:tuple), do: "tuple()"
  defp render(:enumerable), do: "Enumerable.t()"
  defp render({:list, item}), do: "[#{render(item)}]"
  defp render({:map, key, value}), do: "%{optional(#{render(key)}) => #{render(value)}}"
  defp render({:tuple, items}), do: "{" <> Enum.map_join(items, ", ", &render/1) <> "}"
  defp render({:union, members}), do: Enum.map_join(members, " | ", &render/1)
  defp render(_), do: "term()"
end
