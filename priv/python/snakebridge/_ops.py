"""Ops: what each request does, one handler per op code, in one table.

A handler takes an `OpContext` (the few parts of the worker an op may use, see
`_op_context`) and the decoded request, and returns the value to send back; whoever ran
it encodes that by the request's return mode. Handlers never write to the channel and
never catch user exceptions: the caller turns whatever they raise into an error reply,
so every op gets the same error handling. The ops for Python's own idioms (iteration,
len/in, with-blocks) are in `_idioms`.

`bind` decodes a request's body and finds its handler. It is the only reader of the
table, whichever thread or channel the request came on: the main loop, a thread waiting
on a callback, or the control thread (which runs `CONTROL_OPS` itself).
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib
import itertools
import sys
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import CodeType
from typing import Any, TypeVar, cast

from snakebridge._etf import (
    ATOM_EXT,
    INTEGER_EXT,
    NEW_FLOAT_EXT,
    SMALL_ATOM_UTF8_EXT,
    SMALL_INTEGER_EXT,
    SMALL_TUPLE_EXT,
    VERSION,
    Atom,
    Decoder,
    read_f64,
    read_i32,
    utf8_text,
)
from snakebridge._idioms import (
    op_contains,
    op_ctx_enter,
    op_ctx_exit,
    op_iter_close,
    op_iter_next,
    op_iter_open,
    op_len,
)
from snakebridge._op_context import Handler, OpContext
from snakebridge._request import Request, tag_of
from snakebridge._terms import ModuleName
from snakebridge._wire import Op

__all__ = [
    "AWAIT_RESULT",
    "CALL_TARGETS",
    "CONTROL_OPS",
    "ArrayExport",
    "bind",
    "call_name",
    "callback_result",
    "in_main_namespace",
    "op_array_export",
    "op_call",
    "op_callback_result",
    "op_caller_done",
    "op_cancel",
    "op_cancel_caller",
    "op_eval",
    "op_getattr",
    "op_getitem",
    "op_identity",
    "op_release",
    "op_release_made",
    "op_release_session",
    "op_repr",
    "op_setattr",
    "op_setitem",
    "op_stats",
    "op_str",
    "resolve_attribute",
]


# Ops whose result is awaited when it is a coroutine or other awaitable.
AWAIT_RESULT = frozenset({Op.CALL, Op.CALL_MODULE, Op.EVAL})

# Ops the control thread runs itself, as soon as they arrive: the others that come on
# the control socket are calls nested in a callback, run by the thread that waits on it.
CONTROL_OPS = frozenset({Op.CANCEL, Op.CANCEL_CALLER, Op.CALLBACK_RESULT, Op.STATS})

_CALL_MODULE = int(Op.CALL_MODULE)
_CALLBACK_RESULT = int(Op.CALLBACK_RESULT)


@dataclass(slots=True)
class ArrayExport:
    """An ndarray to send as `%SnakeBridge.Array{}` rather than as a ref."""

    array: Any


def _module(name: str) -> Any:
    module = sys.modules.get(name)
    if module is None:
        module = importlib.import_module(name)
    return module


def _target(target: Any) -> Any:
    """A module name resolves to the module; anything else, a str included (a ref to
    one), is already the object."""
    if type(target) is ModuleName:
        return _module(target)
    return target


def resolve_attribute(obj: Any, name: str) -> Any:
    """`obj`'s attribute `name`, which may be a dotted path (`linalg.norm`)."""
    if "." not in name:
        return getattr(obj, name)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def _kwargs(kwargs: Any) -> dict[str, Any]:
    pairs: Iterable[Any]
    if type(kwargs) is dict:
        pairs = kwargs.items()
    elif type(kwargs) is list:
        pairs = kwargs
    else:
        raise TypeError(f"kwargs must be a keyword list or a map, got {type(kwargs).__name__}")
    result: dict[str, Any] = {}
    for pair in pairs:
        if type(pair) is not tuple or len(pair) != 2 or type(pair[0]) is not str:
            raise TypeError(f"kwargs entries must be {{name, value}} pairs, got {pair!r}")
        result[pair[0]] = pair[1]
    return result


_Fn = TypeVar("_Fn", bound=Callable[..., Any])

_modules = sys.modules
_import_module = importlib.import_module


def _op_call(ctx: OpContext, req: Request) -> Any:
    target, name, args, kwargs = req.body
    if type(target) is ModuleName:
        target = _modules.get(target) or _import_module(target)
    fn = getattr(target, name) if "." not in name else resolve_attribute(target, name)
    if kwargs:
        return fn(*args, **_kwargs(kwargs))
    return fn(*args)


def in_main_namespace(fn: _Fn) -> _Fn:
    """`fn` (its code, defaults and closure) with globals whose `__name__` is
    "__main__", as a script's would be.

    A call's target runs with op_call (or the fast path) as its direct caller, and code
    that names its caller's module (namedtuple, the functional Enum API, warnings) then
    sees __main__ rather than an engine module, at no cost of an extra frame on every
    call. The code keeps its file's name, so tracebacks drop it with the engine's other
    frames. As fast as the `exec`'d source string it replaced
    (bench/results/op_call_form.txt).
    """
    code = fn.__code__
    module_globals = fn.__globals__
    names = {name: module_globals[name] for name in code.co_names if name in module_globals}
    namespace = {"__name__": "__main__", "__builtins__": builtins, **names}
    public = fn.__name__.lstrip("_")
    code = code.replace(co_name=public, co_qualname=public)
    main_fn = types.FunctionType(code, namespace, public, fn.__defaults__, fn.__closure__)
    return cast(_Fn, main_fn)


op_call = in_main_namespace(_op_call)


def op_getattr(ctx: OpContext, req: Request) -> Any:
    target, name = req.body
    return resolve_attribute(_target(target), name)


def op_setattr(ctx: OpContext, req: Request) -> None:
    target, name, value = req.body
    setattr(_target(target), name, value)


def op_getitem(ctx: OpContext, req: Request) -> Any:
    target, key = req.body
    return target[key]


def op_setitem(ctx: OpContext, req: Request) -> None:
    target, key, value = req.body
    target[key] = value


@functools.lru_cache(maxsize=512)
def _compile(source: str) -> tuple[CodeType | None, CodeType | None]:
    """Statements to exec and the final expression to eval (either may be absent).

    `dont_inherit`: user code compiles as a plain module would, without this engine
    module's `from __future__ import annotations` (which would turn its annotations
    into strings).
    """
    tree = ast.parse(source, filename=_EVAL_FILE, mode="exec")
    last: ast.expr | None = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1].value
        tree.body.pop()
    statements = compile(tree, _EVAL_FILE, "exec", dont_inherit=True) if tree.body else None
    expression = (
        compile(ast.Expression(last), _EVAL_FILE, "eval", dont_inherit=True)
        if last is not None
        else None
    )
    return statements, expression


_EVAL_FILE = "<snakebridge.eval>"
_eval_numbers = itertools.count(1)


def op_eval(ctx: OpContext, req: Request) -> Any:
    """Runs the code in a fresh module of its own, `snakebridge_eval_<n>`.

    The module is in `sys.modules` while the code runs, as a script's `__main__` is, and
    stays there if the code defined classes or functions at its top level: pickle finds
    them there by their `__module__`, and pydantic and dataclasses resolve their
    annotations in its namespace. Such a module lives as long as the worker; one that
    defines nothing is dropped with the call.
    """
    source, bindings = req.body
    if type(source) is not str:
        raise TypeError("eval code must be a UTF-8 string")
    statements, expression = _compile(source)
    module = types.ModuleType(f"snakebridge_eval_{next(_eval_numbers)}")
    namespace = module.__dict__
    namespace["__builtins__"] = builtins
    namespace.update(_kwargs(bindings))
    name = module.__name__
    sys.modules[name] = module
    try:
        if statements is not None:
            exec(statements, namespace)
        return eval(expression, namespace) if expression is not None else None
    finally:
        if statements is None or not _defines_own(namespace, name):
            sys.modules.pop(name, None)


def _defines_own(namespace: dict[str, Any], name: str) -> bool:
    return any(
        isinstance(value, type | types.FunctionType) and value.__module__ == name
        for value in list(namespace.values())
    )


def op_identity(ctx: OpContext, req: Request) -> Any:
    """TO_ELIXIR: the value comes back through the deep-converting encoder."""
    (value,) = req.body
    return value


def op_repr(ctx: OpContext, req: Request) -> str:
    obj, limit = req.body
    text = utf8_text(repr(obj))
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def op_str(ctx: OpContext, req: Request) -> str:
    (obj,) = req.body
    return utf8_text(str(obj))


def op_release(ctx: OpContext, req: Request) -> None:
    (ids,) = req.body
    ctx.registry.release(req.session, [i if type(i) is bytes else i.encode() for i in ids])


def op_release_made(ctx: OpContext, req: Request) -> None:
    """The refs found in a reply that was not delivered: only those made for it go."""
    (ids,) = req.body
    ctx.registry.release_made(req.session, [i if type(i) is bytes else i.encode() for i in ids])


def op_release_session(ctx: OpContext, req: Request) -> None:
    ctx.registry.release_session(req.session, ctx.run_async)


def op_caller_done(ctx: OpContext, req: Request) -> None:
    (caller,) = req.body
    ctx.caller_done(caller)


def op_cancel(ctx: OpContext, req: Request) -> Atom:
    """`:running` if one of the calls had started (it is interrupted), else `:queued`."""
    (tags,) = req.body
    marked = {tag_of(t if type(t) is bytes else t.encode()) for t in tags}
    return Atom("running" if ctx.cancel(marked) else "queued")


def op_cancel_caller(ctx: OpContext, req: Request) -> None:
    (caller,) = req.body
    ctx.cancel_caller(caller)


def op_callback_result(ctx: OpContext, req: Request) -> None:
    callback_id, outcome = req.body
    ctx.deliver(callback_id, ("result", outcome))


def op_stats(ctx: OpContext, req: Request) -> dict[Atom, Any]:
    return ctx.stats()


def op_array_export(ctx: OpContext, req: Request) -> ArrayExport:
    (array,) = req.body
    return ArrayExport(array)


_HANDLERS: dict[int, Handler] = {
    Op.CALL: op_call,
    Op.CALL_MODULE: op_call,
    Op.GETATTR: op_getattr,
    Op.SETATTR: op_setattr,
    Op.GETITEM: op_getitem,
    Op.SETITEM: op_setitem,
    Op.EVAL: op_eval,
    Op.TO_ELIXIR: op_identity,
    Op.REPR: op_repr,
    Op.STR: op_str,
    Op.ITER_OPEN: op_iter_open,
    Op.ITER_NEXT: op_iter_next,
    Op.ITER_CLOSE: op_iter_close,
    Op.LEN: op_len,
    Op.CONTAINS: op_contains,
    Op.CTX_ENTER: op_ctx_enter,
    Op.CTX_EXIT: op_ctx_exit,
    Op.RELEASE: op_release,
    Op.RELEASE_MADE: op_release_made,
    Op.RELEASE_SESSION: op_release_session,
    Op.CALLBACK_RESULT: op_callback_result,
    Op.CANCEL: op_cancel,
    Op.CANCEL_CALLER: op_cancel_caller,
    Op.CALLER_DONE: op_caller_done,
    Op.STATS: op_stats,
    Op.ARRAY_EXPORT: op_array_export,
}


def _object_name(target: Any) -> str:
    return str(target) if type(target) is ModuleName else type(target).__qualname__


_ITEM_METHODS = {int(Op.GETITEM): "__getitem__", int(Op.SETITEM): "__setitem__"}


def call_name(request: Request) -> str | None:
    """What `request` did, as a traceback's frame names it: `math.sqrt`,
    `Counter.most_common`, `list.__getitem__`, `<eval>`; None if its body is unknown."""
    body, op = request.body, request.op
    try:
        if op in (Op.CALL, Op.CALL_MODULE, Op.GETATTR, Op.SETATTR):
            return f"{_object_name(body[0])}.{body[1]}"
        if op in _ITEM_METHODS:
            return f"{_object_name(body[0])}.{_ITEM_METHODS[op]}"
        if op == Op.EVAL:
            return "<eval>"
        return f"<{Op(op).name.lower()}>"
    except (TypeError, IndexError, ValueError):  # a body that failed to decode
        return None


def bind(decoder: Decoder, request: Request, frame: bytes, offset: int) -> Handler:
    """Decode `request`'s body (at `offset` in `frame`) into it, and return its handler.

    The one reader of the op table. Raises what decoding raises, or ValueError for an
    op code that has no handler.

    CALL_MODULE's body starts with the module and function names as length-prefixed
    UTF-8 (cheaper than two ETF binaries on the commonest request), then the ETF of its
    args, or of {args, kwargs}; it becomes CALL's 4-tuple.
    """
    op = request.op
    if op == _CALLBACK_RESULT:
        request.body = callback_result(decoder, frame, offset)
    elif op != _CALL_MODULE:
        request.body = decoder.decode(frame, offset)
    else:
        name_at = offset + 1 + frame[offset]
        args_at = name_at + 1 + frame[name_at]
        target = CALL_TARGETS.get(frame[offset:args_at])
        if target is None:
            target = _target_names(frame, offset, name_at, args_at)
        module, name = target
        payload = decoder.decode(frame, args_at)
        if type(payload) is list:
            request.body = module, name, payload, None
        else:
            request.body = (module, name, *payload)
    handler = _HANDLERS.get(op)
    if handler is None:
        raise ValueError(f"unknown op code {op}")
    return handler


# The ETF of a callback result `{id, {:ok, value}}` up to the id (a small one, or one of
# up to 31 bits), and between the id and the value, with :ok as OTP 25 writes it
# (ATOM_EXT) and as later releases do (SMALL_ATOM_UTF8_EXT).
_RESULT_SMALL_ID = bytes((VERSION, SMALL_TUPLE_EXT, 2, SMALL_INTEGER_EXT))
_RESULT_ID = bytes((VERSION, SMALL_TUPLE_EXT, 2, INTEGER_EXT))
_OK_LATIN1 = bytes((SMALL_TUPLE_EXT, 2, ATOM_EXT, 0, 2)) + b"ok"
_OK_UTF8 = bytes((SMALL_TUPLE_EXT, 2, SMALL_ATOM_UTF8_EXT, 2)) + b"ok"
_OK = "ok"  # as the decoder reads an atom
_VERSION = bytes((VERSION,))


def callback_result(decoder: Decoder, frame: bytes, offset: int) -> tuple[int, Any]:
    """A CALLBACK_RESULT body, `{id, outcome}`, as that pair.

    Nearly every one is `{id, {:ok, value}}`: its two tuples are read here and only the
    value goes through the decoder, whose tuple loops ran about 340 bytecode
    instructions a round trip (`bench/callback_profile.exs`). Anything else is decoded
    whole. (The value is decoded from a copy that starts with a version byte, so a
    DecodeError's offsets count from the value.)
    """
    head = frame[offset : offset + 4]
    if head == _RESULT_SMALL_ID:
        callback_id, at = frame[offset + 4], offset + 5
    elif head == _RESULT_ID:
        callback_id, at = int.from_bytes(frame[offset + 4 : offset + 8], signed=True), offset + 8
    else:
        return cast(tuple[int, Any], decoder.decode(frame, offset))
    if frame.startswith(_OK_LATIN1, at):
        at += len(_OK_LATIN1)
    elif frame.startswith(_OK_UTF8, at):
        at += len(_OK_UTF8)
    else:
        return cast(tuple[int, Any], decoder.decode(frame, offset))
    # A value of one int or float, the commonest, read here as the decoder reads it:
    # no copy and no decoder call (net, about 35 bytecode instructions a round trip).
    rest = len(frame) - at
    if rest == 2 and frame[at] == SMALL_INTEGER_EXT:
        return callback_id, (_OK, frame[at + 1])
    if rest == 5 and frame[at] == INTEGER_EXT:
        return callback_id, (_OK, read_i32(frame, at + 1)[0])
    if rest == 9 and frame[at] == NEW_FLOAT_EXT:
        return callback_id, (_OK, read_f64(frame, at + 1)[0])
    return callback_id, (_OK, decoder.decode(_VERSION + frame[at:]))


def _target_names(frame: bytes, offset: int, name_at: int, args_at: int) -> tuple[str, str]:
    module = ModuleName(frame[offset + 1 : name_at].decode())
    target = module, frame[name_at + 1 : args_at].decode()
    if len(CALL_TARGETS) < 4096:  # modules and their functions: few, and called again and again
        CALL_TARGETS[frame[offset:args_at]] = target
    return target


# A CALL_MODULE's two names, exactly as they arrive, to the strings: one slice and one
# lookup per request. Filled here, read by the fast path too (`_fast_path`).
CALL_TARGETS: dict[bytes, tuple[str, str]] = {}
