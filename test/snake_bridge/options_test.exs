defmodule SnakeBridge.OptionsTest do
  # Every public function that takes options rejects a misspelt one, a value of the
  # wrong type, and the runtime's internal knobs, before anything is sent.
  use ExUnit.Case, async: true

  doctest SnakeBridge.Options
  doctest SnakeBridge.Pool

  @valid "valid: [:return, :timeout, :pool, :session, :output]"

  setup_all do
    %{ref: SnakeBridge.eval!("[1, 2, 3]", %{}, return: :ref)}
  end

  defp calls(ref) do
    [
      {"SnakeBridge.call/5", &SnakeBridge.call("math", "sqrt", [4], [], &1)},
      {"SnakeBridge.call/5", &SnakeBridge.call!("math", "sqrt", [4], [], &1)},
      {"SnakeBridge.call/5", &SnakeBridge.method(ref, "count", [1], [], &1)},
      {"SnakeBridge.call/5", &SnakeBridge.method!(ref, "count", [1], [], &1)},
      {"SnakeBridge.attr/3", &SnakeBridge.attr("math", "pi", &1)},
      {"SnakeBridge.attr/3", &SnakeBridge.attr!("math", "pi", &1)},
      {"SnakeBridge.get_item/3", &SnakeBridge.get_item(ref, 0, &1)},
      {"SnakeBridge.get_item/3", &SnakeBridge.get_item!(ref, 0, &1)},
      {"SnakeBridge.eval/3", &SnakeBridge.eval("1", %{}, &1)},
      {"SnakeBridge.eval/3", &SnakeBridge.eval!("1", %{}, &1)}
    ]
  end

  describe "call options" do
    test "a misspelt option names itself and the valid ones", %{ref: ref} do
      for {where, fun} <- calls(ref) do
        message = "unknown option :timout for #{where}; #{@valid}"
        assert_raise ArgumentError, message, fn -> fun.(timout: 5) end
      end
    end

    test "internal knobs are not accepted from users", %{ref: ref} do
      for {_where, fun} <- calls(ref), knob <- [:channel, :on_timeout, :kill_grace] do
        assert_raise ArgumentError, ~r/unknown option #{inspect(knob)} /, fn ->
          fun.([{knob, :control}])
        end
      end
    end

    test "a value of the wrong type raises with the value inspected", %{ref: ref} do
      bad = [
        return: :both,
        timeout: -1,
        timeout: "5",
        pool: "default",
        session: %{id: 1}
      ]

      for {_where, fun} <- calls(ref), {key, value} <- bad do
        assert_raise ArgumentError,
                     ~r/expected #{inspect(key)} to be .*got: #{inspect(value)}/,
                     fn ->
                       fun.([{key, value}])
                     end
      end
    end

    test "options that are not a keyword list are refused" do
      assert_raise ArgumentError, ~r/to be a keyword list, got the entry: :timeout/, fn ->
        SnakeBridge.call("math", "sqrt", [4], [], [:timeout])
      end
    end

    test "valid options still work", %{ref: ref} do
      assert SnakeBridge.call("math", "sqrt", [4], [], timeout: 5_000, return: :value) ==
               {:ok, 2.0}

      assert SnakeBridge.get_item(ref, 1, timeout: :infinity) == {:ok, 2}
      assert %SnakeBridge.Ref{} = SnakeBridge.eval!("[1]", %{}, return: :ref, pool: :default)
    end
  end

  describe "other functions with options" do
    test "stream/2, session/2 and open_session/1 name their valid options", %{ref: ref} do
      assert_raise ArgumentError,
                   "unknown option :size for SnakeBridge.stream/2; valid: [:batch]",
                   fn ->
                     SnakeBridge.stream(ref, size: 2)
                   end

      assert_raise ArgumentError,
                   "unknown option :pol for SnakeBridge.session/2; valid: [:pool]",
                   fn ->
                     SnakeBridge.session(fn -> :ok end, pol: :default)
                   end

      assert_raise ArgumentError, ~r/unknown option :pol for SnakeBridge.open_session\/1/, fn ->
        SnakeBridge.open_session(pol: :default)
      end

      assert_raise ArgumentError, ~r/expected :pool to be a pool name .*got: "x"/, fn ->
        SnakeBridge.open_session(pool: "x")
      end
    end
  end

  describe "pool and application configuration" do
    test "a pool's options are checked when it starts" do
      assert_raise ArgumentError, ~r/unknown option :sise for SnakeBridge.Pool/, fn ->
        SnakeBridge.Pool.start_link(name: :options_bad, sise: 1)
      end

      for {key, value} <- [
            size: 0,
            timeout: :never,
            max_frame: 2 ** 40,
            env: [{"A", 1}],
            python_path: "lib"
          ] do
        assert_raise ArgumentError, ~r/expected #{inspect(key)} to be .*got: /, fn ->
          SnakeBridge.Pool.start_link([{:name, :options_bad}, {key, value}])
        end
      end
    end

    test "the application's configuration is checked at start" do
      assert_raise ArgumentError, ~r/unknown option :pool for config :snakebridge/, fn ->
        SnakeBridge.Application.pools!(pool: [size: 1])
      end

      assert_raise ArgumentError, ~r/unknown option :sise for SnakeBridge.Pool/, fn ->
        SnakeBridge.Application.pools!(pools: [gpu: [sise: 1]])
      end

      assert_raise ArgumentError, ~r/expected :timeout to be/, fn ->
        SnakeBridge.Application.pools!(timeout: "30s")
      end

      assert_raise ArgumentError, ~r/:shm_threshold to be a positive integer/, fn ->
        SnakeBridge.Application.pools!(shm_threshold: 0)
      end

      assert SnakeBridge.Application.pools!(pools: [gpu: [size: 1]]) == [[name: :gpu, size: 1]]
      assert SnakeBridge.Application.pools!([]) == [[name: :default]]
    end
  end
end
