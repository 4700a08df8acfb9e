defmodule SnakeBridge.Python.JSONTest do
  # The spec the mix tasks hand the Python CLI; Python's json module reads it back.
  use ExUnit.Case, async: true
  doctest SnakeBridge.Python.JSON

  alias SnakeBridge.Python.JSON

  test "Python reads back what encode/1 writes, control characters and unicode included" do
    term = %{"s" => "tab\t nl\n quote\" back\\ é 🐍 \u0001", "l" => [1, false, nil, %{}]}
    python = Path.expand("../../../.venv/bin/python", __DIR__)
    code = "import json,sys; print(repr(json.loads(sys.argv[1])))"
    {out, 0} = System.cmd(python, ["-c", code, JSON.encode(term)])

    assert out ==
             "{'l': [1, False, None, {}], 's': 'tab\\t nl\\n quote\" back\\\\ é 🐍 \\x01'}\n"
  end
end
