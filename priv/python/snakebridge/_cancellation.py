"""Cancellation: the marks that say a call or a caller is cancelled, and the interrupts.

The control thread marks a call (CANCEL) or a dead caller (CANCEL_CALLER) and then
interrupts what is running of it: SIGINT to the main thread, `Future.cancel` for a
coroutine, a "cancel" item to a thread waiting on a callback. The SIGINT handler raises
`CallCancelled` only while main is inside a call and that call (or one enclosing it) is
marked, so a late signal never hits the wrong call, and never lands while main is
writing a frame (`InFlight.interruptible` is False then). A call read after its mark is
skipped by the main loop.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from types import FrameType
from typing import Any

from snakebridge._errors import CallCancelled
from snakebridge._inflight import InFlight
from snakebridge._request import Request

__all__ = ["Cancellation"]

# How long a cancellation mark is kept for a call that has not been read yet.
_MARK_TTL = 600.0


class Cancellation:
    """The cancellation marks of one worker process, and the interrupts they lead to."""

    def __init__(self, inflight: InFlight) -> None:
        self._inflight = inflight
        # Shared with the control and asyncio threads (single dict operations only).
        # Oldest mark first, so expiring them costs O(1) each however many there are.
        # The main loop tests both for emptiness before asking `is_marked`: they are
        # never rebound, so it may keep them.
        self.calls: OrderedDict[bytes, float] = OrderedDict()
        self.callers: OrderedDict[int, float] = OrderedDict()
        # A dead caller is marked until main reads its CALLER_DONE (see caller_done);
        # this holds those whose CALLER_DONE came first. Both change under the lock.
        self._callers_done: set[int] = set()
        self._callers_lock = threading.Lock()

    def cancel(self, tags: set[bytes]) -> bool:
        """Mark the calls with these tags and interrupt those running; True if any ran.

        A call not read yet is skipped when main reads it.
        """
        _mark(self.calls, tags)
        return self._interrupt(lambda r: r.tag in tags)

    def cancel_caller(self, caller: int) -> None:
        """Mark every call of a dead caller, and interrupt those running."""
        with self._callers_lock:
            if caller in self._callers_done:
                self._callers_done.discard(caller)
            else:
                _mark(self.callers, {caller})
        self._interrupt(lambda r: r.caller == caller)

    def caller_done(self, caller: int) -> None:
        """A dead caller's CALLER_DONE came on fd 3, after all its frames.

        Its requests are all read, so its mark (set by CANCEL_CALLER on the control
        socket) is no longer needed: the marks of dead callers stay as few as the
        requests in flight, however many processes come and go.
        """
        with self._callers_lock:
            if self.callers.pop(caller, None) is None:
                self._callers_done.add(caller)

    def is_marked(self, request: Request) -> bool:
        """True if `request`, or its caller, has been cancelled."""
        return request.tag in self.calls or request.caller in self.callers

    def active_marked(self) -> bool:
        """True if a call the main thread is inside has been cancelled."""
        return any(self.is_marked(r) for r in list(self._inflight.active))

    def resume(self) -> None:
        """Main thread, back in an enclosing call's code (or idle): let SIGINT interrupt
        again if inside a call, and honour a cancel that arrived meanwhile."""
        inflight = self._inflight
        inflight.interruptible = bool(inflight.active)
        # Marks are rare: with none, no call to `active_marked` (this runs three times
        # around every callback).
        if inflight.interruptible and (self.calls or self.callers) and self.active_marked():
            raise CallCancelled("the call was cancelled by Elixir (timeout or caller exit)")

    def on_interrupt(self, signum: int, frame: FrameType | None) -> None:
        """SIGINT handler (main thread)."""
        if self._inflight.interruptible and self.active_marked():
            raise CallCancelled("the call was cancelled by Elixir (timeout or caller exit)")

    def _interrupt(self, matches: Callable[[Request], bool]) -> bool:
        """Interrupt the matching calls that are running; True if there were any."""
        inflight = self._inflight
        running = False
        if any(matches(r) for r in list(inflight.active)):
            signal.pthread_kill(inflight.main_ident, signal.SIGINT)
            running = True
        for request, future in list(inflight.async_calls.values()):
            if matches(request):
                future.cancel()
                running = True
        for waiter in list(inflight.waiters.values()):
            if waiter.request is not None and matches(waiter.request):
                waiter.inbox.put(("cancel", None))
                running = True
        return running


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
