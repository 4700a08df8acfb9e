"""The worker's persistent asyncio event loop, run in its own thread.

Coroutines returned by calls are awaited here, so the main thread goes straight back to
reading requests: awaits from different Elixir processes overlap instead of queueing
behind one another.
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
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, awaitable: Awaitable[T]) -> T:
        """Await `awaitable` on the loop and block the calling thread for its result."""
        return self.submit(_await(awaitable)).result()


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable
