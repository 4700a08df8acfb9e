"""Signatures: the parameters of a callable, even a builtin that has no signature.

Tried in order, the first that works wins, and the caller records which one:

1. `inspect` - `inspect.signature`, authoritative whenever it answers;
2. `text_signature` - the `__text_signature__` Argument Clinic leaves on builtins;
3. `docstring` - CPython's convention of opening a builtin's docstring with its call,
   brackets marking optional parameters: `date(year, month, day) --> date object`,
   `time([hour[, minute[, second]]])`;
4. `generic` - `(*args, **kwargs)`: every argument still reaches Python.
"""

from __future__ import annotations

import ast
import inspect
import re
from typing import Any

__all__ = ["GENERIC", "UNKNOWN", "signature"]

GENERIC = inspect.Signature(
    [
        inspect.Parameter("args", inspect.Parameter.VAR_POSITIONAL),
        inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD),
    ]
)
_DOC_LINES = 6


class _Unknown:
    """A default that exists but is not known (shown as `...` in signatures)."""

    def __repr__(self) -> str:
        return "..."


UNKNOWN = _Unknown()
_TOKEN = re.compile(r"(\*{0,2})([A-Za-z_][A-Za-z0-9_]*)(=.*)?\Z")


def signature(obj: Any) -> tuple[inspect.Signature, str]:
    """The signature of `obj` and where it came from (see the module doc)."""
    try:
        return inspect.signature(obj), "inspect"
    except (ValueError, TypeError):
        pass
    text = getattr(obj, "__text_signature__", None)
    if isinstance(text, str) and text.startswith("("):
        for marker in ("$module, ", "$self, ", "$type, ", "$module", "$self", "$type"):
            text = text.replace(marker, "")
        parsed = _from_def(text)
        if parsed is not None:
            return parsed, "text_signature"
    parsed = _from_docstring(obj)
    if parsed is not None:
        return parsed, "docstring"
    return GENERIC, "generic"


def _from_def(params: str) -> inspect.Signature | None:
    """A signature from parameter source text such as `(x, /, y=1, *, z)`."""
    try:
        tree = ast.parse(f"def f{params}: pass")
    except SyntaxError:
        return None
    fn = tree.body[0]
    if not isinstance(fn, ast.FunctionDef):
        return None
    args = fn.args
    result: list[inspect.Parameter] = []
    positional = [*args.posonlyargs, *args.args]
    first_default = len(positional) - len(args.defaults)
    for index, arg in enumerate(positional):
        kind = (
            inspect.Parameter.POSITIONAL_ONLY
            if index < len(args.posonlyargs)
            else inspect.Parameter.POSITIONAL_OR_KEYWORD
        )
        default = UNKNOWN if index >= first_default else inspect.Parameter.empty
        result.append(inspect.Parameter(arg.arg, kind, default=default))
    if args.vararg:
        result.append(inspect.Parameter(args.vararg.arg, inspect.Parameter.VAR_POSITIONAL))
    for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        default = inspect.Parameter.empty if kw_default is None else UNKNOWN
        result.append(inspect.Parameter(arg.arg, inspect.Parameter.KEYWORD_ONLY, default=default))
    if args.kwarg:
        result.append(inspect.Parameter(args.kwarg.arg, inspect.Parameter.VAR_KEYWORD))
    try:
        return inspect.Signature(result)
    except ValueError:
        return None


def _from_docstring(obj: Any) -> inspect.Signature | None:
    """A signature from a `name(a, b[, c])` line at the top of the docstring."""
    name = getattr(obj, "__name__", None)
    doc = getattr(obj, "__doc__", None)
    if not isinstance(name, str) or not isinstance(doc, str):
        return None
    for raw in doc.strip().splitlines()[:_DOC_LINES]:
        line = raw.strip()
        if line.startswith(name + "(") and ")" in line:
            inner = line[len(name) + 1 : line.rindex(")")]
            parsed = _bracketed(inner)
            if parsed is not None:
                return parsed
    return None


def _bracketed(inner: str) -> inspect.Signature | None:
    """`a, b[, c[, d]]` as `(a, b, c=..., d=...)`; None unless every part is a name."""
    parts: list[str] = []
    depth = 0
    for chunk in re.split(r"(\[|\]|,)", inner):
        if chunk == "[":
            depth += 1
        elif chunk == "]":
            depth -= 1
        elif chunk.strip() not in ("", ","):
            token = chunk.strip()
            match = _TOKEN.match(token)
            if match is None:
                if token not in ("/", "*"):
                    return None
                parts.append(token)
                continue
            optional = depth > 0 and not match.group(1) and not match.group(3)
            parts.append(token + ("=..." if optional else ""))
    if not parts:
        return None
    # Such builtins often parse their arguments by position only (math.log rejects
    # base=): mark the leading ones positional-only, which the wrapper then sends by
    # position whichever way the caller named them.
    if "/" not in parts:
        stars = [i for i, part in enumerate(parts) if part.startswith("*")]
        parts.insert(stars[0] if stars else len(parts), "/")
    return _from_def("(" + ", ".join(parts) + ")")
