"""Op handlers for the Python idioms: iteration, len/in, and with-blocks."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any

import pytest
from engine_pipes import engine_with_pipes, module_name, nothing_to_read, read_reply, request_frame

from snakebridge._channel import FrameReader, FrameWriter
from snakebridge._errors import ElixirError, RefError
from snakebridge._idioms import (
    IterBatch,
    op_contains,
    op_ctx_enter,
    op_ctx_exit,
    op_iter_close,
    op_iter_next,
    op_len,
)
from snakebridge._op_context import OpContext
from snakebridge._ops import op_release_session
from snakebridge._reentry import check_stack_room
from snakebridge._registry import Registry
from snakebridge._request import Request
from snakebridge._wire import Flag, Kind, Op
from snakebridge._worker import Engine


def _request(op: Op, *body: Any, session: int = 1) -> Request:
    request = Request(op, 0, b"\x01T", session, 9, b"")
    request.body = body
    return request


def _next(iterator: Iterator[Any], max_items: int) -> IterBatch:
    return op_iter_next(None, _request(Op.ITER_NEXT, iterator, max_items))  # type: ignore[arg-type]


def _close(iterator: Any) -> None:
    op_iter_close(None, _request(Op.ITER_CLOSE, iterator))  # type: ignore[arg-type]


@pytest.fixture
def ctx() -> Iterator[OpContext]:
    """What an engine on a pipe pair gives its handlers: enough for handlers that never reply."""
    read_fd, write_fd = os.pipe()
    yield Engine(
        reader=FrameReader(read_fd, max_frame=1 << 20),
        writer=FrameWriter(write_fd, max_frame=1 << 20),
        registry=Registry(max_refs=100),
        worker_term=b"",
    ).context
    os.close(read_fd)
    os.close(write_fd)


# ---------------------------------------------------------------------- iteration


def test_iter_next_returns_a_full_batch_as_cont_and_a_short_one_as_done() -> None:
    iterator = iter(range(5))
    assert _next(iterator, 3) == IterBatch([0, 1, 2], "cont")
    assert _next(iterator, 3) == IterBatch([3, 4], "done")


def test_iter_next_of_exactly_a_batch_says_cont_then_an_empty_done() -> None:
    iterator = iter(range(2))
    assert _next(iterator, 2) == IterBatch([0, 1], "cont")
    assert _next(iterator, 2) == IterBatch([], "done")


def test_iter_next_keeps_the_items_before_an_exception() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("boom")

    batch = _next(failing(), 10)
    assert (batch.items, batch.status) == ([1, 2], "error")
    assert isinstance(batch.error, ValueError)


def test_a_batch_ends_right_after_an_item_that_is_not_plain_data() -> None:
    import itertools

    groups = itertools.groupby("AAB")
    first = _next(groups, 100)
    assert first.status == "cont" and len(first.items) == 1
    key, group = first.items[0]
    assert (key, list(group)) == ("A", ["A", "A"])  # still valid: not advanced past
    second = _next(groups, 100)
    assert second.items[0][0] == "B" and list(second.items[0][1]) == ["B"]
    assert _next(groups, 100) == IterBatch([], "done")


def test_plain_items_and_containers_of_them_fill_the_batch() -> None:
    plain = [1, 2.5, "a", b"b", None, True, (1, "x"), [2, [3]], {"k": (4,)}]
    assert _next(iter(x for x in plain), 100) == IterBatch(plain, "done")
    marker = object()
    gen = iter(x for x in [1, marker, 2])
    assert _next(gen, 100) == IterBatch([1, marker], "cont")
    assert _next(gen, 100) == IterBatch([2], "done")


def test_container_iterators_are_pulled_in_bulk_whatever_their_items() -> None:
    objects = [object() for _ in range(5)]
    assert _next(iter(objects), 3) == IterBatch(objects[:3], "cont")
    assert _next(iter({"a": objects[0]}.values()), 3) == IterBatch([objects[0]], "done")


def test_iter_next_never_advances_past_the_batch() -> None:
    produced: list[int] = []

    def logged() -> Iterator[int]:
        for i in range(100):
            produced.append(i)
            yield i

    gen = logged()
    _next(gen, 4)
    assert produced == [0, 1, 2, 3]


def test_iter_close_closes_a_generator_so_its_finally_runs() -> None:
    closed: list[bool] = []

    def gen() -> Iterator[int]:
        try:
            yield 1
            yield 2
        finally:
            closed.append(True)

    g = gen()
    _next(g, 1)
    _close(g)
    assert closed == [True]
    assert list(g) == []


def test_iter_close_leaves_a_file_open() -> None:
    file = io.StringIO("a\nb\nc\n")
    assert _next(file, 1).items == ["a\n"]
    _close(file)
    assert not file.closed
    assert file.readline() == "b\n"


def test_iter_close_leaves_other_iterators_with_a_close_method_alone() -> None:
    class Closable:
        closed = False

        def __iter__(self) -> Closable:
            return self

        def __next__(self) -> int:
            return 1

        def close(self) -> None:
            self.closed = True

    iterator = Closable()
    _close(iterator)
    _close(iter([1, 2]))
    assert not iterator.closed


# ---------------------------------------------------------------------- len and in


def test_len_and_contains_use_the_protocols() -> None:
    assert op_len(None, _request(Op.LEN, [1, 2, 3])) == 3  # type: ignore[arg-type]
    assert op_contains(None, _request(Op.CONTAINS, {"k": 1}, "k")) is True  # type: ignore[arg-type]


def test_contains_refuses_objects_without_contains_and_does_not_consume_them() -> None:
    gen = (i for i in range(3))
    with pytest.raises(TypeError, match="has no __contains__"):
        op_contains(None, _request(Op.CONTAINS, gen, 1))  # type: ignore[arg-type]
    assert list(gen) == [0, 1, 2]


# ---------------------------------------------------------------------- with-blocks


class _Manager:
    def __init__(self, exit_with: Any = False) -> None:
        self.exit_with = exit_with
        self.seen: list[Any] = []

    def __enter__(self) -> str:
        return "entered"

    def __exit__(self, kind: Any, value: Any, tb: Any) -> Any:
        self.seen.append(value)
        if isinstance(self.exit_with, BaseException):
            raise self.exit_with
        if self.exit_with == "reraise" and value is not None:
            raise value
        return self.exit_with


def _enter(ctx: OpContext, manager: Any) -> int:
    context_id, value = op_ctx_enter(ctx, _request(Op.CTX_ENTER, manager))
    assert value == "entered"
    return context_id


def _exit(ctx: OpContext, context_id: int, error: Any) -> bool:
    return op_ctx_exit(ctx, _request(Op.CTX_EXIT, context_id, error))


_ELIXIR_ERROR = ("** (RuntimeError) boom", "RuntimeError", "    test.exs:1: f/0")


def test_ctx_exit_on_success_passes_none(ctx: OpContext) -> None:
    manager = _Manager()
    assert _exit(ctx, _enter(ctx, manager), None) is False
    assert manager.seen == [None]


def test_ctx_exit_passes_an_elixir_error_and_reports_suppression(ctx: OpContext) -> None:
    manager = _Manager(exit_with=True)
    assert _exit(ctx, _enter(ctx, manager), _ELIXIR_ERROR) is True
    (error,) = manager.seen
    assert isinstance(error, ElixirError)
    assert (str(error).splitlines()[0], error.kind) == ("** (RuntimeError) boom", "RuntimeError")


def test_an_error_raised_by_exit_chains_the_elixir_error(ctx: OpContext) -> None:
    manager = _Manager(exit_with=ValueError("exit failed"))
    context_id = _enter(ctx, manager)
    with pytest.raises(ValueError, match="exit failed") as info:
        _exit(ctx, context_id, _ELIXIR_ERROR)
    assert isinstance(info.value.__context__, ElixirError)


def test_exit_reraising_the_elixir_error_does_not_suppress_it(ctx: OpContext) -> None:
    manager = _Manager(exit_with="reraise")
    assert _exit(ctx, _enter(ctx, manager), _ELIXIR_ERROR) is False


def test_a_context_is_exited_once(ctx: OpContext) -> None:
    context_id = _enter(ctx, _Manager())
    _exit(ctx, context_id, None)
    with pytest.raises(Exception, match="already exited"):
        _exit(ctx, context_id, None)


def test_session_release_exits_open_contexts_innermost_first(ctx: OpContext) -> None:
    order: list[str] = []

    class Named(_Manager):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        def __exit__(self, kind: Any, value: Any, tb: Any) -> Any:
            order.append(self.name)
            assert isinstance(value, ElixirError)
            return False

    _enter(ctx, Named("outer"))
    _enter(ctx, Named("inner"))
    op_release_session(ctx, _request(Op.RELEASE_SESSION))
    assert order == ["inner", "outer"]


# ---------------------------------------------------------------------- release

# Objects the calls below return, by name, so that a later call can return one again.
_kept: dict[str, object] = {}


def returns(names: list[str], new: int, padding: int = 0) -> list[object]:
    """Run as a call: the objects named (kept on first use), `new` fresh objects, and a
    string of `padding` bytes."""
    return (
        [_kept.setdefault(name, object()) for name in names]
        + [object() for _ in range(new)]
        + ["x" * padding]
    )


def _call_returns(eng: Engine, replies: int, *args: Any) -> list[Any]:
    call = (module_name(__name__), "returns", list(args), [])
    eng.handle(request_frame(Op.CALL, call, tag=b"\x83t"))
    _kind, _tag, value = read_reply(replies, {"Elixir.SnakeBridge.Ref": lambda f: f["id"]})
    assert isinstance(value, list)
    return value[:-1]


def _alive(eng: Engine, ref_id: bytes) -> bool:
    try:
        eng.registry.lookup(0, ref_id)
    except RefError:
        return False
    return True


@pytest.fixture
def engine() -> Iterator[tuple[Engine, int]]:
    with engine_with_pipes() as pair:
        yield pair
    _kept.clear()


def test_release_made_frees_what_a_reply_made_and_not_a_ref_it_carried_again(
    engine: tuple[Engine, int],
) -> None:
    eng, replies = engine
    [held] = _call_returns(eng, replies, ["held"], 0)
    carried = _call_returns(eng, replies, ["held"], 2)  # the reply that is given up on
    assert carried[0] == held
    eng.handle(request_frame(Op.RELEASE_MADE, (carried,), flags=Flag.NO_REPLY))
    assert nothing_to_read(replies)
    assert [_alive(eng, ref_id) for ref_id in carried] == [True, False, False]


def test_release_made_keeps_a_ref_that_a_later_reply_carried(
    engine: tuple[Engine, int],
) -> None:
    eng, replies = engine
    given_up = _call_returns(eng, replies, ["a"], 1)
    delivered = _call_returns(eng, replies, ["a"], 0)  # written before the release came
    eng.handle(request_frame(Op.RELEASE_MADE, (given_up,), flags=Flag.NO_REPLY))
    assert [_alive(eng, ref_id) for ref_id in given_up] == [True, False]
    assert delivered == given_up[:1]


def test_a_reply_over_max_frame_drops_the_refs_it_made_and_not_one_it_carried(
    engine: tuple[Engine, int],
) -> None:
    eng, replies = engine
    [held] = _call_returns(eng, replies, ["held"], 0)
    call = (module_name(__name__), "returns", [["held"], 3, 2 << 20], [])
    eng.handle(request_frame(Op.CALL, call, tag=b"\x83t"))
    kind, _tag, error = read_reply(replies, {"Elixir.SnakeBridge.PythonError": dict})
    assert kind == Kind.ERROR
    assert error["type"] == "snakebridge._channel.FrameTooLarge"
    assert _alive(eng, held)
    # Those three, and the error's own ref (PythonError.ref): the session's last error.
    assert eng.registry.counts() == (1, 2)


# ---------------------------------------------------------------------- stack room


def test_check_stack_room_passes_on_a_shallow_stack() -> None:
    check_stack_room()


def test_check_stack_room_refuses_near_the_recursion_limit() -> None:
    def descend_then_check(levels: int) -> None:
        if levels:
            descend_then_check(levels - 1)
        else:
            check_stack_room()

    limit = sys.getrecursionlimit()
    depth = len(_frames())
    descend_then_check(limit // 2 - depth)  # plenty of room left: passes
    with pytest.raises(RecursionError, match="nested too deeply"):
        descend_then_check(limit - depth - 150)


def _frames() -> list[FrameType]:
    frames = []
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    return frames
