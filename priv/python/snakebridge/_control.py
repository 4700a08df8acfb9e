"""Control: the side channel heard while the main thread is busy, and its dispatch.

A unix stream socket in a private directory; the Elixir worker connects once, right
after the hello, and the socket's name is then unlinked so nothing else can connect.
It carries cancellations, stats, the results of callbacks made from threads other than
main, and the calls those callbacks make back into Python. Its closing means the BEAM
is gone, and the worker exits.

The control thread runs `CONTROL_OPS` itself (they never wait on Python code); a call
nested in a callback goes to the thread that waits on that callback.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import threading
from collections.abc import Callable

from snakebridge._channel import ChannelClosed, FrameReader, FrameTooLarge
from snakebridge._op_context import OpContext
from snakebridge._ops import CONTROL_OPS
from snakebridge._replies import Replies
from snakebridge._request import parse_header, split_frame

__all__ = ["ControlDispatch", "ControlServer"]


class ControlServer:
    """Listens for the Elixir worker's control connection and serves it on a thread."""

    def __init__(self, dispatch: Callable[[memoryview], None], *, max_frame: int) -> None:
        self._dispatch = dispatch
        self._max_frame = max_frame
        self._dir = tempfile.mkdtemp(prefix="snakebridge-")
        self.path = os.path.join(self._dir, "control.sock")
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(1)

    def start(self) -> None:
        threading.Thread(target=self._serve, name="snakebridge-control", daemon=True).start()

    def _serve(self) -> None:
        connection, _ = self._listener.accept()
        self._listener.close()
        os.unlink(self.path)
        os.rmdir(self._dir)
        reader = FrameReader(connection.fileno(), max_frame=self._max_frame)
        while True:
            try:
                frame = reader.read_frame()
            except ChannelClosed:
                sys.stderr.flush()
                os._exit(0)
            except FrameTooLarge as exc:
                # The reader has skipped it; the thread must live on for the next one.
                print(f"snakebridge: control frame dropped: {exc}", file=sys.stderr)
                continue
            try:
                self._dispatch(frame)
            except Exception as exc:
                print(f"snakebridge: bad control frame: {exc!r}", file=sys.stderr)


class ControlDispatch:
    """What the control thread does with each frame it reads."""

    def __init__(self, *, replies: Replies, context: OpContext) -> None:
        self._replies = replies
        self._context = context

    def handle(self, view: memoryview | bytes) -> None:
        """Handle one control-socket frame (on the control thread)."""
        head, blobs = split_frame(bytes(view))
        request, offset = parse_header(head)
        nested = len(request.parent) == 8
        try:
            handler = self._replies.decode(request, head, offset, blobs)
        except Exception as exc:
            if not (nested and request.wants_reply):
                raise
            self._replies.reply_error(request, exc)
            return
        if request.op in CONTROL_OPS:
            result = handler(self._context, request)
            # None is no answer: CALLBACK_RESULT and CANCEL_CALLER answer nothing (the
            # first is itself an answer, and carries no NO_REPLY flag).
            if request.wants_reply and result is not None:
                self._replies.reply(request, result)
        elif nested:
            self._context.deliver(int.from_bytes(request.parent), ("call", (request, handler)))
        else:
            print(f"snakebridge: unexpected control op {request.op}", file=sys.stderr)
