"""The frames of a callback's round trip on the main thread: the CALLBACK payload the
engine writes (by hand when every argument is a scalar, else through the encoder) and
the CALLBACK_RESULT it reads (its `{id, {:ok, value}}` start parsed by hand, anything
else decoded whole). Either way the terms must be what the general codec gives."""

from __future__ import annotations

import builtins
import math
import os
import struct
from typing import Any, cast

import pytest
from engine_pipes import engine_fed_by_pipe, read_reply

from snakebridge._etf import Atom, DecodeError, Decoder, ErlFun
from snakebridge._ops import callback_result
from snakebridge._replies import _scalar_callback_term
from snakebridge._request import build_header, tag_of
from snakebridge._terms import make_encoder
from snakebridge._wire import Flag, Kind, Op

# &String.length/1 as the VM writes it (EXPORT_EXT), without the version byte.
_LENGTH = ErlFun(
    bytes((113, 100, 0, 13)) + b"Elixir.String" + bytes((100, 0, 6)) + b"length" + b"a\x01",
    1,
    "Elixir.String",
    "length",
)
_TAG = b"\x05tag01"
_ERRORS = {"Elixir.SnakeBridge.PythonError": lambda fields: fields}


def _encoder() -> Any:
    encoder = make_encoder(fallback=lambda enc, obj: None)
    encoder.register(ErlFun, lambda enc, fun: enc.raw(fun.term))
    return encoder


def _etf(term: Any) -> bytes:
    return b"".join(bytes(chunk) for chunk in _encoder().encode(term))


def _as_otp25(etf: bytes) -> bytes:
    """`etf` with its :ok written as OTP 25's term_to_binary writes it (ATOM_EXT)."""
    return etf.replace(b"w\x02ok", b"d\x00\x02ok", 1)


def _decoder() -> Decoder:
    return Decoder(fun=lambda fun: fun)


@pytest.mark.parametrize(
    "args",
    [(), (7,), (300, -5, 2**70), (1.5, "text", None, True, False), ("é",)],
)
@pytest.mark.parametrize("ids", [(1, 0), (256, 70_000), (2**40, 2**63)])
def test_a_callback_of_scalars_is_written_as_the_encoder_writes_it(
    args: tuple[Any, ...], ids: tuple[int, int]
) -> None:
    callback_id, owner = ids
    for channel in ("main", "control"):
        payload = (callback_id, _LENGTH, list(args), Atom(channel), owner)
        assert _scalar_callback_term(payload) == _etf(payload)


@pytest.mark.parametrize("count", [15, 16, 255, 256, 300])
def test_a_callback_of_many_arguments_is_written_as_the_encoder_writes_it(count: int) -> None:
    # The last argument does not fit in 32 bits, so the encoder writes each int alone.
    payload = (1, _LENGTH, [*range(count - 1), 2**40], Atom("main"), 0)
    assert _scalar_callback_term(payload) == _etf(payload)


@pytest.mark.parametrize("count", [16, 300])
def test_a_callback_of_many_small_ints_reads_back_as_the_encoder_writes_it(count: int) -> None:
    # From 16 ints that fit in 32 bits the encoder writes them all as INTEGER_EXTs, where
    # small ones are SMALL_INTEGER_EXTs here: other bytes, the same term.
    payload = (1, _LENGTH, list(range(count)), Atom("main"), 0)
    term = _scalar_callback_term(payload)
    assert term is not None
    assert term != _etf(payload)
    assert _decoder().decode(term) == _decoder().decode(_etf(payload))


@pytest.mark.parametrize("args", [([1],), ({"a": 1},), ("x" * 10_000,), (1, object())])
def test_a_callback_with_an_argument_that_is_no_scalar_goes_to_the_encoder(
    args: tuple[Any, ...],
) -> None:
    assert _scalar_callback_term((1, _LENGTH, list(args), Atom("main"), 0)) is None


@pytest.mark.parametrize("callback_id", [1, 255, 256, 2**31 - 1, 2**31, 2**40])
@pytest.mark.parametrize(
    "value",
    # The ints and floats of the first row are read by hand, the rest decoded.
    [
        *(0, 42, 255, 256, -1, 70_000, -(2**31), 2**31 - 1, 2.5, -0.0, 1.5e300, -2.25e-300),
        *(2**31, -(2**31) - 1, 2**70, "text", [1, "two", [3.0]], {"k": (1, 2)}, None, (), []),
    ],
)
@pytest.mark.parametrize("otp25", [False, True])
def test_a_callback_result_reads_as_the_decoder_reads_it(
    callback_id: int, value: Any, otp25: bool
) -> None:
    etf = _etf((callback_id, (Atom("ok"), value)))
    etf = _as_otp25(etf) if otp25 else etf
    frame = b"head" + etf
    got = callback_result(_decoder(), frame, 4)
    assert got == _decoder().decode(frame, 4) == (callback_id, ("ok", value))


def test_an_error_outcome_is_decoded_whole() -> None:
    outcome = (Atom("error"), "** (RuntimeError) boom", "RuntimeError", "stack")
    frame = _etf((3, outcome))
    assert callback_result(_decoder(), frame, 0) == (3, outcome)


def test_a_malformed_value_after_a_well_formed_start_is_a_decode_error() -> None:
    frame = _etf((3, (Atom("ok"), [1, 2])))[:-2]
    with pytest.raises(DecodeError, match="truncated"):
        callback_result(_decoder(), frame, 0)


class _NoDecoder:
    def decode(self, data: bytes, offset: int = 0) -> Any:
        raise AssertionError("the decoder was called")


@pytest.mark.parametrize(
    "value", [0, 255, 256, -1, 70_000, -(2**31), 2**31 - 1, 2.5, -0.0, 1.5e300, -2.25e-300]
)
def test_a_value_of_one_int_or_float_is_read_without_the_decoder(value: Any) -> None:
    for etf in (_etf((7, (Atom("ok"), value))), _as_otp25(_etf((7, (Atom("ok"), value))))):
        callback_id, (ok, got) = callback_result(cast(Decoder, _NoDecoder()), etf, 0)
        assert (callback_id, ok, got, type(got)) == (7, "ok", value, type(value))
        if type(value) is float:
            assert math.copysign(1.0, got) == math.copysign(1.0, value)


@pytest.mark.parametrize("value", [7, 70_000, 2.5])
def test_a_scalar_value_cut_short_or_followed_by_more_is_a_decode_error(value: Any) -> None:
    frame = _etf((3, (Atom("ok"), value)))
    with pytest.raises(DecodeError, match="truncated"):
        callback_result(_decoder(), frame[:-1], 0)
    with pytest.raises(DecodeError, match="trailing"):
        callback_result(_decoder(), frame + b"\x00", 0)


def _request(op: int, body: Any, *, tag: bytes = b"", parent: bytes = b"") -> bytes:
    head = build_header(op, tag=tag, parent=parent)
    frame = head + _etf(body)
    return struct.pack(">I", len(frame)) + frame


def _round_trip(result_frames: list[bytes]) -> tuple[Any, tuple[int, Any]]:
    """EVAL `f(5) + 1` with f = &String.length/1, the callback's results already
    waiting on fd 3: the CALLBACK payload the engine wrote, and its final reply."""
    with engine_fed_by_pipe() as (eng, requests, replies):
        for frame in result_frames:
            os.write(requests, frame)
        call = _request(Op.EVAL, ("f(5) + 1", [(Atom("f"), _LENGTH)]), tag=_TAG)
        eng.handle(memoryview(call)[4:])
        kind, tag, callback = read_reply(replies, fun=lambda fun: fun)
        assert (kind, tag) == (Kind.CALLBACK, _TAG)
        final_kind, final_tag, answer = read_reply(replies, _ERRORS)
        assert final_tag == _TAG
        return callback, (final_kind, answer)


def _result_frame(callback_id: int, outcome: Any, *, otp25: bool = False) -> bytes:
    head = build_header(Op.CALLBACK_RESULT)
    etf = _etf((callback_id, outcome))
    frame = head + (_as_otp25(etf) if otp25 else etf)
    return struct.pack(">I", len(frame)) + frame


@pytest.mark.parametrize("otp25", [False, True])
def test_main_runs_a_callback_and_takes_its_result_from_fd_3(otp25: bool) -> None:
    callback, final = _round_trip([_result_frame(1, (Atom("ok"), 41), otp25=otp25)])
    callback_id, fun, args, channel, _owner = callback
    assert (callback_id, args, channel) == (1, [5], "main")
    assert fun.term == _LENGTH.term
    assert final == (Kind.OK, 42)


def test_a_result_for_a_callback_nobody_waits_on_is_reported_and_the_wait_goes_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    frames = [_result_frame(99, (Atom("ok"), 0)), _result_frame(1, (Atom("ok"), 9))]
    _callback, final = _round_trip(frames)
    assert final == (Kind.OK, 10)
    assert "no thread waits on callback 99" in capsys.readouterr().err


@pytest.mark.parametrize(
    "short",
    [
        bytes((Op.CALLBACK_RESULT, 0, 3)) + b"tag" + bytes(10),  # ends in its caller
        bytes((Op.CALLBACK_RESULT, 0, 0)) + bytes(16) + bytes((200,)),  # parent past its end
    ],
)
def test_a_result_frame_that_ends_inside_its_header_is_dropped_and_the_wait_goes_on(
    short: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    # A plain CALLBACK_RESULT (no flags) is read without `parse_header`; one that ends
    # inside its header still goes to the general path, which reports it.
    frames = [struct.pack(">I", len(short)) + short, _result_frame(1, (Atom("ok"), 9))]
    _callback, final = _round_trip(frames)
    assert final == (Kind.OK, 10)
    err = capsys.readouterr().err
    assert f"dropped a malformed request frame ({len(short)} bytes)" in err
    assert "ends inside its header" in err


def test_a_result_frame_with_flags_takes_the_general_path() -> None:
    # With HAS_BLOBS the body is <<etf_size::32, etf>> and whatever blobs follow.
    etf = _etf((1, (Atom("ok"), 41)))
    frame = build_header(Op.CALLBACK_RESULT, flags=Flag.HAS_BLOBS) + struct.pack(">I", len(etf))
    frame += etf
    _callback, final = _round_trip([struct.pack(">I", len(frame)) + frame])
    assert final == (Kind.OK, 42)


def test_a_result_is_decoded_in_the_session_and_for_the_caller_its_header_names() -> None:
    # A function in the result becomes a proxy owned by that caller, in that session.
    head = build_header(Op.CALLBACK_RESULT, session=7, caller=9)
    frame = head + _etf((1, (Atom("ok"), _LENGTH)))
    with engine_fed_by_pipe() as (eng, requests, replies):
        os.write(requests, struct.pack(">I", len(frame)) + frame)
        code = "(lambda g: (g.owner, g.session))(f(5))"
        call = _request(Op.EVAL, (code, [(Atom("f"), _LENGTH)]), tag=_TAG)
        eng.handle(memoryview(call)[4:])
        assert read_reply(replies, fun=lambda fun: fun)[0] == Kind.CALLBACK
        assert read_reply(replies, _ERRORS) == (Kind.OK, _TAG, (9, 7))


def test_a_cancel_marked_before_the_wait_ends_it_before_any_frame_is_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The call is marked (the mark alone, as when its SIGINT came while main was
    uninterruptible) before it invokes the callback: the wait honours the mark before
    it takes a frame, so the callback's result is left unread."""
    result, after = _result_frame(1, (Atom("ok"), 9)), _result_frame(2, (Atom("ok"), 0))
    with engine_fed_by_pipe() as (eng, requests, replies):
        monkeypatch.setattr(builtins, "_sb_engine", eng, raising=False)
        os.write(requests, result + after)
        code = f"_sb_engine.cancellation.calls[{tag_of(_TAG)!r}] = 0.0\nf(5) + 1"
        call = _request(Op.EVAL, (code, [(Atom("f"), _LENGTH)]), tag=_TAG)
        eng.handle(memoryview(call)[4:])
        kinds = [read_reply(replies, _ERRORS, fun=lambda fun: fun)[:2] for _ in range(2)]
        assert kinds == [(Kind.CALLBACK, _TAG), (Kind.ERROR, _TAG)]
        assert bytes(eng.reader.read_frame()) == result[4:]


def test_a_cancel_marked_while_main_takes_a_frame_is_honoured_before_the_next_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The control thread marks the outer call while main is taking a frame, when its
    SIGINT is ignored: the wait honours the mark once that frame is stored, and leaves
    the next frame unread."""
    stray, result, after = (_result_frame(n, (Atom("ok"), n)) for n in (99, 1, 2))
    with engine_fed_by_pipe() as (eng, requests, replies):
        read_frame = eng.callbacks._read_frame

        def read_then_mark() -> memoryview:
            eng.cancellation.calls[tag_of(_TAG)] = 0.0  # as `Cancellation.cancel` marks
            return read_frame()

        eng.callbacks._read_frame = read_then_mark
        os.write(requests, stray + result + after)
        call = _request(Op.EVAL, ("f(5) + 1", [(Atom("f"), _LENGTH)]), tag=_TAG)
        eng.handle(memoryview(call)[4:])
        kinds = [read_reply(replies, _ERRORS, fun=lambda fun: fun)[:2] for _ in range(2)]
        assert kinds == [(Kind.CALLBACK, _TAG), (Kind.ERROR, _TAG)]
        assert bytes(read_frame()) == result[4:]
    assert "no thread waits on callback 99" in capsys.readouterr().err


def test_an_elixir_error_in_the_callback_is_raised_in_python() -> None:
    outcome = (Atom("error"), "** (RuntimeError) boom", "RuntimeError", "")
    _callback, (kind, error) = _round_trip([_result_frame(1, outcome)])
    assert kind == Kind.ERROR
    assert "boom" in repr(error)


def test_results_that_come_in_the_reverse_order_of_nested_waits_each_reach_their_own() -> None:
    """f's callback (1) runs a call nested in it that waits on g's callback (2); the
    result of 1 comes first, while main waits on 2, and is kept for 1's wait."""
    nested_tag = b"\x06nested"
    nested = _request(
        Op.EVAL,
        ("g(2) * 2", [(Atom("g"), _LENGTH)]),
        tag=nested_tag,
        parent=(1).to_bytes(8, "big"),
    )
    with engine_fed_by_pipe() as (eng, requests, replies):
        for frame in (
            nested,
            _result_frame(1, (Atom("ok"), 10)),
            _result_frame(2, (Atom("ok"), 20)),
        ):
            os.write(requests, frame)
        call = _request(Op.EVAL, ("f(5) + 1", [(Atom("f"), _LENGTH)]), tag=_TAG)
        eng.handle(memoryview(call)[4:])
        frames = [read_reply(replies, _ERRORS, fun=lambda fun: fun) for _ in range(4)]
        assert eng.inflight.main_results == {}
        assert eng.inflight.main_callbacks == []
    (k1, t1, (id1, *_)), (k2, t2, (id2, *_)), nested_reply, final = frames
    assert (k1, t1, id1) == (Kind.CALLBACK, _TAG, 1)
    assert (k2, t2, id2) == (Kind.CALLBACK, nested_tag, 2)
    assert nested_reply == (Kind.OK, nested_tag, 40)
    assert final == (Kind.OK, _TAG, 11)
