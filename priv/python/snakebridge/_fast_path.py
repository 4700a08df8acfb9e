"""Fast path: the commonest request of all, answered in one Python frame.

A lone `math.sqrt(16)`: a CALL_MODULE with no flags (return mode auto, a reply wanted,
no blobs, output to the logger), no parent (not nested in a callback), a module and
function seen before and a plain argument list. `Engine.handle` tries this path first
for every CALL_MODULE without flags; it reads the header, finds the function, decodes
the arguments, calls, and writes a scalar reply in one frame, where the general path
goes through `parse_header`, `bind`, `op_call` and `Replies.finish`. Whatever does not
fit answers False before anything is done, and the general path takes the frame from
the start: a short frame, a parent, names not seen yet (the general path caches them),
keyword arguments, arguments that fail to decode (the general path reports why). A
result that is not a scalar goes to `Replies.finish` (refs, large results, coroutines),
and an exception to the engine's own handling, so errors, cancellation and replies are
one code in both paths.

It only ever runs with no enclosing call: a frame with a parent goes the general way,
and one read while main waits on a callback is set aside until the outer call is done
(`_reentry`), so there is no enclosing cancellation to resume or re-raise here.

Measured in-process with `bench/engine_handle.py` (Debian's PGO+LTO Python 3.11.2,
pinned, alternated): `handle` of `math.sqrt(16)` took 3.26 µs (8 Python and 23 C calls)
through the general path and 2.81 µs (6 Python and 20 C calls) here. Reading a list of
small ints here (the VM writes `[16]` as a STRING_EXT) rather than through the decoder
brought it from 2.72 to 2.48 µs, 325 bytecode instructions against 372
(bench/results/engine_handle.txt).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module
from typing import Any

from snakebridge._cancellation import Cancellation
from snakebridge._channel import FrameWriter
from snakebridge._etf import SMALL_TUPLE_EXT, STRING_EXT, VERSION, scalar_term
from snakebridge._inflight import InFlight
from snakebridge._ops import CALL_TARGETS, in_main_namespace, resolve_attribute
from snakebridge._replies import OK_BYTE, ThreadCodec
from snakebridge._request import SESSION_CALLER, Request
from snakebridge._wire import Op

__all__ = ["FastPath", "call_module_fast_path"]

# Serves one frame; False if it is not for the fast path (nothing was done then).
FastPath = Callable[[bytes], bool]

_SESSION_CALLER = SESSION_CALLER.unpack_from
_CALL_MODULE = int(Op.CALL_MODULE)
_new = object.__new__


def call_module_fast_path(
    *,
    codec: ThreadCodec,
    inflight: InFlight,
    cancellation: Cancellation,
    writer: FrameWriter,
    skip_cancelled: Callable[[Request], None],
    failed: Callable[[Request, BaseException], None],
    finish: Callable[[Request, Any], None],
) -> FastPath:
    """The fast path of one engine's main thread, over its parts.

    `skip_cancelled` answers a request cancelled before it ran, `failed` a call that
    raised (called from inside the `except` clause), and `finish` any result that is
    not a scalar: the engine's own handling, shared with its general path.
    """
    decode = codec.decoder.decode
    active = inflight.active
    marked_calls = cancellation.calls
    marked_callers = cancellation.callers
    is_marked = cancellation.is_marked
    write_small = writer.write_small
    targets = CALL_TARGETS
    modules = sys.modules

    def call_module(frame: bytes) -> bool:
        try:
            tag_end = 3 + frame[2]
            names_at = tag_end + 17
            if frame[names_at - 1]:  # a parent: a call nested in a callback
                return False
            args_at = names_at + 1 + frame[names_at]
            args_at += 1 + frame[args_at]
            target = targets.get(frame[names_at:args_at])
            if target is None or frame[args_at + 1] == SMALL_TUPLE_EXT:  # or kwargs
                return False
        except IndexError:  # a frame too short for its header
            return False
        session, caller = _SESSION_CALLER(frame, tag_end)
        if frame[args_at + 1] == STRING_EXT:
            # A list of small ints, [16]: read here, not by the decoder (two calls and,
            # net, 47 bytecode instructions less, see bench/engine_handle.py).
            if frame[args_at] != VERSION or len(frame) < args_at + 4:
                return False
            end = args_at + 4 + ((frame[args_at + 2] << 8) | frame[args_at + 3])
            if end != len(frame):
                return False
            args = list(frame[args_at + 4 : end])
        else:
            codec.session = session
            codec.caller = caller
            try:
                args = decode(frame, args_at)
            except Exception:
                return False
            if type(args) is not list:
                return False
        module_name, name = target
        # As `parse_header` fills it in: the request is what cancellation and the
        # engine's error handling know a call by.
        request = _new(Request)
        request.op = _CALL_MODULE
        request.flags = 0
        request.tag = frame[2:tag_end]
        request.session = session
        request.caller = caller
        request.parent = b""
        request.body = None
        active.append(request)
        if (marked_calls or marked_callers) and is_marked(request):
            skip_cancelled(request)
            return True
        try:
            inflight.interruptible = True
            module = modules.get(module_name) or import_module(module_name)
            fn = getattr(module, name) if "." not in name else resolve_attribute(module, name)
            result = fn(*args)
            inflight.interruptible = False
        except BaseException as exc:
            request.body = module_name, name, args, None  # names the call in its traceback
            failed(request, exc)
            return True
        active.pop()
        term = scalar_term(result)
        if term is None:
            request.body = module_name, name, args, None  # for an error found later
            finish(request, result)
        else:
            write_small(OK_BYTE + request.tag + term)
        return True

    # Run with __name__ "__main__", as `op_call` is (see `in_main_namespace`): the
    # function called sees this frame as its caller.
    fast_path: FastPath = in_main_namespace(call_module)
    return fast_path
