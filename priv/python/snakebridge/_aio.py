"""The worker's persistent asyncio event loop, run in its own thread.

Coroutines returned by calls are awaited here, so the main thread goes straight back to
reading requests: awaits from different Elixir processes overlap instead of queueing
behind one another.

Cancelling a submitted coroutine asks its task to stop, and its future is resolved only
once the task has actually ended. (`asyncio.run_coroutine_threadsafe` resolves its
future as cancelled at once, while the coroutine may run on: one that never awaits
would then hold the loop forever, unseen, and every later coroutine would time out.)
Here the call stays unanswered, so its caller's grace period runs out and the worker is
replaced, as for a C call holding the GIL.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

__all__ = ["EventLoopThread"]

T = TypeVar("T")


class EventLoopThread:
    """An event loop started on first use and kept for the life of the worker."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            with self._lock:
                if self._loop is None:
                    loop = asyncio.new_event_loop()
                    thread = threading.Thread(
                        target=loop.run_forever, name="snakebridge-asyncio", daemon=True
                    )
                    thread.start()
                    self._loop = loop
        return self._loop

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule `coro`; the future's done-callbacks run in the loop thread."""
        future = _TaskFuture[T](self.loop)
        self.loop.call_soon_threadsafe(future.start, coro)
        return future

    def run(self, awaitable: Awaitable[T]) -> T:
        """Await `awaitable` on the loop and block the calling thread for its result."""
        return self.submit(_await(awaitable)).result()


class _TaskFuture(concurrent.futures.Future[T]):
    """The future of a coroutine run as a task: resolved when the task ends (see above)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._loop = loop
        self._task: asyncio.Task[T] | None = None
        self._stop_requested = False

    def start(self, coro: Coroutine[Any, Any, T]) -> None:
        """Loop thread: run `coro` as a task."""
        task = self._loop.create_task(coro)
        self._task = task
        task.add_done_callback(self._settle)
        if self._stop_requested:
            task.cancel()

    def cancel(self) -> bool:
        """Ask the task to stop; the future is cancelled once it has (any thread)."""
        if self.done():
            return False
        self._loop.call_soon_threadsafe(self._stop)
        return True

    def _stop(self) -> None:
        self._stop_requested = True
        if self._task is not None:
            self._task.cancel()

    def _settle(self, task: asyncio.Task[T]) -> None:
        if task.cancelled():
            super().cancel()
        elif (exc := task.exception()) is not None:
            self.set_exception(exc)
        else:
            self.set_result(task.result())


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable
