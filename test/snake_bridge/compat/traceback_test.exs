defmodule SnakeBridge.CompatErrorTest do
  use ExUnit.Case, async: true

  test "an error from a C function has Python's traceback shape, with a frame for the call" do
    {:error, error} = SnakeBridge.call("math", "sqrt", [-1])
    [header, frame | _] = String.split(error.traceback, "\n")
    assert header == "Traceback (most recent call last):"
    assert frame == ~s(  File "<snakebridge>", line 1, in math.sqrt)
    assert String.ends_with?(error.traceback, "ValueError: math domain error\n")
  end

  test "the call frame names methods, items, attributes and eval" do
    counter = SnakeBridge.call!("collections", "Counter", ["ab"])
    assert frame_of(SnakeBridge.method(counter, "most_common", ["x"])) =~ "in Counter.most_common"

    assert frame_of(SnakeBridge.get_item(SnakeBridge.eval!("[]", %{}, return: :ref), 3)) =~
             "in list.__getitem__"

    assert frame_of(SnakeBridge.attr("math", "nope")) =~ "in math.nope"
    assert frame_of(SnakeBridge.eval("1 / 0")) =~ "in <eval>"
  end

  test "a Python function's own frames follow the call frame" do
    {:error, error} = SnakeBridge.call("json", "loads", ["{"])
    [_header, frame, next | _] = String.split(error.traceback, "\n")
    assert frame == ~s(  File "<snakebridge>", line 1, in json.loads)
    assert next =~ ~r/json.__init__\.py", line \d+, in loads/
  end

  defp frame_of({:error, error}), do: error.traceback |> String.split("\n") |> Enum.at(1)
end
