"""Re-entrancy: running an Elixir function from Python, and the calls it makes back.

Calling an `ElixirFunction` sends a CALLBACK frame to the Elixir caller of the call in
progress and waits for its CALLBACK_RESULT. On the main thread, the wait serves fd 3
(`_serve_main`): calls the callback makes (tagged with the callback's id as their
parent) run right there, nested, through the main loop's own `handle`; unrelated calls
are set aside and run when the outer call is done. On any other thread the result, and
the calls the callback makes, come through the control thread into the waiting thread's
inbox, and run there. With no call in progress (a thread the user started), an Elixir
task runs the function: an `orphan_callback` event.
"""

from __future__ import annotations

import itertools
import struct
import sys
import threading
from collections.abc import Callable
from typing import Any

from snakebridge._callbacks import ElixirFunction
from snakebridge._cancellation import Cancellation
from snakebridge._errors import CallbackOwnerGone, CallCancelled, ElixirError
from snakebridge._etf import Atom
from snakebridge._inflight import InFlight, Waiter, current_request
from snakebridge._op_context import Handler, OpContext
from snakebridge._ops import callback_result
from snakebridge._replies import Replies
from snakebridge._request import (
    SESSION_CALLER,
    Request,
    drop_malformed,
    parse_header,
    split_frame,
)
from snakebridge._wire import Op

__all__ = ["Callbacks", "check_stack_room", "unwrap"]

# Re-entrancy stacks about ten levels of recursion per callback level (engine frames and
# the C calls between them, plus the user's own frames). An error raised at the
# recursion limit cannot be reported (formatting it needs stack too), which would leave
# its caller waiting; so a callback refuses to nest when fewer than _STACK_RESERVE
# levels remain, and every call it leads to starts with room to report its own errors.
_STACK_RESERVE = 200

# Served at once even while main waits on a callback: they never run user code.
_SERVED_WHILE_WAITING = frozenset({Op.RELEASE, Op.RELEASE_MADE, Op.STATS})
# A plain int: reading an Enum member costs ~50 ns, on every callback's result.
_CALLBACK_RESULT = int(Op.CALLBACK_RESULT)
# A CALLBACK_RESULT frame's op and flags when it has no flags (no blobs).
_PLAIN_RESULT = bytes((_CALLBACK_RESULT, 0))
_SESSION_CALLER = SESSION_CALLER.unpack_from
_MAIN = Atom("main")
_CONTROL = Atom("control")


class Callbacks:
    """Invokes Elixir functions for the Python code of one worker process."""

    def __init__(
        self,
        *,
        inflight: InFlight,
        replies: Replies,
        context: OpContext,
        cancellation: Cancellation,
        read_frame: Callable[[], memoryview],
        wait_readable: Callable[[], None],
        handle: Callable[[bytes], None],
    ) -> None:
        self._inflight = inflight
        self._replies = replies
        self._context = context
        self._cancellation = cancellation
        # fd 3's reader, and the main loop's request handler.
        self._read_frame = read_frame
        self._wait_readable = wait_readable
        self._handle = handle
        self._ids = itertools.count(1)
        self._main_codec = replies.main_codec  # `_serve_main` runs on the main thread only

    def invoke(self, fn: ElixirFunction, args: tuple[Any, ...]) -> Any:
        """Run an Elixir function and return its result (ElixirFunction.__call__)."""
        check_stack_room()
        callback_id = next(self._ids)
        inflight = self._inflight
        if threading.get_ident() == inflight.main_ident and inflight.active:
            self._send(inflight.active[-1], callback_id, fn, args, _MAIN)
            return self._serve_main(callback_id)
        request = current_request.get()
        if request is None and inflight.active:
            request = inflight.active[-1]
        waiter = Waiter(request)
        inflight.waiters[callback_id] = waiter
        try:
            if request is not None:
                self._send(request, callback_id, fn, args, _CONTROL)
            else:
                # No call is in progress: an Elixir task runs it (see SnakeBridge.Worker).
                self._replies.codec().session = fn.session
                event = (Atom("orphan_callback"), callback_id, fn.fun, list(args), fn.owner)
                self._replies.send_event(event)
            return self._wait(waiter)
        finally:
            del inflight.waiters[callback_id]

    def _send(
        self,
        request: Request,
        callback_id: int,
        fn: ElixirFunction,
        args: tuple[Any, ...],
        channel: Atom,
    ) -> None:
        # No SIGINT may land while the frame is half written.
        inflight = self._inflight
        interruptible, inflight.interruptible = inflight.interruptible, False
        try:
            payload = (callback_id, fn.fun, list(args), channel, fn.owner)
            self._replies.send_callback(request, payload)
        finally:
            inflight.interruptible = interruptible

    def _serve_main(self, callback_id: int) -> Any:
        """Main thread: serve fd 3 until the callback's result arrives; that result.

        Each frame read meanwhile is a callback's result, stored for its wait (this
        one's, or an enclosing callback's when results cross); a call nested in one of
        the callbacks, run now; or anything else, which waits.

        A cancel's SIGINT interrupts main only while it waits for a frame: once one is
        taken it is uninterruptible until the frame is stored or run, and the cancel is
        then honoured by `resume` (a frame taken and dropped by the raise would leave
        its caller waiting forever).
        """
        inflight = self._inflight
        results = inflight.main_results
        read_frame = self._read_frame
        resume = self._cancellation.resume
        inflight.main_callbacks.append(callback_id)
        try:
            resume()
            while callback_id not in results:
                self._wait_readable()
                inflight.interruptible = False
                frame = bytes(read_frame())
                if not (frame.startswith(_PLAIN_RESULT) and self._take_plain_result(frame)):
                    self._take(frame)
                resume()
        finally:
            # Uninterruptible until both are gone: a cancel's raise between them would
            # leave a result behind. Its result goes too when a cancel ends the wait.
            inflight.interruptible = False
            inflight.main_callbacks.pop()
            outcome = results.pop(callback_id, None)
        resume()  # back in the enclosing call's code
        return unwrap(outcome)

    def _take(self, frame: bytes) -> None:
        try:
            head, blobs = split_frame(frame)
            request, offset = parse_header(head)
        except (ValueError, IndexError) as exc:
            drop_malformed(frame, exc)
            return
        if request.op == _CALLBACK_RESULT:
            self._replies.decode(request, head, offset, blobs)
            self._store_result(*request.body)
        elif self._nests_in_main(request) or request.op in _SERVED_WHILE_WAITING:
            self._handle(frame)
        else:
            self._inflight.deferred.append(frame)

    def _take_plain_result(self, frame: bytes) -> bool:
        """Store a CALLBACK_RESULT with no flags, the commonest frame of the wait, read
        without building its request (`split_frame`, `parse_header`, `Replies.decode`
        and `bind`: net, about 135 bytecode instructions a round trip,
        `bench/callback_profile.exs`). False, with nothing done, for a frame that ends
        inside its header: the general path reports it."""
        try:
            tag_end = 3 + frame[2]
            session, caller = _SESSION_CALLER(frame, tag_end)
            body = tag_end + 17 + frame[tag_end + 16]
        except (IndexError, struct.error):
            return False
        if body > len(frame):
            return False
        codec = self._main_codec
        codec.session = session
        codec.caller = caller
        self._store_result(*callback_result(codec.decoder, frame, body))
        return True

    def _store_result(self, callback_id: int, outcome: Any) -> None:
        if callback_id in self._inflight.main_callbacks:
            self._inflight.main_results[callback_id] = outcome
        else:
            print(f"snakebridge: no thread waits on callback {callback_id}", file=sys.stderr)

    def _nests_in_main(self, request: Request) -> bool:
        return (
            len(request.parent) == 8
            and int.from_bytes(request.parent) in self._inflight.main_callbacks
        )

    def _wait(self, waiter: Waiter) -> Any:
        """A non-main thread: wait for the result, running the calls nested in it."""
        while True:
            kind, payload = waiter.inbox.get()
            if kind == "result":
                return unwrap(payload)
            if kind == "call":
                self._run_nested(*payload)
            else:
                raise CallCancelled("the call was cancelled while waiting for an Elixir callback")

    def _run_nested(self, request: Request, handler: Handler) -> None:
        """Run a call nested in a callback on the thread that waits on that callback."""
        try:
            result = handler(self._context, request)
        except BaseException as exc:
            if request.wants_reply:
                self._replies.reply_error(request, exc)
            return
        self._replies.finish(request, result)


def unwrap(outcome: Any) -> Any:
    """The result of an Elixir callback, or the Python exception that stands for its error."""
    if type(outcome) is tuple and len(outcome) == 2 and outcome[0] == "ok":
        return outcome[1]
    if type(outcome) is tuple and len(outcome) == 4 and outcome[0] in ("error", "owner_gone"):
        _, message, kind, stacktrace = outcome
        cls = CallbackOwnerGone if outcome[0] == "owner_gone" else ElixirError
        raise cls(message, kind=kind, elixir_stacktrace=stacktrace)
    raise ElixirError(f"malformed callback result: {outcome!r}")


def check_stack_room() -> None:
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
