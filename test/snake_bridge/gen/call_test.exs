defmodule SnakeBridge.Gen.CallTest do
  use ExUnit.Case, async: true

  alias SnakeBridge.Gen.Call

  @mean {[], [:axis, :dtype], false, :axis}
  @counter {[:iterable], [], true, :iterable}

  describe "split!/2" do
    test "no options: nothing is sent" do
      assert Call.split!([], @mean) == {[], [], []}
    end

    test "Python keywords and bridge options are told apart by bridge!:" do
      assert Call.split!([axis: 0, bridge!: [timeout: 5]], @mean) ==
               {[], [axis: 0], [timeout: 5]}
    end

    test "an unknown key raises naming the valid ones" do
      assert_raise ArgumentError,
                   "unknown option :axes; valid options are [:axis, :dtype] and bridge!:",
                   fn -> Call.split!([axes: 0], @mean) end
    end

    test "an unknown bridge option raises naming the valid ones" do
      assert_raise ArgumentError, ~r/unknown keys \[:bogus\].*:timeout/, fn ->
        Call.split!([bridge!: [bogus: 1]], @mean)
      end
    end

    test "**kwargs accepts any key" do
      assert Call.split!([anything: 1], @counter) == {[], [anything: 1], []}
    end

    test "a bare value is the first optional positional parameter" do
      assert Call.split!(0, @mean) == {[], [axis: 0], []}
      assert Call.split!(["a", "b"], @counter) == {[["a", "b"]], [], []}
    end

    test "positional-only options are sent by position, in order" do
      spec = {[:a, :b], [:c], false, :a}
      assert Call.split!([b: 2, a: 1, c: 3], spec) == {[1, 2], [c: 3], []}

      assert_raise ArgumentError, ~r/option :b is positional in Python, so :a/, fn ->
        Call.split!([b: 2], spec)
      end
    end
  end

  test "generic_args/2 reads one keyword list as options" do
    assert Call.generic_args([day: 3], []) == {[], [day: 3]}
    assert Call.generic_args([1, 2], []) == {[1, 2], []}
    assert Call.generic_args("x", []) == {["x"], []}
  end
end
