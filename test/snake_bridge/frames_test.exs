defmodule SnakeBridge.Pool.FramesTest do
  # The framing of a worker's port on its own: whole frames out of a stream cut
  # anywhere, and a lying header refused before anything is kept for it.
  use ExUnit.Case, async: true

  alias SnakeBridge.Pool.Frames

  @max_frame 100_000

  defp stream(frames), do: IO.iodata_to_binary(Enum.map(frames, &Frames.frame/1))

  defp drop_frames({:too_large, size, _frames}), do: {:too_large, size}
  defp drop_frames(split), do: split

  # Feeds `chunks` in order; the frames that came out, and what is left pending.
  defp feed(chunks) do
    Enum.reduce(chunks, {[], nil}, fn chunk, {out, pending} ->
      {frames, pending} = Frames.split(pending, chunk, @max_frame)
      assert_bounded(pending)
      {out ++ frames, pending}
    end)
  end

  # A frame's pending bytes never exceed what its header declared.
  defp assert_bounded({missing, parts}),
    do: assert(missing + IO.iodata_length(parts) <= @max_frame)

  defp assert_bounded(_pending), do: :ok

  defp cut(binary, points) do
    {chunks, rest} =
      points
      |> Enum.sort()
      |> Enum.reduce({[], {binary, 0}}, fn at, {chunks, {rest, taken}} ->
        <<chunk::binary-size(at - taken), rest::binary>> = rest
        {[chunk | chunks], {rest, at}}
      end)

    Enum.reverse([elem(rest, 0) | chunks])
  end

  describe "frame/1" do
    test "puts the iodata's size in front, as 32 bits big-endian" do
      assert IO.iodata_to_binary(Frames.frame(["ab", ?c, [<<"d">>]])) == <<4::32, "abcd">>
      assert IO.iodata_to_binary(Frames.frame(<<>>)) == <<0::32>>
    end
  end

  describe "split/3" do
    test "gives every frame, in order, however the stream is cut" do
      frames = ["", "a", "abc", "abcd", :crypto.strong_rand_bytes(300), :rand.bytes(70_000)]
      stream = stream(frames)

      for _ <- 1..300 do
        points = for _ <- 1..:rand.uniform(12), do: :rand.uniform(byte_size(stream) + 1) - 1
        assert feed(cut(stream, Enum.uniq(points))) == {frames, nil}
      end

      # Byte by byte: every header and frame cut at each place.
      small = Enum.take(frames, 5)
      assert feed(for <<byte <- stream(small)>>, do: <<byte>>) == {small, nil}
    end

    test "leaves a frame's start pending until its end comes" do
      assert {[], <<0, 0>>} = Frames.split(nil, <<0, 0>>, @max_frame)
      assert {[], {3, "ab"}} = Frames.split(<<0, 0>>, <<0, 5, "ab">>, @max_frame)
      assert {[], {1, ["ab" | "cd"]}} = Frames.split({3, "ab"}, "cd", @max_frame)
      assert {["abcde", "x"], nil} = Frames.split({1, ["ab" | "cd"]}, "e" <> <<1::32, "x">>, 9)
    end

    test "gives frames within a chunk as parts of it, not copies" do
      chunk = stream([:binary.copy("a", 100), :binary.copy("b", 100)])
      {[a, b], nil} = Frames.split(nil, chunk, @max_frame)
      assert :binary.referenced_byte_size(a) == byte_size(chunk)
      assert :binary.referenced_byte_size(b) == byte_size(chunk)
    end

    test "refuses a header over max_frame as soon as its four bytes are in" do
      stream = stream(["ok"]) <> <<0xFFFFFFF0::32>> <> "more"

      for at <- 0..(byte_size(stream) - 1) do
        [first, second] = cut(stream, [at])

        result =
          case Frames.split(nil, first, @max_frame) do
            {:too_large, size, _frames} -> {:too_large, size}
            {_frames, pending} -> drop_frames(Frames.split(pending, second, @max_frame))
          end

        assert result == {:too_large, 0xFFFFFFF0}
      end
    end

    test "hands over the whole frames that came before a header over max_frame" do
      chunk = stream(["ok", "fine"]) <> <<0xFFFFFFF0::32>> <> "more"
      assert Frames.split(nil, chunk, @max_frame) == {:too_large, 0xFFFFFFF0, ["ok", "fine"]}
    end

    test "a big frame grows as one binary, chunk by chunk, and comes out whole" do
      big = :crypto.strong_rand_bytes(40 * 1024 * 1024)
      [first | chunks] = cut(stream([big]), Enum.to_list(65_536..byte_size(big)//65_536))

      {[], {missing, parts}} = Frames.split(nil, first, byte_size(big))
      assert is_binary(parts) and missing + byte_size(parts) == byte_size(big)

      {frames, pending} =
        Enum.reduce(chunks, {[], {missing, parts}}, fn chunk, {out, pending} ->
          {frames, pending} = Frames.split(pending, chunk, byte_size(big))
          with {_missing, parts} <- pending, do: assert(is_binary(parts))
          {out ++ frames, pending}
        end)

      assert frames == [big] and pending == nil
    end

    test "takes a frame of exactly max_frame bytes" do
      frame = :binary.copy("m", 10)
      assert Frames.split(nil, stream([frame]), 10) == {[frame], nil}
      assert Frames.split(nil, stream([frame <> "!"]), 10) == {:too_large, 11, []}
    end
  end

  describe "read/3" do
    test "waits for ever between frames, and a bounded time inside one" do
      assert {["ok"], nil} = Frames.read(nil, stream(["ok"]), @max_frame)
      assert Frames.wait_ms(nil) == :infinity

      <<first::binary-size(7), rest::binary>> = stream(["a frame"])
      assert {[], reading} = Frames.read(nil, first, @max_frame)
      assert Frames.missing(reading) == byte_size(rest)
      assert Frames.wait_ms(reading) in 1..Frames.stall_ms()
      assert {["a frame"], nil} = Frames.read(reading, rest, @max_frame)
    end

    test "a chunk that leaves a frame unfinished sets a new deadline" do
      <<a::binary-size(5), b::binary-size(3), c::binary>> = stream(["a longer frame"])
      {[], {_pending, first_deadline} = reading} = Frames.read(nil, a, @max_frame)
      Process.sleep(5)
      {[], {_pending, second_deadline} = reading} = Frames.read(reading, b, @max_frame)
      assert second_deadline > first_deadline
      assert {["a longer frame"], nil} = Frames.read(reading, c, @max_frame)
    end
  end
end
