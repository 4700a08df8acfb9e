"""Eterm: Python values written as Erlang term text, the text `file:consult/1` reads.

The API data of a wrapped library is committed to the user's repository and read by
the Elixir generator without any Hex dependency, so it is Erlang term text: one term
per symbol, each ending in `.` on its own line, which keeps diffs to the symbols that
changed. The output is pure ASCII (anything else is a `\\x{...}` escape inside a
`/utf8` binary), so no encoding question arises on either side.

Mapping: `str` → `<<"..."/utf8>>`, `Atom` → atom, `int`/`float`, `bool` → `true` /
`false`, `None` → `nil`, `list` → list, `tuple` → tuple, `dict` with `str` keys → map
with atom keys (in the dict's order, so the caller decides the layout).
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["Atom", "term_text"]

_PLAIN_ATOM = re.compile(r"[a-z][A-Za-z0-9_@]*\Z")
_RESERVED = frozenset(
    [
        "after",
        "and",
        "andalso",
        "band",
        "begin",
        "bnot",
        "bor",
        "bsl",
        "bsr",
        "bxor",
        "case",
        "catch",
        "cond",
        "div",
        "end",
        "fun",
        "if",
        "let",
        "not",
        "of",
        "or",
        "orelse",
        "receive",
        "rem",
        "try",
        "when",
        "xor",
        "maybe",
        "else",
    ]
)
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


class Atom(str):
    """A string written as an Erlang atom."""

    __slots__ = ()


def _atom(name: str) -> str:
    if _PLAIN_ATOM.match(name) and name not in _RESERVED:
        return name
    return "'" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _char(ch: str) -> str:
    escaped = _ESCAPES.get(ch)
    if escaped is not None:
        return escaped
    if " " <= ch <= "~":
        return ch
    return "\\x{" + format(ord(ch), "X") + "}"


def _binary(text: str) -> str:
    body = "".join(_char(ch) for ch in text)
    return '<<"' + body + ('"/utf8>>' if not text.isascii() else '">>')


def term_text(value: Any) -> str:
    """The Erlang term text of `value` (see the module doc for the mapping)."""
    if isinstance(value, Atom):
        return _atom(value)
    if isinstance(value, str):
        return _binary(value)
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"Erlang terms have no {value!r}")
        return repr(value)
    if isinstance(value, list):
        return "[" + ",".join(term_text(item) for item in value) + "]"
    if isinstance(value, tuple):
        return "{" + ",".join(term_text(item) for item in value) + "}"
    if isinstance(value, dict):
        pairs = (_atom(key) + " => " + term_text(item) for key, item in value.items())
        return "#{" + ",".join(pairs) + "}"
    raise TypeError(f"no Erlang term text for {type(value).__name__}: {value!r}")
