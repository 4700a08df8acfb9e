"""Worker: the engine's main loop, and everything that decides who runs what and when.

Threads of a worker process:

* **main** reads requests from fd 3 and runs them, one at a time, in order. Reading and
  running on the same thread keeps a call to a single wake-up: no hand-off between
  threads on the hot path.
* **control** (see `_control`) reads the control socket, so cancellations and the
  results of callbacks made from other threads are heard while main is busy.
* **asyncio** (see `_aio`) awaits the coroutines that calls return.
* any threads the user's code starts.

Re-entrancy: when Python calls an Elixir function on the main thread, main sends the
request to the waiting Elixir caller and then serves fd 3 until the answer comes. Calls
that the callback makes (tagged with the callback's id as their parent) run right there,
nested; unrelated calls are set aside and run when the outer call is done.

Cancellation: the control thread marks the call and sends SIGINT to the main thread.
The handler raises `CallCancelled` only while main is inside a call and that call (or
one enclosing it) is marked, so a late signal never hits the wrong call, and never lands
while main is writing a frame.
"""

from __future__ import annotations

import base64
import contextlib
import contextvars
import faulthandler
import fcntl
import functools
import inspect
import io
import itertools
import os
import queue
import signal
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future
from types import FrameType
from typing import Any

from snakebridge._aio import EventLoopThread
from snakebridge._callbacks import ElixirFunction
from snakebridge._channel import ChannelClosed, FrameReader, FrameWriter
from snakebridge._control import ControlServer
from snakebridge._errors import (
    CallbackOwnerGone,
    CallCancelled,
    ElixirError,
    RefError,
    qualified_name,
    write_error,
)
from snakebridge._etf import Atom, Encoder, ErlFun, scalar_term
from snakebridge._ops import AWAIT_RESULT, HANDLERS, ArrayExport, IterBatch
from snakebridge._registry import OpenContext, Registry
from snakebridge._request import Request, parse_header, split_frame, tag_of
from snakebridge._shm import SegmentWriter, read_segment
from snakebridge._terms import encode_array, make_decoder, make_encoder, make_value_encoder
from snakebridge._wire import BLOB_MIN, PIPE_BUF, PROTOCOL_VERSION, Flag, Kind, Op, ReturnMode

__all__ = ["Engine", "main"]

# How long a cancellation mark is kept for a call that has not been read yet.
_MARK_TTL = 600.0

# Types that are never awaitable: checked first so plain results skip inspect.
_PLAIN = frozenset({int, float, str, bytes, bool, type(None), list, tuple, dict})

_NO_BLOBS = memoryview(b"")

# A reply payload below this, with its kind byte, tag (≤ 256 B) and 4-byte header,
# fits in PIPE_BUF and goes out through FrameWriter.write_small.
_SMALL_PAYLOAD = PIPE_BUF - 4 - 1 - 256

# Every possible kind byte, prebuilt: a reply costs no bytes() call for it.
_KIND_BYTES = [bytes((code,)) for code in range(256)]
_OK_BYTE = _KIND_BYTES[int(Kind.OK)]
# Plain ints: reading an Enum member costs ~50 ns, and these run on every request.
_RETURN_MASK = int(Flag.RETURN_MASK)
_NO_REPLY = int(Flag.NO_REPLY)
_AUTO = int(ReturnMode.AUTO)
_VALUE = int(ReturnMode.VALUE)
_OK = int(Kind.OK)
_CALLBACK_RESULT = int(Op.CALLBACK_RESULT)
_CALL_MODULE = int(Op.CALL_MODULE)
_HAS_BLOBS = int(Flag.HAS_BLOBS)

# The request a coroutine (on the asyncio thread) belongs to, for its callbacks.
_current_request: contextvars.ContextVar[Request | None] = contextvars.ContextVar(
    "snakebridge_request", default=None
)


class _AsRef:
    """A result that must come back as a ref even if it is plain data (`return: :ref`)."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj


class _ErrorTerm:
    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class _Codec:
    """One thread's encoders and decoder (they carry state while they run): the session
    and caller of the request that thread is decoding or answering, and the blob area
    of the frame it is decoding."""

    __slots__ = ("auto", "blobs", "caller", "decoder", "segments", "session", "value")

    def __init__(self, engine: Engine) -> None:
        self.session = 0
        self.caller = 0
        self.blobs = memoryview(b"")
        self.decoder = make_decoder(
            resolve_ref=engine.resolve_ref,
            make_callable=engine.proxy,
            read_segment=lambda fields: read_segment(fields, self.blobs),
        )
        self.auto = engine.with_engine_types(make_encoder(fallback=engine.write_ref))
        self.value = engine.with_engine_types(make_value_encoder(fallback=engine.write_ref))
        self.segments = SegmentWriter(engine.shm_threshold)
        for encoder in (self.auto, self.value):
            encoder.spill = self.segments.spill
            encoder.spill_threshold = BLOB_MIN

    def encode(self, encoder: Encoder, value: Any) -> tuple[list[Any], int]:
        """`value` as a frame payload, and the flags for the frame's kind byte."""
        segments = self.segments
        try:
            chunks = encoder.encode(value)
        except BaseException:
            segments.reset()
            raise
        if segments.dirty:
            return segments.finish(chunks)
        return chunks, 0


class _Waiter:
    """A non-main thread waiting for an Elixir callback's result.

    While it waits it also runs the calls that the callback makes back into Python,
    which the control thread hands to it, so re-entrancy works from any thread.
    """

    def __init__(self, request: Request | None) -> None:
        self.request = request
        self.inbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()


class Engine:
    """One worker process's state and main loop."""

    def __init__(
        self,
        *,
        reader: FrameReader,
        writer: FrameWriter,
        registry: Registry,
        worker_term: bytes,
        shm_threshold: int = 0,
    ) -> None:
        self.shm_threshold = shm_threshold
        self.reader = reader
        self.writer = writer
        self.registry = registry
        self.aio = EventLoopThread()
        self.main_ident = threading.get_ident()
        self._worker_term = worker_term
        self._threads = threading.local()
        self._type_names: dict[type, str] = {}
        # Main thread only: the calls it is inside (innermost last), the callbacks it is
        # waiting on, and requests set aside until the outermost call is done.
        self.active: list[Request] = []
        self._main_callbacks: list[int] = []
        self.deferred: deque[bytes] = deque()
        self.interruptible = False
        # Shared with the control and asyncio threads (single dict operations only).
        # Oldest mark first, so expiring them costs O(1) each however many there are.
        self._cancelled: OrderedDict[bytes, float] = OrderedDict()
        self._dead_callers: OrderedDict[int, float] = OrderedDict()
        # A dead caller is marked until main reads its last frame (see caller_done);
        # this holds those whose last frame came first. Both change under the lock.
        self._callers_done: set[int] = set()
        self._callers_lock = threading.Lock()
        self._async_calls: dict[bytes, tuple[Request, Future[Any]]] = {}
        self._waiters: dict[int, _Waiter] = {}
        self._callback_ids = itertools.count(1)
        self._context_ids = itertools.count(1)
        self._main_codec = _Codec(self)

    # ------------------------------------------------------------------ codec

    def codec(self) -> _Codec:
        """The calling thread's codec."""
        if threading.get_ident() == self.main_ident:
            return self._main_codec
        codec: _Codec | None = getattr(self._threads, "codec", None)
        if codec is None:
            codec = self._threads.codec = _Codec(self)
        return codec

    def with_engine_types(self, enc: Encoder) -> Encoder:
        enc.register(_AsRef, lambda e, wrapped: self.write_ref(e, wrapped.obj))
        enc.register(_ErrorTerm, lambda e, wrapped: write_error(e, wrapped.exc))
        enc.register(ErlFun, lambda e, fun: e.raw(fun.term))
        enc.register(IterBatch, self._write_batch)
        enc.register(ArrayExport, lambda e, export: encode_array(e, export.array))
        return enc

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
        return ElixirFunction(
            fun, owner=codec.caller, session=codec.session, invoke=self.invoke_callback
        )

    def _type_name(self, cls: type) -> str:
        name = self._type_names.get(cls)
        if name is None:
            name = self._type_names[cls] = qualified_name(cls)
        return name

    def write_ref(self, enc: Encoder, obj: Any) -> None:
        session = self.codec().session
        ref_id = self.registry.insert(session, obj)
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

    def _write_batch(self, enc: Encoder, batch: IterBatch) -> None:
        enc.tuple_header(2)
        enc.term(batch.items)
        if batch.error is None:
            enc.atom(batch.status)
        else:
            enc.tuple_header(2)
            enc.atom("error")
            write_error(enc, batch.error)

    def decode_body(
        self, request: Request, frame: bytes, offset: int, blobs: memoryview = _NO_BLOBS
    ) -> None:
        codec = self.codec()
        codec.session = request.session
        codec.caller = request.caller
        codec.blobs = blobs
        try:
            request.body = _decode(codec, request.op, frame, offset)
        finally:
            codec.blobs = _NO_BLOBS

    # ------------------------------------------------------------------ replies

    def _send(self, kind: int, tag: bytes, chunks: list[Any]) -> None:
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
            self._send(_OK | flag, request.tag, chunks)
        except Exception as exc:
            self.reply_error(request, exc)

    def reply_error(self, request: Request, exc: BaseException) -> None:
        codec = self.codec()
        codec.session = request.session
        try:
            chunks, flags = codec.encode(codec.auto, _ErrorTerm(exc))
            self._send(Kind.ERROR | flags, request.tag, chunks)
        except Exception as inner:
            # The error itself could not be sent (e.g. a traceback over max_frame):
            # say so rather than leave the caller waiting.
            fallback = RuntimeError(f"{type(exc).__name__} (not sendable: {inner})")
            chunks, flags = codec.encode(codec.auto, _ErrorTerm(fallback))
            self._send(Kind.ERROR | flags, request.tag, chunks)

    def reply_cancelled(self, request: Request) -> None:
        codec = self.codec()
        chunks, flags = codec.encode(codec.auto, Atom("cancelled"))
        self._send(Kind.ERROR | flags, request.tag, chunks)

    def send_event(self, event: tuple[Any, ...]) -> None:
        codec = self.codec()
        chunks, flags = codec.encode(codec.auto, event)
        self._send(Kind.EVENT | flags, b"\x00", chunks)

    # ------------------------------------------------------------------ main loop

    def run(self) -> None:
        """Serve requests until the BEAM closes fd 3."""
        read = self.reader.read_frame
        deferred = self.deferred
        while True:
            self.handle(deferred.popleft() if deferred else read())

    def handle(self, frame: memoryview | bytes) -> None:
        """Parse, decode, run and answer one request on the main thread: every call's
        path."""
        try:
            if frame[1] & _HAS_BLOBS:
                head, blobs = split_frame(frame)
            else:
                head, blobs = (frame if type(frame) is bytes else bytes(frame)), _NO_BLOBS
            request, offset = parse_header(head)
        except (ValueError, IndexError) as exc:
            _drop_malformed(frame, exc)
            return
        if request.op == _CALLBACK_RESULT:
            print("snakebridge: callback result for no waiting callback", file=sys.stderr)
            return
        codec = self._main_codec  # handle() runs on the main thread only
        codec.session = request.session
        codec.caller = request.caller
        if blobs is not _NO_BLOBS:
            codec.blobs = blobs
        try:
            request.body = _decode(codec, request.op, head, offset)
        except Exception as exc:
            if request.wants_reply:
                self.reply_error(request, exc)
            return
        finally:
            if blobs is not _NO_BLOBS:
                codec.blobs = _NO_BLOBS  # let the frame's buffer go
        # Run it (in one function with the parsing: a Python call costs ~70 ns here).
        active = self.active
        # In `active` before the cancellation check: the control thread marks a call
        # and then looks for it here, so a cancel is either seen now or signalled.
        active.append(request)
        # Marks are rare: the emptiness test saves hashing the tag on every request.
        if (self._cancelled or self._dead_callers) and self._is_marked(request):
            active.pop()
            if request.wants_reply:
                self.reply_cancelled(request)
            return
        handler = HANDLERS.get(request.op)
        if handler is None:
            active.pop()
            self.reply_error(request, ValueError(f"unknown op code {request.op}"))
            return
        try:
            self.interruptible = True
            result = handler(self, request)
            self.interruptible = False
        except CallCancelled:
            self.interruptible = False
            active.pop()
            if request.wants_reply:
                self.reply_cancelled(request)
            if active and not self._is_marked(request):
                raise  # an enclosing call was cancelled: keep unwinding to it
            self._resume()
            return
        except BaseException as exc:
            self.interruptible = False
            active.pop()
            if request.wants_reply:
                self.reply_error(request, exc)
            self._resume()
            return
        active.pop()
        # The commonest reply of all, a scalar to a request with no flags (return mode
        # auto, a reply wanted), is written right here; _finish sees to everything else.
        term = None if request.flags else scalar_term(result)
        if term is None:
            self._finish(request, result)
        else:
            self.writer.write_small(_OK_BYTE + request.tag + term)
        if active:
            self._resume()

    def _finish(self, request: Request, result: Any) -> None:
        if type(result) in _PLAIN or request.op not in AWAIT_RESULT:
            if not request.flags & _NO_REPLY:
                self.reply(request, result)
        elif inspect.isawaitable(result):
            self._await(request, result)
        elif not request.flags & _NO_REPLY:
            self.reply(request, result)

    def _resume(self) -> None:
        """Back in the enclosing call's code (or idle): honour a cancel that arrived meanwhile."""
        self.interruptible = bool(self.active)
        if self.interruptible and self._active_marked():
            raise CallCancelled("the call was cancelled by Elixir (timeout or caller exit)")

    def _run_off_main(self, request: Request) -> None:
        """Run a nested request on a non-main thread (see `_Waiter`)."""
        handler = HANDLERS.get(request.op)
        try:
            if handler is None:
                raise ValueError(f"unknown op code {request.op}")
            result = handler(self, request)
        except BaseException as exc:
            if request.wants_reply:
                self.reply_error(request, exc)
            return
        self._finish(request, result)

    # ------------------------------------------------------------------ async

    def _await(self, request: Request, awaitable: Any) -> None:
        async def run() -> Any:
            _current_request.set(request)
            return await awaitable

        future = self.aio.submit(run())
        self._async_calls[request.tag] = (request, future)
        future.add_done_callback(functools.partial(self._async_done, request))

    def _async_done(self, request: Request, future: Future[Any]) -> None:
        self._async_calls.pop(request.tag, None)
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

    # ------------------------------------------------------------------ callbacks

    def invoke_callback(self, fn: ElixirFunction, args: tuple[Any, ...]) -> Any:
        """Run an Elixir function and return its result (ElixirFunction.__call__)."""
        _check_stack_room()
        callback_id = next(self._callback_ids)
        if threading.get_ident() == self.main_ident and self.active:
            self._send_callback(self.active[-1], callback_id, fn, args, "main")
            return self._serve_until(callback_id)
        request = _current_request.get()
        if request is None and self.active:
            request = self.active[-1]
        waiter = _Waiter(request)
        self._waiters[callback_id] = waiter
        try:
            if request is not None:
                self._send_callback(request, callback_id, fn, args, "control")
            else:
                # No call is in progress: an Elixir task runs it (see SnakeBridge.Worker).
                self.codec().session = fn.session
                event = (Atom("orphan_callback"), callback_id, fn.fun, list(args), fn.owner)
                self.send_event(event)
            return self._wait(waiter)
        finally:
            del self._waiters[callback_id]

    def _send_callback(
        self,
        request: Request,
        callback_id: int,
        fn: ElixirFunction,
        args: tuple[Any, ...],
        channel: str,
    ) -> None:
        codec = self.codec()
        codec.session = request.session
        interruptible, self.interruptible = self.interruptible, False
        try:
            payload = (callback_id, fn.fun, list(args), Atom(channel), fn.owner)
            chunks, flag = codec.encode(codec.auto, payload)
            self._send(Kind.CALLBACK | flag, request.tag, chunks)
        finally:
            self.interruptible = interruptible

    def _serve_until(self, callback_id: int) -> Any:
        """Main thread: serve fd 3 until the callback's result arrives."""
        self._main_callbacks.append(callback_id)
        try:
            self._resume()
            while True:
                frame = bytes(self.reader.read_frame())
                try:
                    head, blobs = split_frame(frame)
                    request, offset = parse_header(head)
                except (ValueError, IndexError) as exc:
                    _drop_malformed(frame, exc)
                    continue
                if request.op == Op.CALLBACK_RESULT:
                    self.decode_body(request, head, offset, blobs)
                    got, outcome = request.body
                    if got == callback_id:
                        return _unwrap(outcome)
                    print(f"snakebridge: stray callback result {got}", file=sys.stderr)
                elif self._nests_in_main(request) or request.op in (Op.RELEASE, Op.STATS):
                    self.handle(frame)
                else:
                    self.deferred.append(frame)
        finally:
            self._main_callbacks.pop()

    def _nests_in_main(self, request: Request) -> bool:
        return len(request.parent) == 8 and int.from_bytes(request.parent) in self._main_callbacks

    def _wait(self, waiter: _Waiter) -> Any:
        while True:
            kind, payload = waiter.inbox.get()
            if kind == "result":
                return _unwrap(payload)
            if kind == "call":
                self._run_off_main(payload)
            else:
                raise CallCancelled("the call was cancelled while waiting for an Elixir callback")

    # ------------------------------------------------------------------ control

    def control(self, view: memoryview) -> None:
        """Handle one control-socket frame (runs on the control thread)."""
        head, blobs = split_frame(bytes(view))
        request, offset = parse_header(head)
        self.decode_body(request, head, offset, blobs)
        op = request.op
        if op == Op.CANCEL:
            (tags,) = request.body
            marked = {tag_of(t if type(t) is bytes else t.encode()) for t in tags}
            self._mark(self._cancelled, marked)
            running = self._interrupt(lambda r: r.tag in marked)
            if request.wants_reply:
                # The caller waits for a running call to unwind (and kills the worker if
                # it does not); a call not started yet will be skipped when it is read.
                self.reply(request, Atom("running" if running else "queued"))
        elif op == Op.CANCEL_CALLER:
            (caller,) = request.body
            with self._callers_lock:
                if caller in self._callers_done:
                    self._callers_done.discard(caller)
                else:
                    self._mark(self._dead_callers, {caller})
            self._interrupt(lambda r: r.caller == caller)
        elif op == Op.CALLBACK_RESULT:
            callback_id, outcome = request.body
            self._deliver(callback_id, ("result", outcome))
        elif op == Op.STATS:
            self.reply(request, self.stats())
        elif len(request.parent) == 8:
            self._deliver(int.from_bytes(request.parent), ("call", request))
        else:
            print(f"snakebridge: unexpected control op {op}", file=sys.stderr)

    def _deliver(self, callback_id: int, item: tuple[str, Any]) -> None:
        waiter = self._waiters.get(callback_id)
        if waiter is None:
            print(f"snakebridge: no thread waits on callback {callback_id}", file=sys.stderr)
        else:
            waiter.inbox.put(item)

    @staticmethod
    def _mark(marks: OrderedDict[Any, float], keys: set[Any]) -> None:
        """Mark `keys` now and forget the marks older than _MARK_TTL (control thread)."""
        now = time.monotonic()
        for key in keys:
            marks[key] = now
            marks.move_to_end(key)
        while marks:
            oldest = next(iter(marks))
            if now - marks[oldest] <= _MARK_TTL:
                break
            del marks[oldest]

    def _interrupt(self, matches: Callable[[Request], bool]) -> bool:
        """Interrupt the matching calls that are running; True if there were any."""
        running = False
        if any(matches(r) for r in list(self.active)):
            signal.pthread_kill(self.main_ident, signal.SIGINT)
            running = True
        for request, future in list(self._async_calls.values()):
            if matches(request):
                future.cancel()
                running = True
        for waiter in list(self._waiters.values()):
            if waiter.request is not None and matches(waiter.request):
                waiter.inbox.put(("cancel", None))
                running = True
        return running

    def caller_done(self, caller: int) -> None:
        """Main thread: a dead caller's CANCEL_CALLER came on fd 3, after all its frames.

        Its requests are all read, so its mark (set when the same op came on the control
        socket) is no longer needed: the marks of dead callers stay as few as the
        requests in flight, however many processes come and go.
        """
        with self._callers_lock:
            if self._dead_callers.pop(caller, None) is None:
                self._callers_done.add(caller)

    def _is_marked(self, request: Request) -> bool:
        return request.tag in self._cancelled or request.caller in self._dead_callers

    def _active_marked(self) -> bool:
        return any(self._is_marked(r) for r in list(self.active))

    def on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        """SIGINT handler (main thread)."""
        if self.interruptible and self._active_marked():
            raise CallCancelled("the call was cancelled by Elixir (timeout or caller exit)")

    # ------------------------------------------------------------------ sessions

    def open_context(self, session: int, context: OpenContext) -> int:
        context_id = next(self._context_ids)
        self.registry.session(session).contexts[context_id] = context
        return context_id

    def take_context(self, session: int, context_id: int) -> OpenContext:
        table = self.registry.session(session)
        context = table.contexts.pop(context_id, None)
        if context is None:
            raise RefError("released", f"context {context_id} was already exited")
        return context

    def exit_context(self, context: OpenContext, exc: BaseException | None) -> bool:
        """Call `__exit__` (or await `__aexit__`); True if it suppressed `exc`.

        As in a `with` statement, an error that `__exit__` raises chains the error it
        replaced, and `__exit__` re-raising `exc` itself lets `exc` propagate.
        """
        try:
            if exc is None:
                result = context.exit(context.manager, None, None, None)
            else:
                result = context.exit(context.manager, type(exc), exc, exc.__traceback__)
            if context.is_async:
                result = self.aio.run(result)
        except BaseException as raised:
            if exc is None:
                raise
            if raised is exc:
                return False
            if raised.__context__ is None:
                raised.__context__ = exc
            raise
        return bool(result)

    def release_session(self, session: int) -> None:
        """Exit the session's open contexts (innermost first), then drop its refs."""
        table = self.registry.pop_session(session)
        if table is None:
            return
        for context_id in sorted(table.contexts, reverse=True):
            error = ElixirError("the session ended while this context was open", kind="exit")
            try:
                self.exit_context(table.contexts.pop(context_id), error)
            except Exception as exc:
                print(f"snakebridge: __exit__ failed at session end: {exc!r}", file=sys.stderr)

    def stats(self) -> dict[Atom, Any]:
        sessions, refs = self.registry.counts()
        pending = len(self.deferred) + len(self.active) + len(self._async_calls)
        return {
            Atom("sessions"): sessions,
            Atom("refs"): refs,
            Atom("pending"): pending,
            Atom("callbacks"): len(self._waiters) + len(self._main_callbacks),
            Atom("os_pid"): os.getpid(),
            Atom("rss"): _rss_bytes(),
        }


def _decode(codec: _Codec, op: int, frame: bytes, offset: int) -> Any:
    """A request's body. CALL_MODULE's starts with the module and function names as
    length-prefixed UTF-8 (cheaper than two ETF binaries on the commonest request),
    then the ETF of its args, or of {args, kwargs}; it becomes CALL's 4-tuple."""
    if op != _CALL_MODULE:
        return codec.decoder.decode(frame, offset)
    name_at = offset + 1 + frame[offset]
    args_at = name_at + 1 + frame[name_at]
    target = _TARGETS.get(frame[offset:args_at])
    if target is None:
        target = _target_names(frame, offset, name_at, args_at)
    module, name = target
    payload = codec.decoder.decode(frame, args_at)
    if type(payload) is list:
        return module, name, payload, None
    return (module, name, *payload)


def _target_names(frame: bytes, offset: int, name_at: int, args_at: int) -> tuple[str, str]:
    target = frame[offset + 1 : name_at].decode(), frame[name_at + 1 : args_at].decode()
    if len(_TARGETS) < 4096:  # modules and their functions: few, and called again and again
        _TARGETS[frame[offset:args_at]] = target
    return target


# A CALL_MODULE's two names, exactly as they arrive, to the strings: one slice and one
# lookup per request.
_TARGETS: dict[bytes, tuple[str, str]] = {}


def _drop_malformed(frame: memoryview | bytes, exc: Exception) -> None:
    """A request frame whose header cannot be read has no tag to answer: it is dropped,
    and said so on stderr (which reaches Elixir's Logger)."""
    why = "it is shorter than its header" if isinstance(exc, IndexError) else str(exc)
    print(
        f"snakebridge: dropped a malformed request frame ({len(frame)} bytes): {why}",
        file=sys.stderr,
    )


def _unwrap(outcome: Any) -> Any:
    """The result of an Elixir callback, or the Python exception that stands for its error."""
    if type(outcome) is tuple and outcome[:1] == ("ok",) and len(outcome) == 2:
        return outcome[1]
    if type(outcome) is tuple and len(outcome) == 4 and outcome[0] in ("error", "owner_gone"):
        _, message, kind, stacktrace = outcome
        cls = CallbackOwnerGone if outcome[0] == "owner_gone" else ElixirError
        raise cls(message, kind=kind, elixir_stacktrace=stacktrace)
    raise ElixirError(f"malformed callback result: {outcome!r}")


# Re-entrancy stacks about ten levels of recursion per callback level (engine frames and
# the C calls between them, plus the user's own frames). An error raised at the
# recursion limit cannot be reported (formatting it needs stack too), which would leave
# its caller waiting; so a callback refuses to nest when fewer than _STACK_RESERVE
# levels remain, and every call it leads to starts with room to report its own errors.
_STACK_RESERVE = 200
# Room for a few hundred levels of re-entrancy; measured safe on 8 MiB C stacks (the
# Linux default for the main thread and for threads), C-recursive builtins included.
_RECURSION_LIMIT = 10_000


def _check_stack_room() -> None:
    """Raise RecursionError if fewer than _STACK_RESERVE levels of recursion are left."""
    try:
        sys._getframe(_STACK_RESERVE)
    except ValueError:
        return  # a shallow stack (the common case): no need to probe
    try:
        _descend(_STACK_RESERVE)
    except RecursionError:
        raise RecursionError(
            "Elixir callbacks are nested too deeply: the worker's Python stack is nearly "
            f"exhausted (recursion limit {sys.getrecursionlimit()})"
        ) from None


def _descend(levels: int) -> None:
    if levels:
        _descend(levels - 1)


def _rss_bytes() -> int:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _widen_pipe(fd: int) -> None:
    """Grow a channel pipe from 64 KiB to the system's maximum (1 MiB by default).

    A request or reply must arrive whole before it is used, so a large one crosses in
    as many writer/reader wake-ups as the pipe has room for: fewer, larger steps halve
    the time of a megabyte. An unprivileged limit or a non-pipe fd just keeps 64 KiB.
    """
    try:
        with open("/proc/sys/fs/pipe-max-size", "rb") as limit:
            size = int(limit.read())
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
    except (OSError, ValueError):
        pass


def main() -> None:
    """Entry point of a worker process (started by the nanny)."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(line_buffering=True)
    faulthandler.enable()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), _RECURSION_LIMIT))
    env = os.environ
    extra_paths = [p for p in env.get("SNAKEBRIDGE_PYTHON_PATH", "").split(os.pathsep) if p]
    sys.path[0:0] = extra_paths
    max_frame = int(env.get("SNAKEBRIDGE_MAX_FRAME", str(2**32 - 1)))
    for fd in (3, 4):
        os.set_inheritable(fd, False)
        _widen_pipe(fd)
    if "SNAKEBRIDGE_WORKER" not in env:
        sys.exit("snakebridge: SNAKEBRIDGE_WORKER is not set; workers are started by SnakeBridge")
    # The ETF of the worker's identity, without its version byte: copied into every Ref.
    worker_term = base64.b64decode(env["SNAKEBRIDGE_WORKER"])[1:]
    engine = Engine(
        reader=FrameReader(3, max_frame=max_frame),
        writer=FrameWriter(4, max_frame=max_frame, lock_path=env.get("SNAKEBRIDGE_LOCK_PATH")),
        registry=Registry(max_refs=int(env.get("SNAKEBRIDGE_MAX_REFS", "1000000"))),
        worker_term=worker_term,
        shm_threshold=int(env.get("SNAKEBRIDGE_SHM_THRESHOLD", "0")),
    )
    signal.signal(signal.SIGINT, engine.on_interrupt)
    control = ControlServer(engine, max_frame=max_frame)
    control.start()
    engine.send_event(
        (
            Atom("hello"),
            {
                Atom("protocol"): PROTOCOL_VERSION,
                Atom("python"): sys.version.split()[0],
                Atom("pid"): os.getpid(),
                Atom("control"): control.path,
            },
        )
    )
    with contextlib.suppress(ChannelClosed):
        engine.run()
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit: threads the user's code started must not keep a worker alive after the
    # BEAM has closed its channel.
    os._exit(0)


if __name__ == "__main__":
    main()
