defmodule SnakeBridge.Call.HeaderTest do
  # The request headers the VM builds, read back by the engine's own parser: a flag or
  # op code that drifts between SnakeBridge.Wire and _wire.py fails here, because the
  # two sides compare by name.
  use ExUnit.Case, async: true

  alias SnakeBridge.Call.Header
  alias SnakeBridge.Wire

  @parse """
  from snakebridge._request import parse_header
  from snakebridge._wire import Flag, Op, ReturnMode
  out = []
  for frame in frames:
      request, offset = parse_header(frame)
      out.append((
          Op(request.op).name.lower(),
          ReturnMode(request.flags & Flag.RETURN_MASK).name.lower(),
          bool(request.flags & Flag.NO_REPLY),
          bool(request.flags & Flag.HAS_BLOBS),
          bool(request.flags & Flag.REPORT_START),
          request.tag[1:], request.session, request.caller, request.parent,
          frame[offset:],
      ))
  out
  """

  test "every op and flag combination parses as built" do
    ops = Map.keys(Wire.table().ops)
    extras = [[], [:no_reply], [:has_blobs], [:no_reply, :has_blobs]]

    cases =
      for op <- ops, mode <- [:auto, :value, :ref], extra <- extras, start <- [false, true] do
        tag = :crypto.strong_rand_bytes(:rand.uniform(40))
        parent = Enum.random([<<>>, <<7::64>>])
        session = :rand.uniform(2 ** 63)
        caller = :rand.uniform(2 ** 63)
        body = if :has_blobs in extra, do: <<3::32, "etf", "blobs">>, else: "body"
        # SnakeBridge.Call sets :report_start itself, on the flags of Header.flags/2.
        flags = Header.flags(mode, extra) + if(start, do: Wire.report_start(), else: 0)
        header = Header.build(op, flags, tag, session, caller, parent)
        expected_body = if :has_blobs in extra, do: "etfblobs", else: body

        {header <> body,
         {Atom.to_string(op), Atom.to_string(mode), :no_reply in extra, :has_blobs in extra,
          start, tag, session, caller, parent, expected_body}}
      end

    frames = Enum.map(cases, fn {frame, _} -> SnakeBridge.bytes(frame) end)
    parsed = SnakeBridge.eval!(@parse, %{"frames" => frames})
    assert length(parsed) == length(ops) * 3 * 4 * 2

    for {{_frame, expected}, got} <- Enum.zip(cases, parsed) do
      got = got |> Tuple.to_list() |> Enum.map(&bytes_data/1) |> List.to_tuple()
      assert got == expected
    end
  end

  test "a one-way frame asks for no reply and carries its session" do
    frame = IO.iodata_to_binary(Header.one_way(:release, {["id"]}, 42))

    [{"release", "auto", true, false, false, "", 42, 0, "", body}] =
      SnakeBridge.eval!(@parse, %{"frames" => [SnakeBridge.bytes(frame)]})
      |> Enum.map(fn t -> t |> Tuple.to_list() |> Enum.map(&bytes_data/1) |> List.to_tuple() end)

    assert :erlang.binary_to_term(body) == {["id"]}
  end

  defp bytes_data(%SnakeBridge.Bytes{data: data}), do: data
  defp bytes_data(other), do: other
end
