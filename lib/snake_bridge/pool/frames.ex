defmodule SnakeBridge.Pool.Frames do
  @moduledoc false
  # The framing of a worker's port: `<<size::32, frame::binary-size(size)>>` in both
  # directions, done here rather than by the port driver.
  #
  # With `{:packet, 4}` the driver allocates whatever size a header declares before a
  # byte of the frame has come: four bytes a worker wrote to fd 4 by mistake (or
  # malice) cost the VM up to 4 GiB, and Erlang ports have no `packet_size` option to
  # bound it. So the port is opened in stream mode and the process that reads it (the
  # worker's router, or its relay) splits the chunks it gets into frames: a header
  # declaring more than the pool's :max_frame is refused before anything is kept for
  # it, and a frame that spans chunks holds only the bytes that have come (at most twice
  # as many while an appended binary grows, see below).
  #
  # The port driver delivers 64 KiB at a time. A frame under @append_from keeps its
  # chunks as they come and joins them once it is whole; a bigger one is appended to
  # one binary chunk by chunk, which the VM grows in place. Bytes round trips through
  # the pipe, alternated (bench/README.md, "Later the same day"): appending every frame
  # cost 1 MB replies a quarter (317 against 395 MB/s); joining cost 100 MB ones a fifth
  # (207 against 257 MB/s), and holding a hundred megabytes of chunks until the join
  # churned the allocator's segment cache so much that the VM's other 100 MB binaries
  # (the floor's echo, in the same VM) went at 300 instead of 780 MB/s.
  #
  # A header within :max_frame that lies (the default allows 4 GiB − 1) cannot be told
  # from a real one by its size, but by what follows: a worker writes each frame in one
  # go (writev of buffers already in memory, back to back, see _channel.py), so a real
  # frame does not stop arriving half-way. A frame that stays incomplete for @stall_ms
  # with no byte coming ends its reader with {:frame_stalled, missing}, and the worker
  # is replaced: its later frames would otherwise be read as that frame's body, and
  # their callers would wait for ever. Caught by it wrongly: a worker stopped mid-write
  # (SIGSTOP, a frozen machine), and a frame of more than IOV_MAX pieces written by a
  # thread that cannot get the GIL back between its writevs for @stall_ms.
  @stall_ms 10_000
  @append_from 32 * 1024 * 1024

  @typedoc """
  What is left of the stream after the last whole frame: nothing, the start of a
  header (under 4 bytes), or the bytes a frame still misses and the chunks of it that
  have come (iodata).
  """
  @type pending :: nil | binary | {missing :: pos_integer, iodata}

  @typedoc """
  A port reader's state: nil between frames; inside one, what it still misses and the
  monotonic time (ms) by which more of it must have come.
  """
  @type reading :: nil | {pending, stall_at :: integer}

  @doc """
  `split/3` for a port's reader: `chunk` after `reading`. Each chunk that leaves a
  frame unfinished sets a new stall deadline (@stall_ms from now): only bytes count
  as progress, not the reader's other messages.
  """
  @spec read(reading, binary, pos_integer) ::
          {[binary], reading} | {:too_large, pos_integer, [binary]}
  def read(reading, chunk, max_frame) do
    case split(pending(reading), chunk, max_frame) do
      {frames, nil} -> {frames, nil}
      {frames, pending} when is_list(frames) -> {frames, {pending, now() + @stall_ms}}
      too_large -> too_large
    end
  end

  @doc "How long a port's reader waits for more of a frame it has begun (ms)."
  @spec stall_ms() :: pos_integer
  def stall_ms, do: @stall_ms

  @doc "How long the reader may wait for its next chunk: for ever between frames."
  @spec wait_ms(reading) :: timeout
  def wait_ms(nil), do: :infinity
  def wait_ms({_pending, stall_at}), do: max(stall_at - now(), 0)

  @doc "The bytes a frame still misses, for the reason of a stalled one."
  @spec missing(reading) :: pos_integer
  def missing({{missing, _parts}, _stall_at}), do: missing
  def missing({header, _stall_at}) when is_binary(header), do: 4 - byte_size(header)

  defp pending(nil), do: nil
  defp pending({pending, _stall_at}), do: pending

  defp now, do: System.monotonic_time(:millisecond)

  @doc "`frame` (iodata) with its length header, ready for the port."
  @spec frame(iodata) :: iodata
  def frame(frame), do: [<<:erlang.iolist_size(frame)::32>> | frame]

  @doc """
  Splits `chunk`, read from the port after `pending`, into the whole frames it ends,
  in order, and what is left pending. `{:too_large, size, frames}` when a header
  declares more than `max_frame` bytes, with the whole frames before it: the stream
  cannot be trusted past it.

  Frames that lie within `chunk` are sub-binaries of it (no copy).
  """
  @spec split(pending, binary, pos_integer) ::
          {[binary], pending} | {:too_large, pos_integer, [binary]}
  def split(nil, chunk, max_frame), do: frames(chunk, max_frame, [])

  def split(header, chunk, max_frame) when is_binary(header),
    do: frames(header <> chunk, max_frame, [])

  def split({missing, parts}, chunk, max_frame) do
    case chunk do
      <<last::binary-size(missing), rest::binary>> ->
        frames(rest, max_frame, [whole(parts, last)])

      _ ->
        {[], {missing - byte_size(chunk), gather(parts, chunk, missing)}}
    end
  end

  # A frame of @append_from bytes or more is one binary from its first chunk on, each
  # chunk appended to it; a smaller one keeps its chunks in a list until it is whole.
  defp gather(parts, chunk, missing)
       when is_binary(parts) and byte_size(parts) + missing >= @append_from,
       do: <<parts::binary, chunk::binary>>

  defp gather(parts, chunk, _missing), do: [parts | chunk]

  defp whole(parts, last) when is_binary(parts), do: <<parts::binary, last::binary>>
  defp whole(parts, last), do: IO.iodata_to_binary([parts | last])

  defp frames(data, max_frame, acc) do
    case data do
      <<size::32, _::binary>> when size > max_frame ->
        {:too_large, size, Enum.reverse(acc)}

      <<size::32, frame::binary-size(size), rest::binary>> ->
        frames(rest, max_frame, [frame | acc])

      <<size::32, part::binary>> ->
        {Enum.reverse(acc), {size - byte_size(part), part}}

      <<>> ->
        {Enum.reverse(acc), nil}

      header ->
        {Enum.reverse(acc), header}
    end
  end
end
