"""The REPORT_START flag: the worker says it has taken a request up, before it decodes
the body or runs anything, so a caller whose worker dies without that word knows the
request never started (docs/LIFECYCLE.md, "Crashes")."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator

import pytest
from engine_pipes import engine_with_pipes, module_name, read_reply, request_frame

from snakebridge._request import build_header
from snakebridge._wire import Flag, Kind, Op
from snakebridge._worker import Engine

_TAG = b"\x83tag"


@pytest.fixture
def engine() -> Iterator[tuple[Engine, int]]:
    with engine_with_pipes() as pair:
        yield pair


def _read_raw(fd: int) -> bytes:
    (size,) = struct.unpack(">I", os.read(fd, 4))
    return os.read(fd, size)


def _sqrt(flags: int) -> memoryview:
    return request_frame(Op.CALL, (module_name("math"), "sqrt", [16], []), tag=_TAG, flags=flags)


def test_a_flagged_request_is_reported_started_before_its_reply(
    engine: tuple[Engine, int],
) -> None:
    eng, replies = engine
    eng.handle(_sqrt(Flag.REPORT_START))
    assert _read_raw(replies) == bytes((Kind.STARTED, len(_TAG))) + _TAG
    assert read_reply(replies) == (Kind.OK, _TAG, 4.0)


def test_an_unflagged_request_gets_its_reply_alone(engine: tuple[Engine, int]) -> None:
    eng, replies = engine
    eng.handle(_sqrt(0))
    eng.handle(_sqrt(Flag.NO_REPLY))
    eng.handle(_sqrt(0))
    assert read_reply(replies) == (Kind.OK, _TAG, 4.0)
    assert read_reply(replies) == (Kind.OK, _TAG, 4.0)


def test_the_start_is_reported_before_the_body_is_decoded(engine: tuple[Engine, int]) -> None:
    eng, replies = engine
    head = build_header(Op.CALL, flags=Flag.REPORT_START, tag=_TAG, session=1, caller=1)
    eng.handle(memoryview(head + b"\x83\xff"))
    assert _read_raw(replies) == bytes((Kind.STARTED, len(_TAG))) + _TAG
    kind, tag, _error = read_reply(replies, {"Elixir.SnakeBridge.EncodeError": dict})
    assert (kind, tag) == (Kind.ERROR, _TAG)
