defmodule SnakeBridge.SessionTest do
  # Sessions and ref lifetime, against real Python. The module has its own pool, so the
  # live-ref counts it asserts on are its own.
  use ExUnit.Case, async: true

  import SnakeBridge.Test.Lifecycle

  alias SnakeBridge.{Ref, RefError, Session}

  @pool :session_test
  @opts [pool: @pool]

  setup_all do
    start_supervised!({SnakeBridge.Pool, name: @pool, size: 2})
    await_pool(@pool)
    :ok
  end

  setup do
    on_exit(fn -> SnakeBridge.release_session(Process.get({Session, @pool})) end)
    eventually("the pool becoming empty", 2_000, fn -> live_refs(@pool) == 0 end)
    :ok
  end

  defp object, do: SnakeBridge.eval!("object()", %{}, @opts)

  defp in_process(fun) do
    parent = self()

    pid =
      spawn(fn ->
        send(parent, {:done, fun.()})

        receive do
          :stop -> :ok
        end
      end)

    on_exit(fn -> Process.exit(pid, :kill) end)
    assert_receive {:done, result}, 5_000
    {pid, result}
  end

  describe "default sessions" do
    test "refs belong to the calling process's session" do
      a = object()
      b = object()
      assert a.session == b.session

      {_pid, other} = in_process(&object/0)
      assert other.session != a.session
    end

    test "when the owner exits normally, its refs are released within 1 s" do
      {pid, refs} = in_process(fn -> [object(), object(), object()] end)
      assert live_refs(@pool) == 3
      monitor = Process.monitor(pid)
      send(pid, :stop)
      assert_receive {:DOWN, ^monitor, _, _, _}
      eventually("release after a normal exit", 1_000, fn -> live_refs(@pool) == 0 end)
      assert {:error, %RefError{reason: :released}} = SnakeBridge.call(hd(refs), "__repr__")
    end

    test "when the owner returns from its function, its refs are released within 1 s" do
      parent = self()
      spawn(fn -> send(parent, {:ref, object()}) end)
      assert_receive {:ref, %Ref{} = ref}, 5_000
      eventually("release after the owner returned", 1_000, fn -> live_refs(@pool) == 0 end)
      assert {:error, %RefError{reason: :released}} = SnakeBridge.call(ref, "__repr__")
    end

    test "when the owner is killed, its refs are released within 1 s" do
      {pid, refs} = in_process(fn -> for _ <- 1..10, do: object() end)
      assert live_refs(@pool) == 10
      Process.exit(pid, :kill)
      eventually("release after kill", 1_000, fn -> live_refs(@pool) == 0 end)

      for ref <- refs do
        assert {:error, %RefError{reason: :released}} = SnakeBridge.call(ref, "__repr__")
      end
    end

    test "open with_python blocks are exited before the refs are dropped" do
      log = tmp_path("ctx-log")

      # The Tracked object is held only by the ref to the list; Ctx sees it weakly.
      code = """
      import weakref

      class Tracked:
          def __del__(self):
              with open(log, "a") as f:
                  f.write("del\\n")

      class Ctx:
          def __init__(self, tracked):
              self.tracked = weakref.ref(tracked)
          def __enter__(self):
              return "entered"
          def __exit__(self, kind, value, tb):
              alive = self.tracked() is not None
              with open(log, "a") as f:
                  f.write(f"exit {kind.__name__} {alive}\\n")
              return False

      def make():
          tracked = Tracked()
          return Ctx(tracked), [tracked]

      make()
      """

      parent = self()

      pid =
        spawn(fn ->
          {ctx, tracked} = SnakeBridge.eval!(code, %{"log" => log}, @opts)

          SnakeBridge.with_python(ctx, fn entered ->
            send(parent, {:inside, entered, tracked})
            Process.sleep(:infinity)
          end)
        end)

      on_exit(fn -> Process.exit(pid, :kill) end)
      assert_receive {:inside, "entered", [%Ref{}]}, 5_000
      Process.exit(pid, :kill)

      lines =
        eventually("the context's exit and the object's release", 1_000, fn ->
          case File.read(log) do
            {:ok, text} -> if text =~ "del", do: String.split(text, "\n", trim: true)
            {:error, :enoent} -> nil
          end
        end)

      assert lines == ["exit ElixirError True", "del"]
    end

    test "passing a ref to a Task works" do
      counter = SnakeBridge.call!("collections", "Counter", ["abca"], [], @opts)

      result =
        Task.async(fn -> SnakeBridge.method!(counter, "most_common", [1]) end)
        |> Task.await()

      assert result == [{"a", 2}]
      assert live_refs(@pool) == 1
    end
  end

  describe "session/2" do
    test "releases everything created inside when the block returns" do
      outer = object()

      inner =
        SnakeBridge.session(
          fn ->
            refs = for _ <- 1..4, do: object()
            assert live_refs(@pool) == 5
            refs
          end,
          @opts
        )

      assert live_refs(@pool) == 1
      assert {:error, %RefError{reason: :released}} = SnakeBridge.call(hd(inner), "__repr__")
      assert {:ok, _} = SnakeBridge.call(outer, "__repr__")
      assert hd(inner).session != outer.session
    end

    test "releases everything created inside when the block raises" do
      assert_raise RuntimeError, "boom", fn ->
        SnakeBridge.session(
          fn ->
            send(self(), {:ref, object()})
            raise "boom"
          end,
          @opts
        )
      end

      assert_received {:ref, ref}
      assert live_refs(@pool) == 0
      assert {:error, %RefError{reason: :released}} = SnakeBridge.call(ref, "__repr__")
    end

    test "the process's own session is current again after the block" do
      before = object()
      SnakeBridge.session(fn -> object() end, @opts)
      after_block = object()
      assert before.session == after_block.session
    end
  end

  describe "open_session/1 and use_session/2" do
    test "several processes share one session, which outlives its users" do
      {:ok, session} = SnakeBridge.open_session(@opts)

      refs =
        1..3
        |> Enum.map(fn i ->
          Task.async(fn -> SnakeBridge.use_session(session, fn -> {i, object()} end) end)
        end)
        |> Task.await_many()
        |> Enum.map(fn {_, ref} -> ref end)

      assert Enum.all?(refs, &(&1.session == session.id))
      # The tasks have exited; the session belongs to this process, so the refs live.
      Process.sleep(100)
      assert live_refs(@pool) == 3

      assert {:ok, _} =
               Task.async(fn -> SnakeBridge.call(hd(refs), "__repr__") end) |> Task.await()

      assert SnakeBridge.release_session(session) == :ok
      assert live_refs(@pool) == 0
      assert {:error, %RefError{reason: :released}} = SnakeBridge.call(hd(refs), "__repr__")
    end

    test "a shared session released by another process refuses further calls" do
      {:ok, session} = SnakeBridge.open_session(@opts)
      parent = self()

      user =
        spawn(fn ->
          SnakeBridge.use_session(session, fn ->
            send(parent, {:first, object()})

            receive do
              :again -> send(parent, {:again, SnakeBridge.eval("object()", %{}, @opts)})
            end
          end)
        end)

      assert_receive {:first, first}, 5_000
      assert SnakeBridge.release_session(session) == :ok
      send(user, :again)
      assert_receive {:again, {:error, %RefError{reason: :released}}}, 5_000
      assert {:error, %RefError{reason: :released}} = SnakeBridge.call(first, "__repr__")

      assert {:error, %RefError{reason: :released}} =
               SnakeBridge.eval("object()", %{}, pool: @pool, session: session)

      assert live_refs(@pool) == 0
    end

    test "the session is released when its owner exits" do
      parent = self()

      owner =
        spawn(fn ->
          {:ok, session} = SnakeBridge.open_session(@opts)
          send(parent, {:session, session})
          Process.sleep(:infinity)
        end)

      assert_receive {:session, session}, 5_000
      ref = SnakeBridge.use_session(session, &object/0)
      assert ref.session == session.id
      Process.exit(owner, :kill)
      eventually("release after the owner's death", 1_000, fn -> live_refs(@pool) == 0 end)
      assert {:error, %RefError{reason: :released}} = SnakeBridge.call(ref, "__repr__")
    end
  end

  describe "release/1 and release_session/0,1" do
    test "release/1 frees one ref and is idempotent" do
      keep = object()
      drop = object()
      assert SnakeBridge.release(drop) == :ok
      assert SnakeBridge.release(drop) == :ok
      # release/1 does not wait for the worker.
      eventually("the release", 1_000, fn -> live_refs(@pool) == 1 end)
      assert {:error, %RefError{reason: :released}} = SnakeBridge.call(drop, "__repr__")
      assert {:ok, _} = SnakeBridge.call(keep, "__repr__")
    end

    test "release_session/1 frees the whole session and calls then start a new one" do
      first = object()
      SnakeBridge.release_session(Process.get({Session, @pool}))
      assert live_refs(@pool) == 0
      assert {:error, %RefError{reason: :released}} = SnakeBridge.call(first, "__repr__")
      second = object()
      assert second.session != first.session
      assert {:ok, _} = SnakeBridge.call(second, "__repr__")
    end

    test "release_session/0 frees the default pool's current session" do
      ref = SnakeBridge.eval!("object()")
      assert SnakeBridge.release_session() == :ok
      assert {:error, %RefError{reason: :released}} = SnakeBridge.call(ref, "__repr__")
      assert %Ref{} = SnakeBridge.eval!("object()")
    end

    test "a released ref never resolves to another object" do
      ref = SnakeBridge.eval!("[1]", %{}, return: :ref, pool: @pool)
      SnakeBridge.release_session(Process.get({Session, @pool}))

      for _ <- 1..20, do: SnakeBridge.eval!("[2]", %{}, return: :ref, pool: @pool)

      assert {:error, %RefError{reason: :released}} = SnakeBridge.to_elixir(ref)
    end
  end

  describe "ref ids" do
    test "are at least 128 bits and differ between refs" do
      refs = for _ <- 1..100, do: object()
      assert Enum.all?(refs, &(bit_size(&1.id) >= 128))
      assert refs |> Enum.map(& &1.id) |> Enum.uniq() |> length() == 100
    end

    test "a forged or altered id is :unknown, never another object" do
      ref = object()
      <<head::binary-size(byte_size(ref.id) - 1), last>> = ref.id
      altered = %{ref | id: head <> <<Bitwise.bxor(last, 1)>>}
      random = %{ref | id: :crypto.strong_rand_bytes(byte_size(ref.id))}
      other_session = %{ref | session: ref.session + 1}

      for forged <- [altered, random, other_session] do
        assert {:error, %RefError{reason: :unknown}} = SnakeBridge.call(forged, "__repr__")
      end
    end
  end
end
