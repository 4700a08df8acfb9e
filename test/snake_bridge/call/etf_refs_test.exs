defmodule SnakeBridge.Call.EtfRefsTest do
  use ExUnit.Case, async: true

  alias SnakeBridge.{Ref, Shm}
  alias SnakeBridge.Call.EtfRefs
  alias SnakeBridge.Test.EngineReplies

  @ref %Ref{id: "id-1", type: "builtins.object", session: 3, worker: {:etf_refs_test, 0, 1}}
  @segment %Shm{path: "/dev/shm/snakebridge-worker-x/y", size: 70_000}
  # An atom no code creates: the name is only ever a binary here.
  @no_such_atom "snakebridge_etf_refs_test_no_such_atom"

  defp ref(n), do: %{@ref | id: "id-#{n}"}

  # A term's ETF without the version byte, to build terms the VM would not write.
  defp term_bytes(term) do
    <<131, bytes::binary>> = :erlang.term_to_binary(term)
    bytes
  end

  describe "scan/1 on terms written by term_to_binary" do
    test "finds every ref and segment, at any depth, among every kind of term" do
      deep = Enum.reduce(1..1_000, ref(4), fn _, acc -> [acc] end)

      term = [
        {1, 300, -5, 2 ** 40, 2 ** 2100, -(2 ** 70), 1.5, :ok, nil, true, "text"},
        %{"a" => ref(1), ref(2) => {@segment}, :b => %{c: [ref(3)]}},
        {&String.length/1, fn x -> x end, Tuple.duplicate(0, 300)},
        %Shm{path: nil, offset: 0, size: 70_000},
        deep
      ]

      assert {found, nil} = EtfRefs.scan(:erlang.term_to_binary(term))
      assert Enum.sort(found) == Enum.sort([ref(1), ref(2), ref(3), ref(4), @segment])
    end

    test "skips a map posing as a ref that is not one the VM issues" do
      forged = %{__struct__: Ref, id: 7, type: "x", session: -1, worker: :nope}
      assert EtfRefs.scan(:erlang.term_to_binary([forged, ref(1)])) == {[ref(1)], nil}
    end
  end

  describe "scan/1 on terms the VM refuses" do
    test "a map with a repeated key: its refs are found, and nothing is said against it" do
      key = term_bytes(:nan)

      etf =
        <<131, 116, 2::32, key::binary, term_bytes(ref(1))::binary, key::binary,
          term_bytes(ref(2))::binary>>

      assert_raise ArgumentError, fn -> :erlang.binary_to_term(etf, [:safe]) end
      assert {found, nil} = EtfRefs.scan(etf)
      assert Enum.sort(found) == [ref(1), ref(2)]
    end

    test "an atom the VM does not have is named" do
      atom = <<119, byte_size(@no_such_atom), @no_such_atom::binary>>
      etf = <<131, 104, 3, term_bytes(ref(1))::binary, atom::binary, term_bytes(ref(2))::binary>>

      assert_raise ArgumentError, fn -> :erlang.binary_to_term(etf, [:safe]) end
      assert {found, {:unknown_atom, @no_such_atom}} = EtfRefs.scan(etf)
      assert Enum.sort(found) == [ref(1), ref(2)]
    end

    test "a tag it does not know stops the walk, keeping what it found before" do
      etf = :erlang.term_to_binary([ref(1), self(), ref(2)])
      assert EtfRefs.scan(etf) == {[ref(1)], :malformed}
    end

    test "a term cut short stops the walk, keeping what it found before" do
      etf = :erlang.term_to_binary([ref(1), ref(2)])
      cut = binary_part(etf, 0, byte_size(etf) - 10)
      assert EtfRefs.scan(cut) == {[ref(1)], :malformed}
      assert EtfRefs.scan(<<>>) == {[], :malformed}
    end
  end

  # The engine's own reply writer (EngineReplies) builds the replies: every kind of
  # term its encoder writes, with refs among them.
  @replies """
  from snakebridge._etf import ErlFun

  request = request(ReturnMode.AUTO)

  def make():
      deep = []
      for _ in range(200):  # deeper than the encoder's RECURSE_DEPTH
          deep = [deep, object()]
      return {
          "scalars": [None, True, False, 0, 255, -1, 2**31, -2**40, 2**2100, 1.5, float("inf")],
          "texts": ["a", "ü" * 300, Atom("ok"), Atom(long_atom)],
          "bulk": [[0.5] * 20, list(range(20)), ["s"] * 20],
          "tuples": (object(), tuple(range(300))),
          "funs": [ErlFun(term=fun, arity=1) for fun in funs],
          "other": [{1, 2}, b"raw", object()],
          "deep": deep,
      }

  made = []
  for result in (make(), [make(), {float("nan"): object(), float("nan"): object()}]):
      before = set(registry.session(7).refs)
      replies.reply(request, result)
      made.append([id for id in registry.session(7).refs if id not in before])
  [capture.frames, made]
  """

  test "scan/1 finds exactly the refs the engine made for a reply, decodable or not" do
    {tag, _id} = SnakeBridge.Pool.Router.call_tag()
    <<131, worker_term::binary>> = :erlang.term_to_binary({:etf_refs_test, 0, 1})
    long_atom = String.duplicate("ü", 200)
    _ = String.to_atom(long_atom)
    funs = for fun <- [&String.length/1, fn x -> x end], do: SnakeBridge.bytes(term_bytes(fun))

    [frames, made] =
      SnakeBridge.eval!(EngineReplies.python() <> @replies, %{
        "tag" => SnakeBridge.bytes(tag),
        "worker_term" => SnakeBridge.bytes(worker_term),
        "long_atom" => long_atom,
        "funs" => funs
      })

    for {%SnakeBridge.Bytes{data: frame}, ids} <- Enum.zip(frames, made) do
      <<_kind, size, _tag::binary-size(size), etf::binary>> = frame
      assert {found, nil} = EtfRefs.scan(etf)
      assert Enum.sort(Enum.map(found, & &1.id)) == Enum.sort(Enum.map(ids, & &1.data))
      assert length(ids) > 200
    end

    [_decodable, undecodable] = Enum.map(frames, & &1.data)
    <<_kind, size, _tag::binary-size(size), etf::binary>> = undecodable
    assert_raise ArgumentError, fn -> :erlang.binary_to_term(etf, [:safe]) end
  end
end
