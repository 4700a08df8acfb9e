defmodule SnakeBridge.Call.ReplyTest do
  # Reply frames built by the engine's own reply writer, read by the VM's router and
  # decoder: a kind code, a flag bit or the tag layout that drifts between
  # priv/python/snakebridge/_replies.py and SnakeBridge.Wire fails here.
  use ExUnit.Case, async: true

  import Bitwise

  alias SnakeBridge.Call.Reply
  alias SnakeBridge.Pool.{Frames, Router}
  alias SnakeBridge.Wire

  # Plays the worker: builds one reply of each kind for the given request tag with the
  # engine's Replies, and returns the frames it wrote.
  @replies """
  from snakebridge._errors import RefError

  replies.reply(request(ReturnMode.AUTO), [1, "two", 3.0])
  replies.reply(request(ReturnMode.REF), [1])
  replies.reply(request(ReturnMode.AUTO), b"x" * big)
  replies.reply_error(request(ReturnMode.AUTO), RefError("released", "gone"))
  replies.reply_cancelled(request(ReturnMode.AUTO))
  replies.send_callback(request(ReturnMode.AUTO), (1, None, [2], Atom("main"), 8))
  replies.send_event((Atom("hello"), {}))
  replies.send_started(request(ReturnMode.AUTO))
  capture.frames
  """

  setup do
    Process.flag(:trap_exit, true)
    port = Port.open({:spawn_executable, System.find_executable("cat")}, [:binary])
    router = Router.start_link(port, :atomics.new(1, signed: true), 1_000_000)
    on_exit(fn -> Process.exit(router, :kill) end)
    %{port: port}
  end

  test "every kind of reply the engine writes reaches its caller as the VM reads it", ctx do
    {tag, id} = Router.call_tag()
    # The worker's identity as the engine copies it into refs: ETF without its version.
    <<131, worker_term::binary>> = :erlang.term_to_binary({:reply_test, 0, 1})
    big = Wire.blob_min()

    frames =
      SnakeBridge.eval!(SnakeBridge.Test.EngineReplies.python() <> @replies, %{
        "tag" => SnakeBridge.bytes(tag),
        "worker_term" => SnakeBridge.bytes(worker_term),
        "big" => big
      })

    [ok, ref, blob, error, cancelled, callback, event, started] =
      Enum.map(frames, fn %SnakeBridge.Bytes{data: data} -> data end)

    for frame <- [ok, ref, blob, error, cancelled, callback, started],
        do: Port.command(ctx.port, Frames.frame(frame))

    assert_receive {:snakebridge_reply, ^id, kind, payload}, 5_000
    assert kind == Wire.kind(:ok)
    assert Reply.decode(kind, payload) == [1, "two", 3.0]

    assert_receive {:snakebridge_reply, ^id, kind, payload}, 5_000
    assert kind == Wire.kind(:ok)

    assert %SnakeBridge.Ref{type: "list", session: 7, worker: {:reply_test, 0, 1}} =
             Reply.decode(kind, payload)

    assert_receive {:snakebridge_reply, ^id, kind, payload}, 5_000
    assert (kind &&& Wire.blob_flag()) != 0
    assert (kind &&& bnot(Wire.blob_flag())) == Wire.kind(:ok)
    assert Reply.decode(kind, payload) == %SnakeBridge.Bytes{data: :binary.copy("x", big)}

    assert_receive {:snakebridge_reply, ^id, kind, payload}, 5_000
    assert kind == Wire.kind(:error)
    assert %SnakeBridge.RefError{reason: :released} = Reply.decode(kind, payload)

    assert_receive {:snakebridge_reply, ^id, kind, payload}, 5_000
    assert kind == Wire.kind(:error)
    assert Reply.decode(kind, payload) == :cancelled

    assert_receive {:snakebridge_reply, ^id, kind, payload}, 5_000
    assert kind == Wire.kind(:callback)
    assert {1, nil, [2], :main, 8} = Reply.decode(kind, payload)

    assert_receive {:snakebridge_reply, ^id, kind, payload}, 5_000
    assert {kind, payload} == {Wire.kind(:started), ""}

    # Events carry an empty tag and go to the worker's server, not to a caller.
    event_kind = Wire.kind(:event)
    assert <<^event_kind, 0, payload::binary>> = event
    assert :erlang.binary_to_term(payload) == {:hello, %{}}
  end

  test "a scalar reply, read by a match, is exactly what the decoder reads" do
    terms =
      SnakeBridge.eval!("""
      from snakebridge._etf import scalar_term
      values = [0, 255, 256, -1, -2**31, 2**31 - 1, 2**31, 4.0, -0.0, 1e308, 5e-324,
                float("inf"), float("nan"), None, True, False]
      [scalar_term(v) for v in values]
      """)

    matched =
      for %SnakeBridge.Bytes{data: data} <- terms do
        assert Reply.decode(Wire.kind(:ok), data) === :erlang.binary_to_term(data)
        scalar_shape?(data)
      end

    # Every value but 2**31 (a big integer) and the two non-finite floats (atoms) has
    # one of the shapes the match reads.
    assert Enum.count(matched, & &1) == length(terms) - 3
  end

  defp scalar_shape?(<<131, 70, _::float-64>>), do: true
  defp scalar_shape?(<<131, 97, _>>), do: true
  defp scalar_shape?(<<131, 98, _::32>>), do: true
  defp scalar_shape?(<<131, 119, size, name::binary-size(size)>>), do: name in ~w(nil true false)
  defp scalar_shape?(_other), do: false
end
