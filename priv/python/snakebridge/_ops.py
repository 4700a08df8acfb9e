"""Ops: what each request does to Python objects, one function per op code.

A handler takes the engine and the decoded request and returns the value to send back;
the engine encodes it by the request's return mode. Handlers never write to the channel
and never catch user exceptions: the engine turns whatever they raise into an error
reply, so every op gets the same error handling.
"""

from __future__ import annotations

import ast
import builtins
import functools
import importlib
import itertools
import sys
import types
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import CodeType
from typing import TYPE_CHECKING, Any

from snakebridge._errors import ElixirError
from snakebridge._etf import Atom, utf8_text
from snakebridge._registry import OpenContext
from snakebridge._request import Request
from snakebridge._wire import Op

if TYPE_CHECKING:
    from snakebridge._worker import Engine

__all__ = ["AWAIT_RESULT", "HANDLERS", "ArrayExport", "Handler", "IterBatch"]

Handler = Callable[["Engine", Request], Any]

# Ops whose result is awaited when it is a coroutine or other awaitable.
AWAIT_RESULT = frozenset({Op.CALL, Op.CALL_MODULE, Op.EVAL})


@dataclass(slots=True)
class IterBatch:
    """Up to `max_items` items, and whether the iterator continues, ended or raised."""

    items: list[Any]
    status: str
    error: BaseException | None = None


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
    """A module name resolves to the module; anything else is already the object."""
    if type(target) is str:
        return _module(target)
    return target


def _getattr_path(obj: Any, name: str) -> Any:
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


# A call's target runs with op_call as its direct caller, and op_call is compiled into
# a namespace whose __name__ is "__main__", as a script's code would be: code that names
# its caller's module (namedtuple, the functional Enum API, warnings) then sees
# __main__ rather than this engine module, at no cost of an extra frame on every call.
# Compiled under this file's name, so tracebacks drop it with the engine's other frames.
_OP_CALL_SOURCE = """
def op_call(engine, req):
    target, name, args, kwargs = req.body
    if type(target) is str:
        target = modules.get(target) or import_module(target)
    fn = getattr(target, name) if "." not in name else getattr_path(target, name)
    if kwargs:
        return fn(*args, **to_kwargs(kwargs))
    return fn(*args)
"""
_MAIN: dict[str, Any] = {
    "__name__": "__main__",
    "modules": sys.modules,
    "import_module": importlib.import_module,
    "getattr_path": _getattr_path,
    "to_kwargs": _kwargs,
}
exec(compile(_OP_CALL_SOURCE, __file__, "exec"), _MAIN)
op_call: Handler = _MAIN["op_call"]


def op_getattr(engine: Engine, req: Request) -> Any:
    target, name = req.body
    return _getattr_path(_target(target), name)


def op_setattr(engine: Engine, req: Request) -> None:
    target, name, value = req.body
    setattr(_target(target), name, value)


def op_getitem(engine: Engine, req: Request) -> Any:
    target, key = req.body
    return target[key]


def op_setitem(engine: Engine, req: Request) -> None:
    target, key, value = req.body
    target[key] = value


@functools.lru_cache(maxsize=512)
def _compile(source: str) -> tuple[CodeType | None, CodeType | None]:
    """Statements to exec and the final expression to eval (either may be absent)."""
    tree = ast.parse(source, filename="<snakebridge.eval>", mode="exec")
    last: ast.expr | None = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1].value
        tree.body.pop()
    statements = compile(tree, "<snakebridge.eval>", "exec") if tree.body else None
    expression = (
        compile(ast.Expression(last), "<snakebridge.eval>", "eval") if last is not None else None
    )
    return statements, expression


def op_eval(engine: Engine, req: Request) -> Any:
    source, bindings = req.body
    if type(source) is not str:
        raise TypeError("eval code must be a UTF-8 string")
    statements, expression = _compile(source)
    namespace: dict[str, Any] = {"__builtins__": builtins}
    namespace.update(_kwargs(bindings))
    if statements is not None:
        exec(statements, namespace)
    return eval(expression, namespace) if expression is not None else None


def op_identity(engine: Engine, req: Request) -> Any:
    """TO_ELIXIR: the value comes back through the deep-converting encoder."""
    (value,) = req.body
    return value


def op_repr(engine: Engine, req: Request) -> str:
    obj, limit = req.body
    text = utf8_text(repr(obj))
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def op_str(engine: Engine, req: Request) -> str:
    (obj,) = req.body
    return utf8_text(str(obj))


class _AsyncIteratorBridge:
    """A blocking iterator over an async iterator, driven on the worker's event loop."""

    def __init__(self, engine: Engine, aiterator: Any) -> None:
        self._engine = engine
        self._aiterator = aiterator

    def __iter__(self) -> _AsyncIteratorBridge:
        return self

    def __next__(self) -> Any:
        try:
            return self._engine.aio.run(self._aiterator.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        aclose = getattr(self._aiterator, "aclose", None)
        if aclose is not None:
            self._engine.aio.run(aclose())


def op_iter_open(engine: Engine, req: Request) -> Iterator[Any]:
    (obj,) = req.body
    if hasattr(obj, "__aiter__") and not hasattr(obj, "__iter__"):
        return _AsyncIteratorBridge(engine, obj.__aiter__())
    return iter(obj)


def op_iter_next(engine: Engine, req: Request) -> IterBatch:
    iterator, max_items = req.body
    items: list[Any] = []
    try:
        # list.extend keeps the items pulled before an exception, so they are delivered
        # ahead of the error, as Python's own for-loop would have seen them.
        items.extend(itertools.islice(iterator, max_items))
    except Exception as exc:
        return IterBatch(items, "error", exc)
    return IterBatch(items, "cont" if len(items) == max_items else "done")


def op_iter_close(engine: Engine, req: Request) -> None:
    """Closes generators (so their `finally` blocks run) but not other iterators: a file
    object is its own iterator, and stopping a loop over it must not close the file."""
    (iterator,) = req.body
    if isinstance(iterator, types.GeneratorType | _AsyncIteratorBridge):
        iterator.close()


def op_len(engine: Engine, req: Request) -> int:
    (obj,) = req.body
    return len(obj)


def op_contains(engine: Engine, req: Request) -> bool:
    """`in`, only where `__contains__` exists: falling back to iteration would consume a
    generator, so the Elixir side iterates instead (a TypeError tells it to)."""
    obj, item = req.body
    if not hasattr(type(obj), "__contains__"):
        raise TypeError(f"{type(obj).__qualname__!r} object has no __contains__")
    return item in obj


def op_ctx_enter(engine: Engine, req: Request) -> tuple[int, Any]:
    (manager,) = req.body
    cls = type(manager)
    if hasattr(cls, "__enter__") and hasattr(cls, "__exit__"):
        exit_fn, is_async = cls.__exit__, False
        value = cls.__enter__(manager)
    elif hasattr(cls, "__aenter__") and hasattr(cls, "__aexit__"):
        exit_fn, is_async = cls.__aexit__, True
        value = engine.aio.run(cls.__aenter__(manager))
    else:
        raise TypeError(
            f"{cls.__qualname__!r} object does not support the context manager protocol"
        )
    ctx_id = engine.open_context(req.session, OpenContext(manager, exit_fn, is_async))
    return ctx_id, value


def op_ctx_exit(engine: Engine, req: Request) -> bool:
    ctx_id, error = req.body
    context = engine.take_context(req.session, ctx_id)
    exc = (
        None if error is None else ElixirError(error[0], kind=error[1], elixir_stacktrace=error[2])
    )
    return engine.exit_context(context, exc)


def op_release(engine: Engine, req: Request) -> None:
    (ids,) = req.body
    engine.registry.release(req.session, [i if type(i) is bytes else i.encode() for i in ids])


def op_release_session(engine: Engine, req: Request) -> None:
    engine.release_session(req.session)


def op_caller_done(engine: Engine, req: Request) -> None:
    (caller,) = req.body
    engine.caller_done(caller)


def op_stats(engine: Engine, req: Request) -> dict[Atom, Any]:
    return engine.stats()


def op_array_export(engine: Engine, req: Request) -> ArrayExport:
    (array,) = req.body
    return ArrayExport(array)


HANDLERS: dict[int, Handler] = {
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
    Op.RELEASE_SESSION: op_release_session,
    Op.CANCEL_CALLER: op_caller_done,
    Op.STATS: op_stats,
    Op.ARRAY_EXPORT: op_array_export,
}
