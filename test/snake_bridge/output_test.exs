defmodule SnakeBridge.OutputTest do
  # Python's stdout and stderr never touch the channel; they reach Logger. The nanny
  # forwards output asynchronously, so each test leaves it a moment to arrive.
  use ExUnit.Case, async: false
  import ExUnit.CaptureLog

  @settle 500

  test "print() and os.write(1) are logged and do not corrupt replies" do
    log =
      capture_log(fn ->
        assert SnakeBridge.eval("print('hello from print')\n41 + 1") == {:ok, 42}
        assert SnakeBridge.eval("import os\nos.write(1, b'raw fd write\\n')\n'ok'") == {:ok, "ok"}
        Process.sleep(@settle)
      end)

    assert log =~ "hello from print"
    assert log =~ "raw fd write"
  end

  test "stderr is logged as a warning" do
    log =
      capture_log(fn ->
        assert {:ok, _} = SnakeBridge.eval("import sys\nsys.stderr.write('to stderr\\n')")
        Process.sleep(@settle)
      end)

    assert log =~ "[warning]"
    assert log =~ "to stderr"
  end

  test "a megabyte printed leaves the channel intact" do
    log =
      capture_log(fn ->
        code = "for i in range(16384):\n    print('x' * 63)\n'done'"
        assert SnakeBridge.eval(code, %{}, timeout: 60_000) == {:ok, "done"}
        assert SnakeBridge.call("math", "sqrt", [16]) == {:ok, 4.0}
        Process.sleep(2 * @settle)
      end)

    assert length(String.split(log, String.duplicate("x", 63))) > 16_000
  end
end
