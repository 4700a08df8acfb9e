"""In-flight calls: which calls a worker is running now, on which thread, and who waits.

The state that the main loop, re-entrancy, cancellation and replies share, with no
behaviour of its own beyond handing an item to a waiting thread:

* `active`, `interruptible`, `deferred`, `main_callbacks` and `main_results` belong to
  the main thread; the control thread only reads `active` (a copy of it) to decide on
  a SIGINT, and the length of `main_callbacks` for the stats.
* `async_calls` and `waiters` change on the threads that run those calls, and are read
  by the control thread: single dict operations only, atomic under the GIL.
"""

from __future__ import annotations

import contextvars
import queue
import sys
import threading
from collections import deque
from concurrent.futures import Future
from typing import Any

from snakebridge._request import Request

__all__ = ["InFlight", "Waiter", "current_request"]

# The request a coroutine (on the asyncio thread) belongs to, for its callbacks.
current_request: contextvars.ContextVar[Request | None] = contextvars.ContextVar(
    "snakebridge_request", default=None
)


class Waiter:
    """A thread waiting for an Elixir callback's result.

    While it waits it also runs the calls that the callback makes back into Python
    (items `("call", ...)`), which the control thread hands to it, so re-entrancy works
    from any thread. `request` is the call it serves, None for a callback made outside
    any call (an `orphan_callback`). The main thread waits without one: it reads fd 3
    itself (see `_reentry`), and is interrupted by SIGINT, not through an inbox.
    """

    __slots__ = ("inbox", "request")

    def __init__(self, request: Request | None) -> None:
        self.request = request
        self.inbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()


class InFlight:
    """The calls of one worker process that have been read and not yet answered."""

    __slots__ = (
        "active",
        "async_calls",
        "deferred",
        "interruptible",
        "main_callbacks",
        "main_ident",
        "main_results",
        "waiters",
    )

    def __init__(self) -> None:
        self.main_ident = threading.get_ident()
        # Main thread only: the calls it is inside (innermost last), the callbacks it
        # waits on (innermost last) and the outcomes of those that have come, by id, and
        # requests set aside until the outermost call is done. `interruptible` is True
        # while a SIGINT may raise CallCancelled in main.
        self.active: list[Request] = []
        self.main_callbacks: list[int] = []
        self.main_results: dict[int, Any] = {}
        self.deferred: deque[bytes] = deque()
        self.interruptible = False
        self.async_calls: dict[bytes, tuple[Request, Future[Any]]] = {}
        self.waiters: dict[int, Waiter] = {}

    def deliver(self, callback_id: int, item: tuple[str, Any]) -> None:
        """Hand `item` to the thread waiting on `callback_id`, if there is one."""
        waiter = self.waiters.get(callback_id)
        if waiter is None:
            print(f"snakebridge: no thread waits on callback {callback_id}", file=sys.stderr)
        else:
            waiter.inbox.put(item)

    def pending(self) -> int:
        """Requests read or set aside and not yet answered."""
        return len(self.deferred) + len(self.active) + len(self.async_calls)
