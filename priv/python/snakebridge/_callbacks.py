"""Callbacks: Elixir functions as Python callables.

An Elixir function in the arguments arrives as its own ETF bytes. Nothing is registered
on either side: the proxy carries the bytes, and calling it sends them back with the
arguments so the function runs in an Elixir process (normally the caller that is
waiting on the current call). So a function passed a million times leaks nothing, and
a proxy that Python stores lives exactly as long as Python keeps it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from snakebridge._etf import ErlFun

__all__ = ["ElixirFunction", "Invoke"]

Invoke = Callable[["ElixirFunction", tuple[Any, ...]], Any]


def _elixir_module(atom: str) -> str:
    """An Elixir module name as Elixir writes it: `String`, or `:lists` for Erlang's."""
    return atom.removeprefix("Elixir.") if atom.startswith("Elixir.") else f":{atom}"


class ElixirFunction:
    """A callable that runs an Elixir function.

    `owner` is the Elixir caller id of the process that passed the function; once that
    process has exited, calling the proxy raises `snakebridge.CallbackOwnerGone`.

    It passes for a Python function where libraries look (scikit-learn's `clone`,
    `make_scorer`, pandas' `agg` labels): `__name__` is the Elixir function's name
    where it has one (`"length"` for `&String.length/1`), else `"<elixir fn/1>"`;
    `__module__` is the Elixir module (`"String"`); `inspect.signature` shows the
    arity; `copy` and `deepcopy` give the proxy itself (it holds no state to copy);
    `pickle` refuses it, since the function runs only in the Elixir process that
    passed it.
    """

    # `__dict__` holds `__name__`, `__qualname__`, `__module__` and `__doc__`, which
    # must be instance attributes to shadow the class's own.
    __slots__ = ("__dict__", "__weakref__", "_invoke", "fun", "owner", "session")

    def __init__(self, fun: ErlFun, *, owner: int, session: int, invoke: Invoke) -> None:
        self.fun = fun
        self.owner = owner
        self.session = session
        self._invoke = invoke
        module = _elixir_module(fun.module) if fun.module else "elixir"
        if fun.name is not None:
            name = fun.name
            doc = f"The Elixir function {module}.{name}/{fun.arity}."
        else:
            name = f"<elixir fn/{fun.arity}>"
            doc = f"An anonymous Elixir function of arity {fun.arity}, defined in {module}."
        self.__name__ = self.__qualname__ = name
        self.__module__ = module
        self.__doc__ = doc

    def __copy__(self) -> ElixirFunction:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ElixirFunction:
        return self

    def __reduce__(self) -> Any:
        raise TypeError(
            f"cannot pickle {self!r}: an Elixir function runs only in the Elixir process "
            "that passed it, so it cannot be saved or sent to another Python process"
        )

    @property
    def arity(self) -> int:
        return self.fun.arity

    @property
    def __signature__(self) -> inspect.Signature:
        # Libraries (scipy, functools.partial users) inspect signatures; an Elixir fun
        # has exactly `arity` positional parameters.
        params = [
            inspect.Parameter(f"arg{i}", inspect.Parameter.POSITIONAL_ONLY)
            for i in range(self.fun.arity)
        ]
        return inspect.Signature(params)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs:
            names = ", ".join(sorted(kwargs))
            raise TypeError(f"{self!r} takes positional arguments only, got keywords: {names}")
        if len(args) != self.fun.arity:
            raise TypeError(
                f"{self!r} takes {self.fun.arity} positional argument"
                f"{'' if self.fun.arity == 1 else 's'} but {len(args)} were given"
            )
        return self._invoke(self, args)

    def __repr__(self) -> str:
        fun = self.fun
        what = f"{fun.name}/{fun.arity}" if fun.name is not None else f"fn/{fun.arity} in"
        return f"<ElixirFunction {what} {self.__module__} owner={self.owner}>"
