"""The control thread's dispatch: what it runs itself, hands on, or refuses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from engine_pipes import engine_with_pipes, nothing_to_read, read_reply, request_frame

from snakebridge._etf import Atom, StructHook
from snakebridge._wire import Flag, Kind, Op
from snakebridge._worker import Engine

_TAG = b"\x83ctl"
_ERRORS: dict[str, StructHook] = {
    "Elixir.SnakeBridge.PythonError": lambda fields: ("PythonError", fields)
}


@pytest.fixture
def engine() -> Iterator[tuple[Engine, int]]:
    with engine_with_pipes() as pair:
        yield pair


def test_stats_are_answered_on_the_control_thread(engine: tuple[Engine, int]) -> None:
    eng, replies = engine
    eng.control.handle(request_frame(Op.STATS, (), tag=_TAG))
    kind, tag, stats = read_reply(replies)
    assert (kind, tag) == (Kind.OK, _TAG)
    assert {"sessions", "refs", "pending", "callbacks", "os_pid", "rss", "python_blocks"} <= set(
        stats
    )
    assert (stats["pending"], stats["callbacks"]) == (0, 0)


def test_a_callback_result_nobody_waits_for_is_reported_and_not_answered(
    engine: tuple[Engine, int], capsys: pytest.CaptureFixture[str]
) -> None:
    eng, replies = engine
    eng.control.handle(request_frame(Op.CALLBACK_RESULT, (41, ("ok", 1))))
    assert "no thread waits on callback 41" in capsys.readouterr().err
    assert nothing_to_read(replies)


def test_a_call_that_nests_in_no_callback_is_refused_and_not_run(
    engine: tuple[Engine, int], capsys: pytest.CaptureFixture[str]
) -> None:
    eng, replies = engine
    eng.control.handle(request_frame(Op.EVAL, ("raise SystemExit", []), tag=_TAG))
    assert f"unexpected control op {int(Op.EVAL)}" in capsys.readouterr().err
    assert nothing_to_read(replies)


def test_a_nested_request_with_an_unknown_op_is_answered_with_an_error(
    engine: tuple[Engine, int],
) -> None:
    eng, replies = engine
    eng.control.handle(request_frame(250, (), tag=_TAG, parent=(7).to_bytes(8, "big")))
    kind, tag, (struct, error) = read_reply(replies, _ERRORS)
    assert (kind, tag, struct, error["type"]) == (Kind.ERROR, _TAG, "PythonError", "ValueError")


def test_a_cancel_of_nothing_in_flight_answers_queued(engine: tuple[Engine, int]) -> None:
    eng, replies = engine
    eng.control.handle(request_frame(Op.CANCEL, ([b"\x83gone"],), tag=_TAG))
    assert read_reply(replies) == (Kind.OK, _TAG, Atom("queued"))
    eng.control.handle(request_frame(Op.CANCEL, ([b"\x83gone"],), flags=Flag.NO_REPLY))
    assert nothing_to_read(replies)
