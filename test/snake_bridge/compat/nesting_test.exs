defmodule SnakeBridge.CompatNestingTest do
  # Nesting is limited by memory only, in both directions (lists, tuples, maps).
  use ExUnit.Case, async: true

  defp nest(depth, wrap), do: Enum.reduce(1..depth, :leaf, fn _, acc -> wrap.(acc) end)

  test "an Elixir list nested 200 and 20,000 deep crosses and comes back equal" do
    for depth <- [200, 20_000] do
      deep = nest(depth, &[&1])
      assert SnakeBridge.eval!("x", %{x: deep}) == nest(depth, &[&1]) |> put_leaf("leaf")
    end

    # Python's own deepcopy recurses, but 200 levels are within its limit.
    deep = nest(200, &[&1])
    assert SnakeBridge.call!("copy", "deepcopy", [deep]) == put_leaf(deep, "leaf")
  end

  test "tuples and maps nest as deep" do
    tuples = nest(5_000, &{&1, 1})
    maps = nest(5_000, &%{"k" => &1, 1 => [2.5]})

    assert SnakeBridge.eval!("x", %{x: {tuples, maps}}) ==
             {put_leaf(tuples, "leaf"), put_leaf(maps, "leaf")}
  end

  test "a Python result nested 20,000 deep comes back whole" do
    deep = SnakeBridge.eval!("x = 'leaf'\nfor _ in range(20000):\n    x = [x, (1,)]\nx")
    depth = count_depth(deep, 0)
    assert depth == 20_000
  end

  test "a term that cannot be sent, 100,000 levels down, is refused naming its path" do
    deep = nest(100_000, &[&1]) |> put_leaf(self())

    assert {:error, %SnakeBridge.EncodeError{path: path, reason: "a pid has no Python form"}} =
             SnakeBridge.call("builtins", "len", [deep])

    assert path == "args[0]" <> String.duplicate("[0]", 100_000)
  end

  defp count_depth([inner, {1}], depth), do: count_depth(inner, depth + 1)
  defp count_depth("leaf", depth), do: depth

  # The atom :leaf crosses as the string "leaf".
  defp put_leaf(:leaf, leaf), do: leaf
  defp put_leaf([inner], leaf), do: [put_leaf(inner, leaf)]
  defp put_leaf({inner, 1}, leaf), do: {put_leaf(inner, leaf), 1}
  defp put_leaf(%{"k" => inner} = map, leaf), do: %{map | "k" => put_leaf(inner, leaf)}
end
