"""Output: what a call prints, sent to the Elixir process that made it.

With `output: :caller`, the lines a call writes to `sys.stdout` from the thread that
runs it are written to the caller's group leader (`IO.write/1` run in the caller, as an
Elixir callback would be), so IEx and `ExUnit.CaptureIO` see them. Everything else is
untouched and reaches Logger through the nanny: output from other threads, stderr,
writes straight to file descriptor 1, and coroutines awaited after the call returned.
"""

from __future__ import annotations

import io
import sys
import threading
from typing import TYPE_CHECKING, Any, TextIO

from snakebridge._callbacks import ElixirFunction
from snakebridge._etf import ErlFun, utf8_text

if TYPE_CHECKING:
    from snakebridge._op_context import Handler, OpContext
    from snakebridge._replies import Replies
    from snakebridge._request import Request

__all__ = ["CallerOutput"]

# `&IO.write/1` as an external fun (EXPORT_EXT): module, function, arity.
_IO_WRITE = ErlFun(b"qw\x09Elixir.IOw\x05writea\x01", 1, "Elixir.IO", "write")


class _CallerStream(io.TextIOBase):
    """`sys.stdout` during a call: the call's thread writes to the caller, line by line
    (and on `flush`); other threads write to the stream it replaced."""

    def __init__(self, original: TextIO, write: ElixirFunction) -> None:
        self._original = original
        self._write = write
        self._thread = threading.get_ident()
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if threading.get_ident() != self._thread:
            return self._original.write(text)
        head, newline, self._pending = (self._pending + text).rpartition("\n")
        if newline:
            self._send(head + newline)
        return len(text)

    def flush(self) -> None:
        if threading.get_ident() != self._thread:
            self._original.flush()
        elif self._pending:
            text, self._pending = self._pending, ""
            self._send(text)

    def _send(self, text: str) -> None:
        try:
            self._write(utf8_text(text))
        except Exception:  # the caller is gone, say: the line still goes somewhere
            self._original.write(text)


class CallerOutput:
    """Runs a request's handler with its stdout going to the request's caller."""

    def __init__(self, replies: Replies) -> None:
        self._replies = replies

    def run(self, handler: Handler, context: OpContext, request: Request) -> Any:
        write = ElixirFunction(
            _IO_WRITE,
            owner=request.caller,
            session=request.session,
            invoke=self._replies.invoke,
        )
        previous = sys.stdout
        stream = _CallerStream(previous, write)
        sys.stdout = stream
        try:
            return handler(context, request)
        finally:
            stream.flush()
            sys.stdout = previous
