defmodule SnakeBridge.CallerOutputTest do
  # `output: :caller`: what a call prints reaches the caller's group leader, so
  # ExUnit.CaptureIO sees it; the default stays Logger.
  use ExUnit.Case, async: true

  @moduletag capture_log: true

  import ExUnit.CaptureIO
  import SnakeBridge.Test.Lifecycle

  test "print() in a call goes to the caller, in order, around the result" do
    out =
      capture_io(fn ->
        assert SnakeBridge.eval("print('one')\nprint('two', end='')\n42", %{}, output: :caller) ==
                 {:ok, 42}
      end)

    assert out == "one\ntwo"
  end

  test "a function's prints, with flush, and non-ASCII text" do
    code =
      "import sys\ndef f():\n    print('héllo', flush=True)\n    sys.stdout.write('a\\nb\\n')\n    return 1\nf"

    f = SnakeBridge.eval!(code)

    assert capture_io(fn -> assert SnakeBridge.apply!(f, [], [], output: :caller) == 1 end) ==
             "héllo\na\nb\n"
  end

  test "the default is Logger: nothing reaches the caller" do
    assert capture_io(fn -> assert SnakeBridge.eval!("print('to the log')\n1") == 1 end) == ""
  end

  test "output from another thread during the call still goes to the log" do
    code = """
    import threading
    t = threading.Thread(target=lambda: print('from a thread'))
    t.start(); t.join()
    print('from the call')
    """

    assert capture_io(fn -> SnakeBridge.eval!(code, %{}, output: :caller) end) ==
             "from the call\n"
  end

  test "a pool option sets it for every call of the pool" do
    pool = :"caller_output_#{System.unique_integer([:positive])}"
    start_supervised!({SnakeBridge.Pool, name: pool, size: 1, output: :caller}, id: pool)
    await_pool(pool)

    assert capture_io(fn -> SnakeBridge.eval!("print('pooled')", %{}, pool: pool) end) ==
             "pooled\n"

    assert capture_io(fn ->
             SnakeBridge.eval!("print('not here')", %{}, pool: pool, output: :logger)
           end) == ""
  end

  test "the request flag agrees with the engine's" do
    assert SnakeBridge.eval!("from snakebridge._wire import Flag\nint(Flag.OUTPUT_CALLER)") ==
             SnakeBridge.Wire.output_caller()
  end

  test "the option is checked" do
    assert_raise ArgumentError, ~r/expected :output to be :logger or :caller/, fn ->
      SnakeBridge.eval("1", %{}, output: :stdout)
    end

    assert_raise ArgumentError, ~r/expected :output to be :logger or :caller/, fn ->
      SnakeBridge.Pool.start_link(name: :bad_output, output: :nope)
    end
  end
end
