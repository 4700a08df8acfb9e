"""Replies: the per-thread codec, and every frame the worker writes on fd 4.

Encoders and decoders carry state while they run (the session and caller of the request
being decoded or answered, the blob area of the frame being decoded), so each thread
has its own `ThreadCodec`. A reply is encoded by the request's return mode; a result
that is awaitable is awaited on the event loop and answered from there (`finish`).
"""

from __future__ import annotations

import functools
import inspect
import threading
from concurrent.futures import Future
from typing import Any

from snakebridge._aio import EventLoopThread
from snakebridge._arrays import encode_array
from snakebridge._callbacks import ElixirFunction, Invoke
from snakebridge._channel import FrameWriter
from snakebridge._deep import make_value_encoder
from snakebridge._errors import RefError, qualified_name, write_error
from snakebridge._etf import (
    LIST_EXT,
    LIST_HEADERS,
    NIL_EXT,
    SMALL_ATOM_UTF8_EXT,
    SMALL_TUPLE_EXT,
    VERSION,
    Atom,
    Encoder,
    ErlFun,
    int_term,
    scalar_term,
)
from snakebridge._idioms import IterBatch
from snakebridge._inflight import InFlight, current_request
from snakebridge._op_context import Handler
from snakebridge._ops import AWAIT_RESULT, ArrayExport, bind, call_name
from snakebridge._registry import Registry
from snakebridge._request import NO_BLOBS, Request
from snakebridge._shm import SegmentWriter, read_segment
from snakebridge._terms import make_decoder, make_encoder
from snakebridge._wire import BLOB_MIN, PIPE_BUF, Flag, Kind, ReturnMode

__all__ = ["OK_BYTE", "Replies", "ThreadCodec"]

# Types that are never awaitable: checked first so plain results skip inspect.
_PLAIN = frozenset({int, float, str, bytes, bool, type(None), list, tuple, dict})

# A reply payload below this, with its kind byte, tag (≤ 256 B) and 4-byte header,
# fits in PIPE_BUF and goes out through FrameWriter.write_small.
_SMALL_PAYLOAD = PIPE_BUF - 4 - 1 - 256

# Every possible kind byte, prebuilt: a reply costs no bytes() call for it.
_KIND_BYTES = [bytes((code,)) for code in range(256)]
OK_BYTE = _KIND_BYTES[int(Kind.OK)]
_STARTED_BYTE = _KIND_BYTES[int(Kind.STARTED)]
# Plain ints: reading an Enum member costs ~50 ns, and these run on every request.
_RETURN_MASK = int(Flag.RETURN_MASK)
_NO_REPLY = int(Flag.NO_REPLY)
_AUTO = int(ReturnMode.AUTO)
_VALUE = int(ReturnMode.VALUE)
_OK = int(Kind.OK)
_CALLBACK = int(Kind.CALLBACK)
_CALLBACK_BYTE = _KIND_BYTES[_CALLBACK]
# `{id, fun, args, channel, owner}`'s start, and what follows its arguments: the
# list's tail (or the empty list) and the channel atom.
_CALLBACK_TUPLE = bytes((VERSION, SMALL_TUPLE_EXT, 5))
_CHANNEL_TAILS = {
    name: bytes((NIL_EXT, SMALL_ATOM_UTF8_EXT, len(name))) + name.encode()
    for name in ("main", "control")
}


class _AsRef:
    """A result that must come back as a ref even if it is plain data (`return: :ref`)."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj


class _ErrorTerm:
    """An exception to send, and the name of the call that raised it (its traceback's
    first frame, see `_errors.format_traceback`)."""

    __slots__ = ("call", "exc", "keep")

    def __init__(self, exc: BaseException, call: str | None = None, *, keep: bool = True) -> None:
        self.exc = exc
        self.call = call
        self.keep = keep  # give it a ref (PythonError.ref)


class ThreadCodec:
    """One thread's encoders and decoder: the session and caller of the request that
    thread is decoding or answering, and the blob area of the frame it is decoding."""

    __slots__ = ("auto", "blobs", "caller", "decoder", "made", "segments", "session", "value")

    def __init__(self, replies: Replies) -> None:
        self.session = 0
        self.caller = 0
        # Ids of the refs made by the reply being encoded: released if it is not sent.
        self.made: set[bytes] = set()
        self.blobs = NO_BLOBS
        self.decoder = make_decoder(
            resolve_ref=replies.resolve_ref,
            make_callable=replies.proxy,
            read_segment=lambda fields: read_segment(fields, self.blobs),
        )
        self.auto = replies.with_engine_types(make_encoder(fallback=replies.write_ref))
        self.value = replies.with_engine_types(make_value_encoder(fallback=replies.write_ref))
        self.segments = SegmentWriter(replies.shm_threshold)
        for encoder in (self.auto, self.value):
            encoder.spill = self.segments.spill
            encoder.spill_threshold = BLOB_MIN

    def encode(self, encoder: Encoder, value: Any) -> tuple[list[Any], int]:
        """`value` as a frame payload, and the flags for the frame's kind byte."""
        if self.made:  # the previous encode's refs were sent, or released
            self.made.clear()
        segments = self.segments
        try:
            chunks = encoder.encode(value)
        except BaseException:
            segments.reset()
            raise
        if segments.dirty:
            return segments.finish(chunks)
        return chunks, 0


def _no_callbacks(fn: ElixirFunction, args: tuple[Any, ...]) -> Any:
    raise RuntimeError("this worker runs no Elixir callbacks")


class Replies:
    """The worker's side of fd 4: codecs by thread, and the frames it writes."""

    def __init__(
        self,
        *,
        writer: FrameWriter,
        registry: Registry,
        worker_term: bytes,
        inflight: InFlight,
        aio: EventLoopThread,
        shm_threshold: int = 0,
    ) -> None:
        self.writer = writer
        self.registry = registry
        self.shm_threshold = shm_threshold
        self.aio = aio
        # What calling an ElixirFunction decoded here does (set by the re-entrancy layer).
        self.invoke: Invoke = _no_callbacks
        self._worker_term = worker_term
        self._inflight = inflight
        self._threads = threading.local()
        self._type_names: dict[type, str] = {}
        self.main_codec = ThreadCodec(self)

    # ------------------------------------------------------------------ codec

    def codec(self) -> ThreadCodec:
        """The calling thread's codec."""
        if threading.get_ident() == self._inflight.main_ident:
            return self.main_codec
        codec: ThreadCodec | None = getattr(self._threads, "codec", None)
        if codec is None:
            codec = self._threads.codec = ThreadCodec(self)
        return codec

    def with_engine_types(self, enc: Encoder) -> Encoder:
        enc.register(_AsRef, lambda e, wrapped: self.write_ref(e, wrapped.obj))
        enc.register(_ErrorTerm, self._write_error)
        enc.register(ErlFun, lambda e, fun: e.raw(fun.term))
        enc.register(IterBatch, self._write_batch)
        enc.register(ArrayExport, lambda e, export: encode_array(e, export.array))
        return enc

    def _write_error(self, enc: Encoder, wrapped: _ErrorTerm) -> None:
        keep = self._write_exception_ref if wrapped.keep else None
        write_error(enc, wrapped.exc, call=wrapped.call, keep=keep)

    def _write_exception_ref(self, enc: Encoder, exc: BaseException) -> None:
        """`PythonError.ref`: the exception, as the session's last error (see Registry)."""
        codec = self.codec()
        try:
            ref_id = self.registry.insert_error(codec.session, exc, codec.made)
        except RefError:  # the session is released, or at its cap: no ref, still the error
            enc.atom("nil")
            return
        self._write_ref_term(enc, ref_id, exc)

    def _write_batch(self, enc: Encoder, batch: IterBatch) -> None:
        enc.tuple_header(2)
        enc.term(batch.items)
        if batch.error is None:
            enc.atom(batch.status)
        else:
            enc.tuple_header(2)
            enc.atom("error")
            write_error(enc, batch.error, call="<next>", keep=self._write_exception_ref)

    def resolve_ref(self, fields: dict[str, Any]) -> Any:
        ref_id = fields.get("id")
        session = fields.get("session")
        if type(ref_id) is str:
            ref_id = ref_id.encode()
        if type(ref_id) is not bytes or type(session) is not int:
            raise RefError("unknown", "malformed ref: expected a binary id and an integer session")
        return self.registry.lookup(session, ref_id)

    def proxy(self, fun: ErlFun) -> ElixirFunction:
        codec = self.codec()
        return ElixirFunction(fun, owner=codec.caller, session=codec.session, invoke=self.invoke)

    def _type_name(self, cls: type) -> str:
        name = self._type_names.get(cls)
        if name is None:
            name = self._type_names[cls] = qualified_name(cls)
        return name

    def write_ref(self, enc: Encoder, obj: Any) -> None:
        codec = self.codec()
        self._write_ref_term(enc, self.registry.insert(codec.session, obj, codec.made), obj)

    def _write_ref_term(self, enc: Encoder, ref_id: bytes, obj: Any) -> None:
        session = self.codec().session
        enc.map_header(5)
        enc.atom("__struct__")
        enc.atom("Elixir.SnakeBridge.Ref")
        enc.atom("id")
        enc.binary(ref_id)
        enc.atom("type")
        enc.term(self._type_name(type(obj)))
        enc.atom("session")
        enc.term(session)
        enc.atom("worker")
        enc.raw(self._worker_term)

    def decode(
        self, request: Request, frame: bytes, offset: int, blobs: memoryview = NO_BLOBS
    ) -> Handler:
        """Decode `request`'s body with this thread's codec; its handler (see `bind`)."""
        codec = self.codec()
        codec.session = request.session
        codec.caller = request.caller
        codec.blobs = blobs
        try:
            return bind(codec.decoder, request, frame, offset)
        finally:
            codec.blobs = NO_BLOBS

    # ------------------------------------------------------------------ frames

    def send(self, kind: int, tag: bytes, chunks: list[Any]) -> None:
        if len(chunks) == 1 and len(chunks[0]) < _SMALL_PAYLOAD:
            self.writer.write_small(b"".join((_KIND_BYTES[kind], tag, chunks[0])))
        else:
            chunks[0:0] = (_KIND_BYTES[kind], tag)
            self.writer.write_frame(chunks)

    def reply(self, request: Request, value: Any) -> None:
        codec = self.codec()
        codec.session = request.session
        mode = request.flags & _RETURN_MASK
        try:
            if mode == _AUTO:
                chunks, flag = codec.encode(codec.auto, value)
            elif mode == _VALUE:
                chunks, flag = codec.encode(codec.value, value)
            else:
                chunks, flag = codec.encode(codec.auto, _AsRef(value))
            self.send(_OK | flag, request.tag, chunks)
        except Exception as exc:
            # Refs made for a reply that is not sent (an encoding error halfway, a reply
            # over max_frame, max_refs reached partway) would never reach Elixir.
            self._drop_made(codec)
            self.reply_error(request, exc)

    def _drop_made(self, codec: ThreadCodec) -> None:
        if codec.made:
            self.registry.release_made(codec.session, codec.made)
            codec.made.clear()

    def reply_error(self, request: Request, exc: BaseException) -> None:
        codec = self.codec()
        codec.session = request.session
        try:
            chunks, flags = codec.encode(codec.auto, _ErrorTerm(exc, call_name(request)))
            self.send(Kind.ERROR | flags, request.tag, chunks)
        except Exception as inner:
            self._drop_made(codec)
            # The error itself could not be sent (e.g. a traceback over max_frame):
            # say so rather than leave the caller waiting.
            fallback = RuntimeError(f"{type(exc).__name__} (not sendable: {inner})")
            chunks, flags = codec.encode(codec.auto, _ErrorTerm(fallback, keep=False))
            self.send(Kind.ERROR | flags, request.tag, chunks)

    def reply_cancelled(self, request: Request) -> None:
        codec = self.codec()
        chunks, flags = codec.encode(codec.auto, Atom("cancelled"))
        self.send(Kind.ERROR | flags, request.tag, chunks)

    def send_event(self, event: tuple[Any, ...]) -> None:
        codec = self.codec()
        chunks, flags = codec.encode(codec.auto, event)
        self.send(Kind.EVENT | flags, b"\x00", chunks)

    def send_started(self, request: Request) -> None:
        """Tell the caller of `request` that the worker has taken it up (REPORT_START)."""
        self.writer.write_small(_STARTED_BYTE + request.tag)

    def send_callback(self, request: Request, payload: tuple[Any, ...]) -> None:
        """Ask the caller of `request` to run an Elixir function (see `_reentry`)."""
        term = _scalar_callback_term(payload)
        if term is not None:
            if len(term) < _SMALL_PAYLOAD:  # as `send` would, without its list
                self.writer.write_small(_CALLBACK_BYTE + request.tag + term)
            else:
                self.send(_CALLBACK, request.tag, [term])
            return
        codec = self.codec()
        codec.session = request.session
        chunks, flag = codec.encode(codec.auto, payload)
        self.send(_CALLBACK | flag, request.tag, chunks)

    # ------------------------------------------------------------------ results

    def finish(self, request: Request, result: Any) -> None:
        """Answer `request` with its handler's result, once awaited if it is awaitable."""
        if type(result) in _PLAIN or request.op not in AWAIT_RESULT:
            if not request.flags & _NO_REPLY:
                self.reply(request, result)
        elif inspect.isawaitable(result):
            self._await(request, result)
        elif not request.flags & _NO_REPLY:
            self.reply(request, result)

    def _await(self, request: Request, awaitable: Any) -> None:
        async def run() -> Any:
            current_request.set(request)
            return await awaitable

        future = self.aio.submit(run())
        self._inflight.async_calls[request.tag] = (request, future)
        future.add_done_callback(functools.partial(self._async_done, request))

    def _async_done(self, request: Request, future: Future[Any]) -> None:
        self._inflight.async_calls.pop(request.tag, None)
        if not request.wants_reply:
            return
        if future.cancelled():
            self.reply_cancelled(request)
            return
        exc = future.exception()
        if exc is not None:
            self.reply_error(request, exc)
        else:
            self.reply(request, future.result())


def _scalar_callback_term(payload: tuple[Any, ...]) -> bytes | None:
    """The CALLBACK payload `(id, fun, args, channel, owner)` as ETF when every argument
    is a scalar (see `scalar_term`), else None: `f(i)` from a loop, the commonest
    callback, without the encoder's general walk of the tuple and its list (its
    container loop alone ran about 350 bytecode instructions a round trip,
    `bench/callback_profile.exs`). The bytes are those the encoder would write, but for
    a list of 16 or more ints that all fit in 32 bits, which the encoder writes as
    INTEGER_EXTs throughout: the same term."""
    callback_id, fun, args, channel, owner = payload
    if type(fun) is not ErlFun:
        return None
    parts = [_CALLBACK_TUPLE, int_term(callback_id), fun.term]
    if args:
        count = len(args)
        try:
            parts.append(LIST_HEADERS[count])
        except IndexError:  # 256 arguments or more
            parts.append(bytes((LIST_EXT,)) + count.to_bytes(4, "big"))
        for arg in args:
            if type(arg) is int:  # `f(i)`: its term as is, not sliced from scalar_term's
                parts.append(int_term(arg))
                continue
            term = scalar_term(arg)
            if term is None:
                return None
            parts.append(term[1:])
    parts += (_CHANNEL_TAILS[channel], int_term(owner))
    return b"".join(parts)
