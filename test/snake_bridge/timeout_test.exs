defmodule SnakeBridge.TimeoutTest do
  # Timeouts interrupt the running Python call; a call that ignores the interrupt costs
  # its worker. Some tests here kill workers, so the module has pools of its own.
  use ExUnit.Case, async: true

  import SnakeBridge.Test.Lifecycle

  alias SnakeBridge.{PythonError, Ref, RefError, TimeoutError}

  @pool :timeout_test
  @opts [pool: @pool]

  setup_all do
    start_supervised!({SnakeBridge.Pool, name: @pool, size: 2, kill_grace: 300})
    start_supervised!({SnakeBridge.Pool, name: :timeout_default, size: 1, timeout: 300})
    await_pool(@pool)
    await_pool(:timeout_default)
    :ok
  end

  describe "timeout:" do
    test "time.sleep(10) with timeout: 200 is interrupted, and the session lives on" do
      counter = SnakeBridge.call!("collections", "Counter", ["abracadabra"], [], @opts)
      worker = os_pid(counter)
      finished = tmp_path("finished")
      code = "import time\ntime.sleep(10)\nopen(finished, 'w').close()"

      result = SnakeBridge.eval(code, %{"finished" => finished}, pool: @pool, timeout: 200)

      assert {:error, %TimeoutError{timeout: 200, worker_restarted: false} = error} = result
      assert Exception.message(error) =~ "interrupted"
      # Interrupted, not finished: the line after the sleep never ran.
      refute File.exists?(finished)

      # Same worker, same session, refs intact.
      assert SnakeBridge.method!(counter, "most_common", [1]) == [{"a", 5}]
      assert os_pid(counter) == worker
      assert %Ref{} = SnakeBridge.call!("collections", "Counter", ["x"], [], @opts)
      assert SnakeBridge.eval("1 + 1", %{}, @opts) == {:ok, 2}
    end

    test "the interrupted code sees KeyboardInterrupt and its finally blocks run" do
      log = tmp_path("finally")

      code = """
      import time
      try:
          time.sleep(10)
      except KeyboardInterrupt as exc:
          with open(log, "w") as f:
              f.write(type(exc).__name__)
          raise
      """

      assert {:error, %TimeoutError{}} =
               SnakeBridge.eval(code, %{"log" => log}, pool: @pool, timeout: 200)

      assert File.read!(log) == "CallCancelled"
    end

    test "a call that catches the interrupt and returns still reports the timeout" do
      code = """
      import time
      try:
          time.sleep(10)
      except KeyboardInterrupt:
          pass
      "finished anyway"
      """

      assert {:error, %TimeoutError{worker_restarted: false}} =
               SnakeBridge.eval(code, %{}, pool: @pool, timeout: 200)

      assert SnakeBridge.eval("2", %{}, @opts) == {:ok, 2}
    end

    test "timeout: :infinity is accepted" do
      assert SnakeBridge.eval("import time\ntime.sleep(0.3)\n1", %{},
               pool: @pool,
               timeout: :infinity
             ) ==
               {:ok, 1}
    end

    test "the default is the pool's :timeout" do
      finished = tmp_path("finished")
      code = "import time\ntime.sleep(5)\nopen(finished, 'w').close()"
      result = SnakeBridge.eval(code, %{"finished" => finished}, pool: :timeout_default)

      assert {:error, %TimeoutError{timeout: 300, worker_restarted: false}} = result
      refute File.exists?(finished)

      assert SnakeBridge.eval("import time\ntime.sleep(0.5)\n3", %{},
               pool: :timeout_default,
               timeout: 2_000
             ) == {:ok, 3}
    end

    test "a call queued behind another process's long call times out without harming it" do
      # Both sessions on one worker: this process's session is where the long call runs.
      long =
        Task.async(fn ->
          SnakeBridge.eval("import time\ntime.sleep(1.5)\n'long done'", %{}, pool: @pool)
        end)

      {:ok, session} = SnakeBridge.open_session(@opts)

      eventually("the long call running", 1_000, fn ->
        SnakeBridge.stats(@pool).per_worker |> Enum.any?(&(&1.pending == 1))
      end)

      # Find the busy worker: a session bound to it, used by this process.
      busy = Enum.find(SnakeBridge.stats(@pool).per_worker, &(&1.pending == 1))
      session = %{session | worker: busy.index}

      result = SnakeBridge.eval("'queued'", %{}, pool: @pool, session: session, timeout: 200)

      # Answered while the long call still runs: it was not waited for.
      assert {:error, %TimeoutError{worker_restarted: false}} = result
      assert Task.yield(long, 0) == nil
      assert Task.await(long) == {:ok, "long done"}

      # The worker answers the skipped call when it reaches it, before this next one; that
      # answer must not be left in this process's mailbox.
      assert SnakeBridge.eval("'next'", %{}, pool: @pool, session: session) == {:ok, "next"}
      refute_received {:snakebridge_reply, _id, _kind, _payload}

      assert Enum.find(SnakeBridge.stats(@pool).per_worker, &(&1.index == busy.index)).os_pid ==
               busy.os_pid

      SnakeBridge.release_session(session)
    end
  end

  describe "a result given up on" do
    test "leaves no ref behind, even one that came during the grace period" do
      start_supervised!({SnakeBridge.Pool, name: :timeout_refs, size: 1}, id: :timeout_refs)
      await_pool(:timeout_refs)
      before = live_refs(:timeout_refs)

      # Each catches the interrupt and returns new objects anyway: in a list, and in a
      # dict that the VM cannot decode (two NaN keys).
      for result <- [
            "[object() for _ in range(10)]",
            "{float('nan'): object(), float('nan'): object()}"
          ] do
        code = """
        import time
        try:
            time.sleep(10)
        except KeyboardInterrupt:
            pass
        #{result}
        """

        assert {:error, %TimeoutError{worker_restarted: false}} =
                 SnakeBridge.eval(code, %{}, pool: :timeout_refs, timeout: 200)
      end

      eventually("the refs released", 5_000, fn -> live_refs(:timeout_refs) == before end)
    end

    test "nor do the arguments of a callback it makes during the grace period" do
      start_supervised!({SnakeBridge.Pool, name: :timeout_callback_refs, size: 1},
        id: :timeout_callback_refs
      )

      await_pool(:timeout_callback_refs)
      before = live_refs(:timeout_callback_refs)
      parent = self()

      code = """
      import time
      try:
          time.sleep(10)
      except KeyboardInterrupt:
          pass
      try:
          f([object() for _ in range(5)])
      except Exception:
          pass
      'done'
      """

      for _ <- 1..3 do
        assert {:error, %TimeoutError{}} =
                 SnakeBridge.eval(code, %{f: fn _ -> send(parent, :ran) end},
                   pool: :timeout_callback_refs,
                   timeout: 200
                 )
      end

      refute_received :ran

      eventually("the callbacks' refs released", 5_000, fn ->
        live_refs(:timeout_callback_refs) == before
      end)
    end

    # The engine gives an object one ref per session, so a result that holds an object
    # the caller already has a ref to carries that same ref.
    test "releases only the refs made for it: a ref the caller held lives on" do
      held_ref_outlives(:timeout_held, fn pool, code, bindings ->
        assert {:error, %TimeoutError{worker_restarted: false}} =
                 SnakeBridge.eval(code, bindings, pool: pool, timeout: 200)
      end)
    end

    test "given up on without waiting for it: a ref the caller held lives on" do
      held_ref_outlives(:timeout_abandon, fn pool, code, bindings ->
        {:ok, bindings, worker} = SnakeBridge.Call.Args.prepare_keywords(bindings, "b", nil)

        # `on_timeout: :abandon` (internal, as repr/1 uses it): the caller does not wait
        # for the late reply, which is cleaned up wherever it lands (Router.abandon/4).
        opts = [pool: pool, timeout: 50, on_timeout: :abandon]

        assert {:error, %TimeoutError{}} =
                 SnakeBridge.Call.request(:eval, {code, bindings}, worker, opts)

        # Queued behind the call on the pool's one worker, so its reply is routed after
        # the late one: by then that was cleaned up, and its new refs counted.
        assert SnakeBridge.eval("None", %{}, pool: pool) == {:ok, nil}
      end)
    end

    # `give_up` runs `code`, which returns a held ref and two new ones after catching the
    # interrupt, and gives up on it.
    defp held_ref_outlives(pool, give_up) do
      start_supervised!({SnakeBridge.Pool, name: pool, size: 1}, id: pool)
      await_pool(pool)
      held = SnakeBridge.eval!("object()", %{}, pool: pool)
      before = live_refs(pool)

      code = """
      import time
      try:
          time.sleep(10)
      except KeyboardInterrupt:
          pass
      [held, object(), object()]
      """

      give_up.(pool, code, %{"held" => held})
      eventually("the new refs released", 5_000, fn -> live_refs(pool) == before end)
      assert SnakeBridge.eval("type(held).__name__", %{"held" => held}) == {:ok, "object"}
    end
  end

  describe "an interrupt that is lost" do
    test "is repeated during the grace period, so the worker is kept" do
      kept = SnakeBridge.eval!("[1]", %{}, pool: @pool, return: :ref)
      old_pid = os_pid(kept)

      # The first interrupt is swallowed, as one that lands just before a blocking call
      # begins would be; the second ends the call.
      code = """
      import time
      try:
          time.sleep(10)
      except KeyboardInterrupt:
          pass
      time.sleep(10)
      """

      assert {:error, %TimeoutError{worker_restarted: false}} =
               SnakeBridge.eval(code, %{"kept" => kept}, timeout: 200)

      assert os_pid(kept) == old_pid
      assert SnakeBridge.to_elixir(kept) == {:ok, [1]}
    end
  end

  describe "a call that ignores the interrupt" do
    test "costs its worker: killed after the grace period, replaced, refs :worker_lost" do
      stubborn = """
      import time
      while True:
          try:
              time.sleep(1)
          except KeyboardInterrupt:
              pass
      """

      kept = SnakeBridge.eval!("[1]", %{}, pool: @pool, return: :ref)
      old_pid = os_pid(kept)

      result = SnakeBridge.eval(stubborn, %{}, pool: @pool, timeout: 200)

      assert {:error, %TimeoutError{worker_restarted: true} = error} = result
      assert Exception.message(error) =~ "replaced"

      eventually("the old worker's exit", 2_000, fn -> not os_alive?(old_pid) end)

      assert {:error, %RefError{reason: :worker_lost}} = SnakeBridge.to_elixir(kept)

      # The next call succeeds, on a new worker process, in a new incarnation.
      new_ref = SnakeBridge.eval!("[2]", %{}, pool: @pool, return: :ref)
      assert SnakeBridge.to_elixir!(new_ref) == [2]
      assert elem(new_ref.worker, 2) != elem(kept.worker, 2) or os_pid(new_ref) != old_pid
      refute os_pid(new_ref) == old_pid
    end
  end

  describe "a C call that holds the GIL" do
    test "cannot be interrupted, so its worker is replaced after the grace period" do
      kept = SnakeBridge.eval!("[1]", %{}, pool: @pool, return: :ref)
      # libc's sleep through ctypes.pythonapi, which keeps the GIL: no Python code runs
      # in the worker, not even the thread that hears cancellations.
      code = "import ctypes\nctypes.pythonapi.sleep(10)"

      result = SnakeBridge.eval(code, %{"kept" => kept}, timeout: 200)

      assert {:error, %TimeoutError{worker_restarted: true}} = result
      assert {:error, %RefError{reason: :worker_lost}} = SnakeBridge.to_elixir(kept)
      assert SnakeBridge.eval("1", %{}, @opts) == {:ok, 1}
    end
  end

  describe "a caller that dies mid-call" do
    test "cancels its Python call" do
      marker = tmp_path("cancelled")

      code = """
      import time
      try:
          time.sleep(10)
      finally:
          with open(marker, "w") as f:
              f.write("interrupted")
      """

      for how <- [:kill, :shutdown] do
        File.rm(marker)
        parent = self()

        caller =
          spawn(fn ->
            send(parent, :calling)
            SnakeBridge.eval(code, %{"marker" => marker}, pool: @pool, timeout: :infinity)
          end)

        assert_receive :calling

        eventually("the call starting", 1_000, fn ->
          Enum.any?(SnakeBridge.stats(@pool).per_worker, &(&1.pending == 1))
        end)

        Process.exit(caller, how)

        eventually("the Python call's interruption (#{how})", 2_000, fn ->
          File.exists?(marker)
        end)

        assert File.read!(marker) == "interrupted"
      end

      eventually("idle workers", 1_000, fn ->
        Enum.all?(SnakeBridge.stats(@pool).per_worker, &(&1.pending == 0))
      end)

      assert SnakeBridge.eval("1", %{}, @opts) == {:ok, 1}
    end
  end

  test "Python exceptions inside a timed call are not timeouts" do
    assert {:error, %PythonError{type: "ZeroDivisionError"}} =
             SnakeBridge.eval("1/0", %{}, pool: @pool, timeout: 200)
  end
end
