"""The fused fast path for a lone CALL_MODULE (`_fast_path`): what it serves, and every
edge where it hands the frame to the general path, which must then answer exactly as
if the fast path did not exist."""

from __future__ import annotations

import os
import select
import struct
from collections.abc import Iterator
from typing import Any

import pytest
from engine_pipes import engine_with_pipes, nothing_to_read, read_reply

from snakebridge._etf import Atom, StructHook
from snakebridge._request import build_header, tag_of
from snakebridge._terms import make_encoder
from snakebridge._wire import Flag, Kind, Op, ReturnMode
from snakebridge._worker import Engine

_TAG = b"\x00" + struct.pack(">q", 7) + b"\x83caller"
_ERRORS: dict[str, StructHook] = {
    "Elixir.SnakeBridge.PythonError": lambda fields: ("python_error", fields),
    "Elixir.SnakeBridge.EncodeError": lambda fields: ("encode_error", fields),
}


class _Engine:
    """An engine on pipes that counts the frames its fast path served."""

    def __init__(self, engine: Engine, replies: int) -> None:
        self.engine = engine
        self.replies = replies
        self.served = 0
        fast_path = engine._fast_path

        def counting_fast_path(frame: bytes) -> bool:
            served = fast_path(frame)
            self.served += served
            return served

        engine._fast_path = counting_fast_path

    def serve(self, frame: bytes) -> tuple[int, bytes, Any]:
        self.engine.handle(memoryview(frame))
        return read_reply(self.replies, _ERRORS)

    def took_fast_path(self, frame: bytes) -> bool:
        before = self.served
        self.engine.handle(memoryview(frame))
        return self.served > before

    def has_reply(self) -> bool:
        return bool(select.select([self.replies], [], [], 0)[0])


@pytest.fixture
def engine() -> Iterator[_Engine]:
    with engine_with_pipes() as (eng, replies):
        yield _Engine(eng, replies)


def _etf(value: Any) -> bytes:
    return b"".join(bytes(c) for c in make_encoder(fallback=lambda e, o: None).encode(value))


def _call_module(
    module: str,
    name: str,
    args: list[Any] | bytes,
    *,
    kwargs: list[tuple[str, Any]] | None = None,
    flags: int = 0,
    parent: bytes = b"",
    tag: bytes = _TAG,
) -> bytes:
    """A CALL_MODULE frame as Elixir builds it: length-prefixed names, then the ETF of
    the args, or of {args, kwargs}."""
    names = bytes((len(module),)) + module.encode() + bytes((len(name),)) + name.encode()
    body = args if isinstance(args, bytes) else _etf(args if kwargs is None else (args, kwargs))
    head = build_header(Op.CALL_MODULE, flags=flags, tag=tag, session=1, caller=1, parent=parent)
    return head + names + body


def test_a_repeated_plain_call_takes_the_fast_path_and_answers_the_same(engine: _Engine) -> None:
    frame = _call_module("math", "sqrt", [16])
    # The first sight of a module and function name goes the general way, which keeps them.
    assert not engine.took_fast_path(frame)
    assert read_reply(engine.replies) == (Kind.OK, _TAG, 4.0)
    assert engine.took_fast_path(frame)
    assert read_reply(engine.replies) == (Kind.OK, _TAG, 4.0)
    assert engine.took_fast_path(_call_module("math", "sqrt", [2.25]))
    assert read_reply(engine.replies) == (Kind.OK, _TAG, 1.5)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (("builtins", "len", ["abcd"]), 4),
        (("builtins", "str", [12]), "12"),
        (("builtins", "bool", [0]), False),
        (("builtins", "print", []), None),
        (("os.path", "join", ["a", "b"]), "a/b"),
    ],
    ids=["int", "short str", "bool", "None", "dotted module"],
)
def test_scalar_results_of_every_kind(
    engine: _Engine, call: tuple[str, str, list[Any]], expected: Any
) -> None:
    frame = _call_module(*call)
    engine.serve(frame)
    assert engine.took_fast_path(frame)
    assert read_reply(engine.replies) == (Kind.OK, _TAG, expected)


@pytest.mark.parametrize(
    "flags",
    [Flag.NO_REPLY, Flag.OUTPUT_CALLER, ReturnMode.REF, ReturnMode.VALUE],
    ids=["no reply", "output to caller", "return ref", "return value"],
)
def test_any_flag_takes_the_general_path(engine: _Engine, flags: int) -> None:
    engine.serve(_call_module("math", "sqrt", [16]))
    frame = _call_module("math", "sqrt", [16], flags=flags)
    assert not engine.took_fast_path(frame)
    if flags == Flag.NO_REPLY:
        assert nothing_to_read(engine.replies)
    elif flags == ReturnMode.REF:
        kind, _, (ref, type_name) = read_reply(engine.replies)
        assert (kind, ref, type_name) == (Kind.OK, "ref", "float")
    else:
        assert read_reply(engine.replies)[2] == 4.0


def test_keyword_arguments_take_the_general_path(engine: _Engine) -> None:
    engine.serve(_call_module("builtins", "int", ["ff"]))
    frame = _call_module("builtins", "int", ["ff"], kwargs=[("base", 16)])
    assert not engine.took_fast_path(frame)
    assert read_reply(engine.replies) == (Kind.OK, _TAG, 255)


def test_a_call_nested_in_a_callback_takes_the_general_path(engine: _Engine) -> None:
    engine.serve(_call_module("math", "sqrt", [16]))
    # A parent that is waiting on no callback: the general path handles it as usual.
    frame = _call_module("math", "sqrt", [16], parent=struct.pack(">Q", 99))
    assert not engine.took_fast_path(frame)
    assert read_reply(engine.replies) == (Kind.OK, _TAG, 4.0)


@pytest.mark.parametrize("cut", [1, 3, 20, 21, 26, 27])
def test_a_short_frame_takes_the_general_path_which_reports_it(
    engine: _Engine, capsys: pytest.CaptureFixture[str], cut: int
) -> None:
    engine.serve(_call_module("math", "sqrt", [16], tag=b"t"))
    frame = _call_module("math", "sqrt", [16], tag=b"t")[:cut]
    assert not engine.took_fast_path(frame)
    if engine.has_reply():
        kind, _, (what, _fields) = read_reply(engine.replies, _ERRORS)
        assert (kind, what) in {(Kind.ERROR, "python_error"), (Kind.ERROR, "encode_error")}
    else:
        assert "dropped a malformed request frame" in capsys.readouterr().err
    assert engine.took_fast_path(_call_module("math", "sqrt", [16], tag=b"t"))


def test_arguments_that_do_not_decode_take_the_general_path(engine: _Engine) -> None:
    engine.serve(_call_module("math", "sqrt", [16]))
    frame = _call_module("math", "sqrt", b"\x83l\x00\x00\x00\x09a\x01")
    assert not engine.took_fast_path(frame)
    kind, _, (what, fields) = read_reply(engine.replies, _ERRORS)
    assert (kind, what) == (Kind.ERROR, "encode_error")
    assert "declares 9 elements" in fields[Atom("reason")]


def test_a_list_of_small_ints_as_the_vm_writes_it_takes_the_fast_path(engine: _Engine) -> None:
    # term_to_binary([16, 9]) is a STRING_EXT, which the fast path reads itself.
    engine.serve(_call_module("builtins", "max", [1]))
    assert engine.took_fast_path(_call_module("builtins", "max", b"\x83k\x00\x02\x10\x09"))
    assert read_reply(engine.replies) == (Kind.OK, _TAG, 16)


@pytest.mark.parametrize(
    "args",
    [
        b"\x83k\x00\x05\x10",
        b"\x83k\x00\x01\x10\x00",
        b"\x84k\x00\x01\x10",
        b"\x83k",
        b"\x83k\x00",
    ],
    ids=["runs past the end", "trailing byte", "bad version byte", "no size", "half a size"],
)
def test_a_malformed_list_of_small_ints_takes_the_general_path_which_reports_it(
    engine: _Engine, args: bytes
) -> None:
    engine.serve(_call_module("builtins", "max", [1]))
    assert not engine.took_fast_path(_call_module("builtins", "max", args))
    kind, _, (what, _fields) = read_reply(engine.replies, _ERRORS)
    assert (kind, what) == (Kind.ERROR, "encode_error")


def _raw_reply(fd: int) -> tuple[int, bytes]:
    """The next reply's kind and payload, undecoded."""
    (size,) = struct.unpack(">I", os.read(fd, 4))
    data = os.read(fd, size)
    return data[0], data[2 + data[1] :]


def test_a_non_scalar_result_and_a_ref_argument(engine: _Engine) -> None:
    engine.serve(_call_module("collections", "Counter", ["abca"]))
    frame = _call_module("collections", "Counter", ["abca"])
    assert engine.took_fast_path(frame)
    kind, ref = _raw_reply(engine.replies)
    assert kind == Kind.OK
    # [ref]: the ETF of a one-element list around the reply's ref term.
    args = b"\x83l\x00\x00\x00\x01" + ref[1:] + b"j"
    engine.serve(_call_module("builtins", "len", [0]))
    assert engine.took_fast_path(_call_module("builtins", "len", args))
    assert read_reply(engine.replies) == (Kind.OK, _TAG, 3)


def test_a_large_result_goes_out_whole(engine: _Engine) -> None:
    frame = _call_module("builtins", "str", [list(range(2_000))])
    engine.serve(frame)
    assert engine.took_fast_path(frame)
    kind, _, text = read_reply(engine.replies)
    assert kind == Kind.OK
    assert text == str(list(range(2_000)))


def test_an_exception_is_answered_with_the_call_named(engine: _Engine) -> None:
    engine.serve(_call_module("math", "sqrt", [16]))
    frame = _call_module("math", "sqrt", [-1])
    assert engine.took_fast_path(frame)
    kind, tag, (what, fields) = read_reply(engine.replies, _ERRORS)
    assert (kind, tag, what) == (Kind.ERROR, _TAG, "python_error")
    assert fields[Atom("type")] == "ValueError"
    assert 'File "<snakebridge>", line 1, in math.sqrt' in fields[Atom("traceback")]
    assert engine.took_fast_path(_call_module("math", "sqrt", [16]))
    assert read_reply(engine.replies) == (Kind.OK, _TAG, 4.0)


def test_a_call_cancelled_before_it_runs_is_skipped(engine: _Engine) -> None:
    engine.serve(_call_module("math", "sqrt", [16]))
    engine.engine.cancellation.cancel({tag_of(_TAG)})
    assert engine.took_fast_path(_call_module("math", "sqrt", [16]))
    kind, tag, reason = read_reply(engine.replies)
    assert (kind, tag, reason) == (Kind.ERROR, _TAG, Atom("cancelled"))
    assert engine.engine.inflight.active == []


def test_the_called_function_sees_main_as_its_callers_module(engine: _Engine) -> None:
    frame = _call_module("collections", "namedtuple", ["Point", "x y"])
    engine.serve(frame)
    assert engine.took_fast_path(frame)
    read_reply(engine.replies)
    points = [
        obj for obj in engine.engine.registry.session(1).refs.values() if isinstance(obj, type)
    ]
    assert {point.__module__ for point in points} == {"__main__"}


def test_a_coroutine_result_is_awaited(engine: _Engine) -> None:
    frame = _call_module("asyncio", "sleep", [0, "done"])
    engine.serve(frame)
    assert engine.took_fast_path(frame)
    assert read_reply(engine.replies) == (Kind.OK, _TAG, "done")


def test_a_coroutine_that_raises_is_answered_with_the_call_named(engine: _Engine) -> None:
    frame = _call_module("asyncio", "sleep", ["not a number"])
    engine.serve(frame)
    assert engine.took_fast_path(frame)
    kind, _, (what, fields) = read_reply(engine.replies, _ERRORS)
    assert (kind, what) == (Kind.ERROR, "python_error")
    assert "in asyncio.sleep" in fields[Atom("traceback")]
