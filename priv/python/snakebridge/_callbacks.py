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


class ElixirFunction:
    """A callable that runs an Elixir function.

    `owner` is the Elixir caller id of the process that passed the function; once that
    process has exited, calling the proxy raises `snakebridge.CallbackOwnerGone`.
    """

    __slots__ = ("__weakref__", "_invoke", "fun", "owner", "session")

    def __init__(self, fun: ErlFun, *, owner: int, session: int, invoke: Invoke) -> None:
        self.fun = fun
        self.owner = owner
        self.session = session
        self._invoke = invoke

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
        return f"<ElixirFunction/{self.fun.arity} owner={self.owner}>"
