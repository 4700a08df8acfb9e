"""Cancellation bookkeeping of the Engine: what the control thread answers and marks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from engine_pipes import engine_with_pipes, read_reply, request_frame

from snakebridge._etf import Atom
from snakebridge._ops import HANDLERS
from snakebridge._request import Request
from snakebridge._wire import Flag, Kind, Op
from snakebridge._worker import Engine

_CALL_TAG = b"\x83call-7"
_ANSWER_TAG = b"\x83answer"


@pytest.fixture
def engine() -> Iterator[tuple[Engine, int]]:
    """An engine whose replies can be read back from the returned fd."""
    with engine_with_pipes() as pair:
        yield pair


def _call(caller: int = 9) -> Request:
    return Request(Op.CALL, 0, bytes((len(_CALL_TAG),)) + _CALL_TAG, 1, caller, b"")


def test_cancel_answers_queued_for_a_call_not_started(engine: tuple[Engine, int]) -> None:
    eng, replies = engine
    eng.control(request_frame(Op.CANCEL, ([_CALL_TAG],), tag=_ANSWER_TAG))
    assert read_reply(replies) == (Kind.OK, _ANSWER_TAG, Atom("queued"))
    # The call is skipped when main reaches it.
    assert eng._is_marked(_call())


def test_cancel_answers_running_for_a_call_in_progress(engine: tuple[Engine, int]) -> None:
    eng, replies = engine
    eng.active.append(_call())
    eng.control(request_frame(Op.CANCEL, ([_CALL_TAG],), tag=_ANSWER_TAG))
    assert read_reply(replies) == (Kind.OK, _ANSWER_TAG, Atom("running"))


def test_cancel_flagged_no_reply_answers_nothing(engine: tuple[Engine, int]) -> None:
    eng, replies = engine
    eng.control(request_frame(Op.CANCEL, ([_CALL_TAG],), flags=Flag.NO_REPLY))
    os.set_blocking(replies, False)
    with pytest.raises(BlockingIOError):
        os.read(replies, 1)
    assert eng._is_marked(_call())


def test_a_dead_callers_mark_lasts_until_its_last_frame_is_read(
    engine: tuple[Engine, int],
) -> None:
    eng, _ = engine
    eng.control(request_frame(Op.CANCEL_CALLER, (9,), flags=Flag.NO_REPLY))
    assert eng._is_marked(_call(caller=9))
    HANDLERS[Op.CANCEL_CALLER](eng, _request_with_body(Op.CANCEL_CALLER, 9))
    assert not eng._is_marked(_call(caller=9))
    assert eng._callers_done == set()


def test_a_last_frame_read_before_the_cancel_leaves_no_mark(engine: tuple[Engine, int]) -> None:
    eng, _ = engine
    HANDLERS[Op.CANCEL_CALLER](eng, _request_with_body(Op.CANCEL_CALLER, 5))
    eng.control(request_frame(Op.CANCEL_CALLER, (5,), flags=Flag.NO_REPLY))
    assert not eng._is_marked(_call(caller=5))
    assert eng._callers_done == set()


def test_marks_of_many_dead_callers_do_not_accumulate(engine: tuple[Engine, int]) -> None:
    eng, _ = engine
    for caller in range(1000, 3000):
        eng.control(request_frame(Op.CANCEL_CALLER, (caller,), flags=Flag.NO_REPLY))
        HANDLERS[Op.CANCEL_CALLER](eng, _request_with_body(Op.CANCEL_CALLER, caller))
    assert len(eng._dead_callers) == 0
    assert eng._callers_done == set()


def _request_with_body(op: Op, *body: Any) -> Request:
    request = Request(op, Flag.NO_REPLY, b"\x00", 0, 0, b"")
    request.body = body
    return request
