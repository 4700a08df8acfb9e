"""Cancellation, as Elixir sees it: what the control socket answers, and what becomes of
the calls it cancels when the main loop reads or runs them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from engine_pipes import (
    engine_with_pipes,
    module_name,
    nothing_to_read,
    read_reply,
    request_frame,
)

from snakebridge._etf import Atom
from snakebridge._wire import Flag, Kind, Op
from snakebridge._worker import Engine

_CALL_TAG = b"\x83call-7"
_ANSWER_TAG = b"\x83answer"
_CANCELLED = (Kind.ERROR, _CALL_TAG, Atom("cancelled"))
_SQRT = (module_name("math"), "sqrt", [16], [])

# The engine the call below cancels itself on (tests run one at a time).
_engine: list[Engine] = []


@pytest.fixture
def engine() -> Iterator[tuple[Engine, int]]:
    """An engine whose replies can be read back from the returned fd."""
    with engine_with_pipes() as pair:
        _engine.append(pair[0])
        yield pair
        _engine.clear()


def cancel_me_from_another_thread(tag: bytes) -> str:
    """Run as a call: have the control socket cancel it, then wait to be interrupted."""
    frame = request_frame(Op.CANCEL, ([tag],), tag=_ANSWER_TAG)
    threading.Thread(target=_engine[0].control.handle, args=(frame,)).start()
    for _ in range(2000):
        time.sleep(0.01)
    return "not interrupted"


def _call(caller: int = 9) -> memoryview:
    return request_frame(Op.CALL, _SQRT, tag=_CALL_TAG, caller=caller)


def test_cancel_answers_queued_and_the_call_is_skipped_when_read(
    engine: tuple[Engine, int],
) -> None:
    eng, replies = engine
    eng.control.handle(request_frame(Op.CANCEL, ([_CALL_TAG],), tag=_ANSWER_TAG))
    assert read_reply(replies) == (Kind.OK, _ANSWER_TAG, Atom("queued"))
    eng.handle(_call())
    assert read_reply(replies) == _CANCELLED


def test_cancel_answers_running_and_interrupts_a_call_in_progress(
    engine: tuple[Engine, int],
) -> None:
    eng, replies = engine
    call = (module_name(__name__), "cancel_me_from_another_thread", [_CALL_TAG], [])
    eng.handle(request_frame(Op.CALL, call, tag=_CALL_TAG))
    answers = {read_reply(replies), read_reply(replies)}
    assert answers == {(Kind.OK, _ANSWER_TAG, Atom("running")), _CANCELLED}


def test_cancel_flagged_no_reply_answers_nothing_and_still_cancels(
    engine: tuple[Engine, int],
) -> None:
    eng, replies = engine
    eng.control.handle(request_frame(Op.CANCEL, ([_CALL_TAG],), flags=Flag.NO_REPLY))
    assert nothing_to_read(replies)
    eng.handle(_call())
    assert read_reply(replies) == _CANCELLED


def _cancel_caller(eng: Engine, caller: int) -> None:
    eng.control.handle(request_frame(Op.CANCEL_CALLER, (caller,), flags=Flag.NO_REPLY))


def _caller_done(eng: Engine, caller: int) -> None:
    eng.handle(request_frame(Op.CALLER_DONE, (caller,), flags=Flag.NO_REPLY))


def test_a_dead_callers_calls_are_skipped_until_its_caller_done_is_read(
    engine: tuple[Engine, int],
) -> None:
    eng, replies = engine
    _cancel_caller(eng, 9)
    eng.handle(_call(caller=9))
    assert read_reply(replies) == _CANCELLED
    _caller_done(eng, 9)
    eng.handle(_call(caller=9))
    assert read_reply(replies) == (Kind.OK, _CALL_TAG, 4.0)


def test_a_caller_done_read_before_the_cancel_leaves_no_mark(engine: tuple[Engine, int]) -> None:
    eng, replies = engine
    _caller_done(eng, 5)
    _cancel_caller(eng, 5)
    eng.handle(_call(caller=5))
    assert read_reply(replies) == (Kind.OK, _CALL_TAG, 4.0)
    assert nothing_to_read(replies)


def test_marks_of_many_dead_callers_do_not_accumulate(engine: tuple[Engine, int]) -> None:
    eng, replies = engine
    for caller in range(1000, 3000):
        _cancel_caller(eng, caller)
        _caller_done(eng, caller)
    assert len(eng.cancellation.callers) == 0
    # Nor is a CALLER_DONE left over to swallow a later cancel of the same caller.
    _cancel_caller(eng, 1000)
    eng.handle(_call(caller=1000))
    assert read_reply(replies) == _CANCELLED
    assert nothing_to_read(replies)
