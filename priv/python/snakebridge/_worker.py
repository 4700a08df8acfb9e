"""Worker: the engine's main loop, reading requests from fd 3 and running them in order.

Threads of a worker process:

* **main** reads requests from fd 3 and runs them, one at a time, in order. Reading and
  running on the same thread keeps a call to a single wake-up: no hand-off between
  threads on the hot path.
* **control** (see `_control`) reads the control socket, so cancellations and the
  results of callbacks made from other threads are heard while main is busy.
* **asyncio** (see `_aio`) awaits the coroutines that calls return.
* any threads the user's code starts.

`Engine` wires the layers together and keeps the main loop: `run`, and `handle` for one
request. While a call waits on an Elixir callback, `_reentry` serves fd 3 with the same
`handle`; `_cancellation` decides when a SIGINT may raise `CallCancelled` in main.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from snakebridge._aio import EventLoopThread
from snakebridge._cancellation import Cancellation
from snakebridge._channel import FrameReader, FrameWriter
from snakebridge._control import ControlDispatch
from snakebridge._errors import CallCancelled
from snakebridge._etf import Atom, scalar_term
from snakebridge._fast_path import call_module_fast_path
from snakebridge._inflight import InFlight
from snakebridge._op_context import OpContext
from snakebridge._ops import bind
from snakebridge._output import CallerOutput
from snakebridge._reentry import Callbacks
from snakebridge._registry import Registry
from snakebridge._replies import OK_BYTE, Replies
from snakebridge._request import NO_BLOBS, Request, drop_malformed, parse_header, split_frame
from snakebridge._wire import Flag, Op

__all__ = ["Engine"]

# Plain ints: reading an Enum member costs ~50 ns, and these run on every request.
_CALLBACK_RESULT = int(Op.CALLBACK_RESULT)
_CALL_MODULE = int(Op.CALL_MODULE)
_HAS_BLOBS = int(Flag.HAS_BLOBS)
_OUTPUT_CALLER = int(Flag.OUTPUT_CALLER)
_REPORT_START = int(Flag.REPORT_START)


class Engine:
    """One worker process's layers, and its main loop."""

    def __init__(
        self,
        *,
        reader: FrameReader,
        writer: FrameWriter,
        registry: Registry,
        worker_term: bytes,
        shm_threshold: int = 0,
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.registry = registry
        self.aio = EventLoopThread()
        self.inflight = inflight = InFlight()
        self.cancellation = Cancellation(inflight)
        self.replies = Replies(
            writer=writer,
            registry=registry,
            worker_term=worker_term,
            inflight=inflight,
            aio=self.aio,
            shm_threshold=shm_threshold,
        )
        self.context = OpContext(
            registry=registry,
            run_async=self.aio.run,
            cancel=self.cancellation.cancel,
            cancel_caller=self.cancellation.cancel_caller,
            caller_done=self.cancellation.caller_done,
            deliver=inflight.deliver,
            stats=self.stats,
        )
        self.callbacks = Callbacks(
            inflight=inflight,
            replies=self.replies,
            context=self.context,
            cancellation=self.cancellation,
            read_frame=reader.read_frame,
            wait_readable=reader.wait_readable,
            handle=self.handle,
        )
        self.replies.invoke = self.callbacks.invoke
        self.control = ControlDispatch(replies=self.replies, context=self.context)
        self.caller_output = CallerOutput(self.replies)
        # Held here for the main loop's hot path (see `handle`).
        self._main_codec = self.replies.main_codec
        self._marked_calls = self.cancellation.calls
        self._marked_callers = self.cancellation.callers
        self._fast_path = call_module_fast_path(
            codec=self._main_codec,
            inflight=inflight,
            cancellation=self.cancellation,
            writer=writer,
            skip_cancelled=self._skip_cancelled,
            failed=self._call_failed,
            finish=self.replies.finish,
        )

    def run(self) -> None:
        """Serve requests until the BEAM closes fd 3."""
        read = self.reader.read_frame
        deferred = self.inflight.deferred
        while True:
            self.handle(deferred.popleft() if deferred else read())

    def handle(self, frame: memoryview | bytes) -> None:
        """Parse, decode, run and answer one request on the main thread: every call's
        path, written out in one function (a Python call costs ~70 ns here), after the
        fast path's try (see `_fast_path`)."""
        try:
            flags = frame[1]
        except IndexError as exc:
            drop_malformed(frame, exc)
            return
        if not flags:  # so no blobs: the frame is small, copy it whole
            if type(frame) is not bytes:
                frame = bytes(frame)  # a view into the reader's buffer, which it reuses
            if frame[0] == _CALL_MODULE and self._fast_path(frame):
                return
        try:
            if frame[1] & _HAS_BLOBS:
                head, blobs = split_frame(frame)
            else:
                head, blobs = (frame if type(frame) is bytes else bytes(frame)), NO_BLOBS
            request, offset = parse_header(head)
        except (ValueError, IndexError) as exc:
            drop_malformed(frame, exc)
            return
        # Before the body is decoded (which may take segment files) and any user code
        # runs: a caller whose worker dies without sending this re-runs the request on
        # the replacement (see docs/LIFECYCLE.md, "Crashes"). Flags are nearly always 0.
        if request.flags and request.flags & _REPORT_START:
            self.replies.send_started(request)
        if request.op == _CALLBACK_RESULT:
            print("snakebridge: callback result for no waiting callback", file=sys.stderr)
            return
        codec = self._main_codec  # handle() runs on the main thread only
        codec.session = request.session
        codec.caller = request.caller
        if blobs is not NO_BLOBS:
            codec.blobs = blobs
        try:
            handler = bind(codec.decoder, request, head, offset)
        except Exception as exc:
            if request.wants_reply:
                self.replies.reply_error(request, exc)
            return
        finally:
            if blobs is not NO_BLOBS:
                codec.blobs = NO_BLOBS  # let the frame's buffer go
        inflight = self.inflight
        active = inflight.active
        # In `active` before the cancellation check: the control thread marks a call
        # and then looks for it here, so a cancel is either seen now or signalled.
        active.append(request)
        # Marks are rare: the emptiness test saves hashing the tag on every request.
        if (self._marked_calls or self._marked_callers) and self.cancellation.is_marked(request):
            self._skip_cancelled(request)
            return
        try:
            inflight.interruptible = True
            if request.flags & _OUTPUT_CALLER:
                result = self.caller_output.run(handler, self.context, request)
            else:
                result = handler(self.context, request)
            inflight.interruptible = False
        except BaseException as exc:
            self._call_failed(request, exc)
            return
        active.pop()
        # The commonest reply of all, a scalar to a request with no flags (return mode
        # auto, a reply wanted), is written right here; `finish` sees to everything else.
        term = None if request.flags else scalar_term(result)
        if term is None:
            self.replies.finish(request, result)
        else:
            self.writer.write_small(OK_BYTE + request.tag + term)
        if active:
            self.cancellation.resume()

    def _skip_cancelled(self, request: Request) -> None:
        """`request`, just pushed on `active`, was cancelled before it ran."""
        self.inflight.active.pop()
        if request.wants_reply:
            self.replies.reply_cancelled(request)

    def _call_failed(self, request: Request, exc: BaseException) -> None:
        """The innermost active call, `request`, raised `exc`: answer it, or re-raise a
        cancellation that belongs to an enclosing call."""
        inflight = self.inflight
        inflight.interruptible = False
        active = inflight.active
        active.pop()
        if isinstance(exc, CallCancelled):
            if request.wants_reply:
                self.replies.reply_cancelled(request)
            if active and not self.cancellation.is_marked(request):
                raise exc  # an enclosing call was cancelled: keep unwinding to it
        elif request.wants_reply:
            self.replies.reply_error(request, exc)
        self.cancellation.resume()

    def stats(self) -> dict[Atom, Any]:
        sessions, refs = self.registry.counts()
        return {
            Atom("sessions"): sessions,
            Atom("refs"): refs,
            Atom("pending"): self.inflight.pending(),
            Atom("callbacks"): len(self.inflight.waiters) + len(self.inflight.main_callbacks),
            Atom("os_pid"): os.getpid(),
            Atom("rss"): _rss_bytes(),
            # Live memory blocks of Python's allocator: what a leak grows, where RSS
            # also holds the allocator's free but unreturned arenas.
            Atom("python_blocks"): sys.getallocatedblocks(),
        }


def _rss_bytes() -> int:
    with open("/proc/self/statm", "rb") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
