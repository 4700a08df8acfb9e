"""Op context: the narrow interface through which op handlers reach the worker.

Handlers get an `OpContext`, never the engine: what an op may do to the worker is this
list, and a new op that needs more adds a field here, in sight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from snakebridge._etf import Atom
from snakebridge._registry import Registry, RunAsync
from snakebridge._request import Request

__all__ = ["Handler", "OpContext"]


@dataclass(frozen=True, slots=True)
class OpContext:
    """What handlers may use of the worker: nothing else of it reaches them."""

    registry: Registry
    # Blocks until an awaitable is done on the worker's event loop.
    run_async: RunAsync
    # Cancellation (see `_cancellation.Cancellation`): mark and interrupt calls by tag
    # (True if one was running), or a dead caller's; forget a caller whose last frame
    # has been read.
    cancel: Callable[[set[bytes]], bool]
    cancel_caller: Callable[[int], None]
    caller_done: Callable[[int], None]
    # Hands an item to the thread waiting on a callback id (InFlight.deliver).
    deliver: Callable[[int, tuple[str, Any]], None]
    stats: Callable[[], dict[Atom, Any]]


# An op's handler: the decoded request in, the value to answer with out.
Handler = Callable[[OpContext, Request], Any]
