"""Request frames the worker cannot use: each is dropped (no header to answer) or
answered with an error, and the worker goes on serving the next request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from engine_pipes import (
    engine_with_pipes,
    module_name,
    nothing_to_read,
    read_reply,
    request_frame,
)

from snakebridge._etf import StructHook
from snakebridge._request import build_header, parse_header, split_frame
from snakebridge._wire import Flag, Kind, Op
from snakebridge._worker import Engine

_TAG = b"\x83tag"
_ERROR_STRUCTS: dict[str, StructHook] = {
    f"Elixir.SnakeBridge.{name}": lambda fields, name=name: (name, fields)
    for name in ("EncodeError", "PythonError")
}
_CALL = build_header(Op.CALL, session=1, caller=1)  # 20 bytes: 3 + 16 + 1


@pytest.fixture
def engine() -> Iterator[tuple[Engine, int]]:
    with engine_with_pipes() as pair:
        yield pair


def _still_serves(eng: Engine, replies: int) -> None:
    eng.handle(request_frame(Op.CALL, (module_name("math"), "sqrt", [16], []), tag=_TAG))
    assert read_reply(replies) == (Kind.OK, _TAG, 4.0)


@pytest.mark.parametrize(
    ("frame", "why"),
    [
        (b"", "shorter than its header"),
        (_CALL[:1], "shorter than its header"),
        (_CALL[:13], "ends inside its header"),
        (build_header(Op.CALL, tag=b"t" * 200)[:33], "ends inside its header"),
        (_CALL[:-1] + b"\x09\x83j", "ends inside its header"),
        (build_header(Op.CALL, flags=Flag.HAS_BLOBS) + b"\xff" * 4, "ends inside"),
    ],
    ids=["empty", "one byte", "short", "tag past the end", "parent past the end", "blobs"],
)
def test_a_frame_without_a_readable_header_is_dropped_with_a_message(
    engine: tuple[Engine, int], capsys: pytest.CaptureFixture[str], frame: bytes, why: str
) -> None:
    eng, replies = engine
    eng.handle(memoryview(frame))
    assert nothing_to_read(replies)
    message = capsys.readouterr().err
    assert f"dropped a malformed request frame ({len(frame)} bytes)" in message
    assert why in message
    _still_serves(eng, replies)


def _body_frame(op: int, body: bytes) -> memoryview:
    return memoryview(build_header(op, tag=_TAG, session=1, caller=1) + body)


@pytest.mark.parametrize(
    ("frame", "error_type"),
    [
        (_body_frame(250, b"\x83j"), "ValueError"),
        (_body_frame(Op.CALL, b"\x83\xff"), "snakebridge._etf.DecodeError"),
        (_body_frame(Op.CALL, b"\x83"), "snakebridge._etf.DecodeError"),
        (_body_frame(Op.CALL, b"\x83a\x01\x00"), "snakebridge._etf.DecodeError"),
        (_body_frame(Op.CALL_MODULE, b"\x09math"), "IndexError"),
        (_body_frame(Op.CALL_MODULE, b"\x02\xff\xfe\x04sqrt\x83j"), "UnicodeDecodeError"),
        (_body_frame(Op.CALL_MODULE, b"\x04math\x04sqrt\x83a"), "snakebridge._etf.DecodeError"),
    ],
    ids=[
        "unknown op",
        "unknown tag",
        "no term",
        "trailing bytes",
        "names past the end",
        "names not utf-8",
        "truncated args",
    ],
)
def test_a_frame_with_a_bad_body_is_answered_with_an_error(
    engine: tuple[Engine, int], frame: memoryview, error_type: str
) -> None:
    eng, replies = engine
    eng.handle(frame)
    kind, tag, (struct, error) = read_reply(replies, _ERROR_STRUCTS)
    assert (kind, tag) == (Kind.ERROR, _TAG)
    if struct == "EncodeError":  # the request's body could not be decoded
        assert error_type == "snakebridge._etf.DecodeError"
        assert error["path"] == "(as decoded in Python)"
    else:
        assert (struct, error["type"]) == ("PythonError", error_type)
    _still_serves(eng, replies)


@pytest.mark.parametrize("op", list(Op))
@pytest.mark.parametrize("flags", [0, 1, 2, Flag.NO_REPLY, Flag.NO_REPLY | 2])
def test_parse_header_reads_what_build_header_builds(op: Op, flags: int) -> None:
    tag, parent = b"\x00" + b"t" * 40, (7).to_bytes(8, "big")
    head = build_header(op, flags=flags, tag=tag, session=2**64 - 1, caller=12345, parent=parent)
    request, offset = parse_header(head + b"\x83j")
    assert (request.op, request.flags, request.tag) == (op, flags, bytes((len(tag),)) + tag)
    assert (request.session, request.caller, request.parent) == (2**64 - 1, 12345, parent)
    assert (offset, request.wants_reply) == (len(head), not flags & Flag.NO_REPLY)


def test_a_built_header_with_blobs_leaves_room_for_the_etf_size() -> None:
    head = build_header(Op.CALL, flags=Flag.HAS_BLOBS, tag=b"x")
    etf = b"\x83j"
    frame = head + len(etf).to_bytes(4, "big") + etf + b"blob bytes"
    head_and_etf, blobs = split_frame(frame)
    _, offset = parse_header(head_and_etf)
    assert (head_and_etf[offset:], blobs.tobytes()) == (etf, b"blob bytes")


def test_build_header_refuses_a_tag_longer_than_its_length_byte() -> None:
    with pytest.raises(ValueError, match="at most 255 bytes"):
        build_header(Op.CALL, tag=b"t" * 256)
