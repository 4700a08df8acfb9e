"""Cancellation bookkeeping of the Engine: what the control thread answers and marks."""

from __future__ import annotations

import os
import signal
import struct
from collections.abc import Iterator
from typing import Any

import pytest

from snakebridge._channel import FrameReader, FrameWriter
from snakebridge._etf import Atom, Decoder
from snakebridge._ops import HANDLERS
from snakebridge._registry import Registry
from snakebridge._request import Request
from snakebridge._terms import make_encoder
from snakebridge._wire import Flag, Kind, Op
from snakebridge._worker import Engine

_CALL_TAG = b"\x83call-7"
_ANSWER_TAG = b"\x83answer"


@pytest.fixture
def engine() -> Iterator[tuple[Engine, int]]:
    """An engine whose replies can be read back from the returned fd."""
    request_r, request_w = os.pipe()
    reply_r, reply_w = os.pipe()
    # The control thread interrupts main with SIGINT; here main is the test itself.
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None)
    yield (
        Engine(
            reader=FrameReader(request_r, max_frame=1 << 20),
            writer=FrameWriter(reply_w, max_frame=1 << 20),
            registry=Registry(max_refs=100),
            worker_term=b"",
        ),
        reply_r,
    )
    signal.signal(signal.SIGINT, previous)
    for fd in (request_r, request_w, reply_r, reply_w):
        os.close(fd)


def _frame(op: Op, body: tuple[Any, ...], *, tag: bytes = b"", flags: int = 0) -> memoryview:
    head = bytes((op, flags, len(tag))) + tag + struct.pack(">QQ", 0, 0) + b"\x00"
    chunks = make_encoder(fallback=lambda enc, obj: None).encode(body)
    return memoryview(head + b"".join(bytes(c) for c in chunks))


def _reply(reply_fd: int) -> tuple[int, bytes, Any]:
    (size,) = struct.unpack(">I", os.read(reply_fd, 4))
    data = os.read(reply_fd, size)
    kind, tag_len = data[0], data[1]
    payload = data[2 + tag_len :]
    return kind, data[2 : 2 + tag_len], Decoder().decode(payload, 0)


def _call(caller: int = 9) -> Request:
    return Request(Op.CALL, 0, bytes((len(_CALL_TAG),)) + _CALL_TAG, 1, caller, b"")


def test_cancel_answers_queued_for_a_call_not_started(engine: tuple[Engine, int]) -> None:
    eng, replies = engine
    eng.control(_frame(Op.CANCEL, ([_CALL_TAG],), tag=_ANSWER_TAG))
    assert _reply(replies) == (Kind.OK, _ANSWER_TAG, Atom("queued"))
    # The call is skipped when main reaches it.
    assert eng._is_marked(_call())


def test_cancel_answers_running_for_a_call_in_progress(engine: tuple[Engine, int]) -> None:
    eng, replies = engine
    eng.active.append(_call())
    eng.control(_frame(Op.CANCEL, ([_CALL_TAG],), tag=_ANSWER_TAG))
    assert _reply(replies) == (Kind.OK, _ANSWER_TAG, Atom("running"))


def test_cancel_flagged_no_reply_answers_nothing(engine: tuple[Engine, int]) -> None:
    eng, replies = engine
    eng.control(_frame(Op.CANCEL, ([_CALL_TAG],), flags=Flag.NO_REPLY))
    os.set_blocking(replies, False)
    with pytest.raises(BlockingIOError):
        os.read(replies, 1)
    assert eng._is_marked(_call())


def test_a_dead_callers_mark_lasts_until_its_last_frame_is_read(
    engine: tuple[Engine, int],
) -> None:
    eng, _ = engine
    eng.control(_frame(Op.CANCEL_CALLER, (9,), flags=Flag.NO_REPLY))
    assert eng._is_marked(_call(caller=9))
    HANDLERS[Op.CANCEL_CALLER](eng, _request_with_body(Op.CANCEL_CALLER, 9))
    assert not eng._is_marked(_call(caller=9))
    assert eng._callers_done == set()


def test_a_last_frame_read_before_the_cancel_leaves_no_mark(engine: tuple[Engine, int]) -> None:
    eng, _ = engine
    HANDLERS[Op.CANCEL_CALLER](eng, _request_with_body(Op.CANCEL_CALLER, 5))
    eng.control(_frame(Op.CANCEL_CALLER, (5,), flags=Flag.NO_REPLY))
    assert not eng._is_marked(_call(caller=5))
    assert eng._callers_done == set()


def test_marks_of_many_dead_callers_do_not_accumulate(engine: tuple[Engine, int]) -> None:
    eng, _ = engine
    for caller in range(1000, 3000):
        eng.control(_frame(Op.CANCEL_CALLER, (caller,), flags=Flag.NO_REPLY))
        HANDLERS[Op.CANCEL_CALLER](eng, _request_with_body(Op.CANCEL_CALLER, caller))
    assert len(eng._dead_callers) == 0
    assert eng._callers_done == set()


def _request_with_body(op: Op, *body: Any) -> Request:
    request = Request(op, Flag.NO_REPLY, b"\x00", 0, 0, b"")
    request.body = body
    return request
