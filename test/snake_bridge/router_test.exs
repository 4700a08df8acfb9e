defmodule SnakeBridge.RouterTest do
  # The reply router on its own, over a port to `cat`: whatever frame the test writes
  # comes back as if the worker had written it.
  use ExUnit.Case, async: true

  alias SnakeBridge.Pool.{Frames, Router}

  @ok 0
  @error 1
  @asks 2
  @started 6

  @max_frame 1_000_000

  setup do
    Process.flag(:trap_exit, true)
    port = Port.open({:spawn_executable, System.find_executable("cat")}, [:binary])
    load = :atomics.new(1, signed: true)
    router = Router.start_link(port, load, @max_frame)
    on_exit(fn -> Process.exit(router, :kill) end)
    %{port: port, load: load, router: router}
  end

  defp reply(port, kind, tag, payload \\ "p"),
    do: Port.command(port, Frames.frame(frame(kind, tag, payload)))

  defp frame(kind, tag, payload), do: <<kind, byte_size(tag), tag::binary, payload::binary>>

  # Frames come back in order: once this one is here, every frame written before it
  # has been forwarded or dropped.
  defp sync(port) do
    {tag, id} = Router.call_tag()
    reply(port, @asks, tag, "sync")
    assert_receive {:snakebridge_reply, ^id, @asks, "sync"}, 5_000
  end

  test "a counted reply reaches its caller with its id, and a final one counts it out", ctx do
    {tag, id} = Router.call_tag()
    :atomics.put(ctx.load, 1, 2)
    reply(ctx.port, @asks, tag, "asks")
    reply(ctx.port, @ok, tag, "done")
    assert_receive {:snakebridge_reply, ^id, @asks, "asks"}, 5_000
    assert_receive {:snakebridge_reply, ^id, @ok, "done"}, 5_000
    assert :atomics.get(ctx.load, 1) == 1
  end

  test "a :started reply reaches its caller and counts nothing out", ctx do
    {tag, id} = Router.call_tag()
    :atomics.put(ctx.load, 1, 2)
    reply(ctx.port, @started, tag, "")
    sync(ctx.port)
    assert_received {:snakebridge_reply, ^id, @started, ""}
    assert :atomics.get(ctx.load, 1) == 2
  end

  test "replies reach each caller, whichever process asked", ctx do
    parent = self()

    callers =
      for n <- 1..3 do
        spawn_link(fn ->
          {tag, id} = Router.call_tag()
          reply(ctx.port, @ok, tag, "to #{n}")
          assert_receive {:snakebridge_reply, ^id, @ok, payload}, 5_000
          send(parent, {:got, n, payload})
        end)
      end

    for {_pid, n} <- Enum.with_index(callers, 1), do: assert_receive({:got, ^n, "to " <> _})
  end

  test "an uncounted reply goes to its alias and counts nothing out", ctx do
    alias = :erlang.alias()
    reply(ctx.port, @error, Router.alias_tag(alias), "answer")
    assert_receive {^alias, :uncounted, @error, "answer"}, 5_000
    assert :atomics.get(ctx.load, 1) == 0
  end

  test "other frames go to the worker process", ctx do
    Port.command(ctx.port, Frames.frame(<<4, 0, "a log line">>))
    assert_receive {port, {:data, <<4, 0, "a log line">>}}, 5_000
    assert port == ctx.port
  end

  test "frames reach their callers however the stream is cut", ctx do
    {tag, id} = Router.call_tag()
    big = :crypto.strong_rand_bytes(300_000)
    frames = [frame(@asks, tag, "one"), frame(@asks, tag, big), frame(@ok, tag, "three")]
    stream = IO.iodata_to_binary(Enum.map(frames, &Frames.frame/1))

    # Several frames in one write, and frames cut across writes, at every few bytes
    # around a header.
    for piece <- [binary_part(stream, 0, 2), binary_part(stream, 2, 11)],
        do: Port.command(ctx.port, piece)

    Port.command(ctx.port, binary_part(stream, 13, byte_size(stream) - 13))
    assert_receive {:snakebridge_reply, ^id, @asks, "one"}, 5_000
    assert_receive {:snakebridge_reply, ^id, @asks, ^big}, 5_000
    assert_receive {:snakebridge_reply, ^id, @ok, "three"}, 5_000
  end

  test "a header declaring more than max_frame stops the router with that size", ctx do
    Port.command(ctx.port, <<0xFFFFFFF0::32>>)
    assert_receive {:EXIT, router, {:frame_too_large, 0xFFFFFFF0}}, 5_000
    assert router == ctx.router
  end

  test "after abandon, what comes for the call is dropped, and its final reply ends that",
       ctx do
    {tag, id} = Router.call_tag()
    assert Router.abandon(ctx.port, tag, id, fn _, _ -> flunk("nothing to discard") end) == :ok
    reply(ctx.port, @asks, tag)
    reply(ctx.port, @ok, tag)
    sync(ctx.port)
    refute_received {:snakebridge_reply, ^id, _, _}
    # Counted out even though dropped: the request is over.
    assert :atomics.get(ctx.load, 1) == -1

    # The final reply took the call off the dropped list: the same tag now goes through.
    reply(ctx.port, @ok, tag, "again")
    assert_receive {:snakebridge_reply, ^id, @ok, "again"}, 5_000
  end

  test "abandon flushes what was forwarded before it, and forgets a call already over",
       ctx do
    {tag, id} = Router.call_tag()
    reply(ctx.port, @started, tag, "")
    reply(ctx.port, @asks, tag, "asks")
    reply(ctx.port, @ok, tag, "late")
    sync(ctx.port)
    discard = fn kind, payload -> send(self(), {:discarded, kind, payload}) end
    assert Router.abandon(ctx.port, tag, id, discard) == :ok
    refute_received {:snakebridge_reply, ^id, _, _}
    assert_received {:discarded, @ok, "late"}
    # Nobody runs the callback it asked for: what its arguments made is cleaned up too.
    assert_received {:discarded, @asks, "asks"}
    refute_received {:discarded, @started, _}

    # Its final reply was flushed, so the router holds nothing for it: not dropped.
    reply(ctx.port, @ok, tag, "again")
    assert_receive {:snakebridge_reply, ^id, @ok, "again"}, 5_000
  end

  test "abandon on a closed port flushes and returns", ctx do
    {tag, id} = Router.call_tag()
    reply(ctx.port, @ok, tag)
    sync(ctx.port)
    Port.close(ctx.port)
    assert Router.abandon(ctx.port, tag, id, fn _, _ -> :ok end) == :ok
    refute_received {:snakebridge_reply, ^id, _, _}
  end

  test "stop/1 returns once the router is gone", ctx do
    assert Router.stop(ctx.router) == :ok
    refute Process.alive?(ctx.router)
  end
end
