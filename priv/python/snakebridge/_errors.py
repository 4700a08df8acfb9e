"""Errors: the exceptions the engine raises, and how any exception crosses to Elixir.

Hierarchy (Python side)::

    Exception
     ├── ElixirError          an Elixir function raised, threw or exited (callbacks,
     │                        with-blocks); Python code may catch it
     │    └── CallbackOwnerGone   the process that passed the function has exited
     └── RefError             a ref that is released, forged, from a lost worker, or over
                              the session cap; crosses as SnakeBridge.RefError
    KeyboardInterrupt
     └── CallCancelled        raised in the main thread when Elixir cancels the running
                              call (timeout or caller exit)

Every exception that reaches the dispatcher becomes one Elixir exception struct
(`SnakeBridge.PythonError`, `SnakeBridge.RefError`, …); `write_error` is that
translation, done once here at the boundary.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from snakebridge._etf import DecodeError, utf8_text

if TYPE_CHECKING:
    from snakebridge._etf import Encoder

__all__ = [
    "CALL_FILE",
    "CallCancelled",
    "CallbackOwnerGone",
    "ElixirError",
    "RefError",
    "format_traceback",
    "qualified_name",
    "write_error",
]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class ElixirError(Exception):
    """An Elixir function called from Python raised, threw or exited.

    `kind` is the Elixir exception module (`"RuntimeError"`) or `"throw"`/`"exit"`;
    `elixir_stacktrace` is the formatted Elixir stacktrace, when there is one.
    """

    def __init__(self, message: str, *, kind: str = "error", elixir_stacktrace: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.elixir_stacktrace = elixir_stacktrace

    def __str__(self) -> str:
        message = super().__str__()
        if self.elixir_stacktrace:
            return f"{message}\n{self.elixir_stacktrace}"
        return message


class CallbackOwnerGone(ElixirError):
    """The Elixir process that passed this function to Python has exited."""


class RefError(Exception):
    """A ref that cannot be resolved. `reason` is one of the `SnakeBridge.RefError` atoms."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class CallCancelled(KeyboardInterrupt):
    """Raised in the worker's main thread when Elixir cancels the running call.

    A KeyboardInterrupt, so that libraries unwind as they do on Ctrl-C and a plain
    `except Exception` in user code does not swallow it.
    """


# Users import these from the package, so they are named after it: error types read
# `snakebridge.ElixirError` in tracebacks and in `SnakeBridge.PythonError.type`.
for _public in (ElixirError, CallbackOwnerGone, RefError, CallCancelled):
    _public.__module__ = "snakebridge"


def qualified_name(cls: type) -> str:
    """`"ValueError"` for builtins, `"json.decoder.JSONDecodeError"` otherwise."""
    module = cls.__module__
    if module == "builtins":
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def _user_traceback(exc: BaseException) -> TracebackType | None:
    """The traceback without the engine's own frames at its head (None when the error
    came straight from a C function the engine called)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        tb = tb.tb_next
    return tb


def _struct_header(enc: Encoder, name: str, fields: int) -> None:
    enc.map_header(fields + 2)
    enc.atom("__struct__")
    enc.atom(name)
    enc.atom("__exception__")
    enc.atom("true")


# The file name of the frame that stands for the bridge's call in a traceback.
CALL_FILE = "<snakebridge>"


def format_traceback(exc: BaseException, call: str | None = None) -> str:
    """`exc`'s traceback in Python's standard shape, with the engine's own frames
    replaced by one that names the call made (`File "<snakebridge>", line 1, in
    math.sqrt`), so that an error raised straight from a C function still has its
    header and a frame. Chained exceptions (`raise ... from`, errors while handling
    another) are formatted as Python does."""
    te = traceback.TracebackException(
        type(exc), exc, _user_traceback(exc), compact=True, lookup_lines=False
    )
    # No source line to show: `line=""` keeps linecache from looking for one.
    frame = traceback.FrameSummary(CALL_FILE, 1, call or "<call>", lookup_line=False, line="")
    te.stack.insert(0, frame)
    return "".join(te.format())


def _clear_tracebacks(exc: BaseException) -> None:
    """Drop the tracebacks of `exc` and of the exceptions chained to it, so that keeping
    the exception does not keep every frame it went through (and their locals)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending += (current.__cause__, current.__context__)


def write_error(
    enc: Encoder,
    exc: BaseException,
    *,
    call: str | None = None,
    keep: Callable[[Encoder, BaseException], None] | None = None,
) -> None:
    """Encode `exc` as the Elixir exception struct that represents it; `call` names
    the call that raised it, for its traceback (see `format_traceback`).

    For a `PythonError`, `keep` writes the term of its `ref` field (a ref to `exc`,
    whose tracebacks are cleared first); without it the field is nil.
    """
    if isinstance(exc, RefError):
        _struct_header(enc, "Elixir.SnakeBridge.RefError", 2)
        enc.atom("reason")
        enc.atom(exc.reason)
        enc.atom("message")
        enc.term(str(exc))
        return
    if isinstance(exc, DecodeError):
        # A request whose arguments Python could not take (colliding keys, a bad Array):
        # the same failure as one Elixir refuses before sending.
        _struct_header(enc, "Elixir.SnakeBridge.EncodeError", 3)
        enc.atom("path")
        enc.term("(as decoded in Python)")
        enc.atom("value")
        enc.atom("nil")
        enc.atom("reason")
        enc.term(str(exc))
        return
    cls = type(exc)
    formatted = format_traceback(exc, call)
    _struct_header(enc, "Elixir.SnakeBridge.PythonError", 5)
    enc.atom("type")
    enc.term(qualified_name(cls))
    enc.atom("message")
    enc.term(utf8_text(_safe_str(exc)))
    enc.atom("traceback")
    enc.term(utf8_text(formatted))
    enc.atom("bases")
    enc.term([qualified_name(base) for base in cls.__mro__ if base is not object])
    enc.atom("ref")
    if keep is None:
        enc.atom("nil")
    else:
        _clear_tracebacks(exc)
        keep(enc, exc)


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception as inner:  # a broken __str__ must not hide the original error
        return f"<str() failed: {type(inner).__name__}>"
