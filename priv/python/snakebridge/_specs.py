"""Specs: Python annotations (runtime or from `.pyi` stubs) as neutral type terms.

A type term is what the Elixir generator turns into a typespec: an atom (`integer`,
`float`, `string`, `boolean`, `nil`, `bytes`, `list`, `map`, `tuple`, `enumerable`,
`term`) or a tuple (`("list", T)`, `("map", K, V)`, `("tuple", [T, ...])`,
`("union", [T, ...])`). Anything without a faithful mapping is `term`, so a spec is
never narrower than what Python accepts.

Annotations are read as text and parsed with `ast`: runtime objects, string (PEP 563)
annotations and griffe's stub expressions all come through the same path.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import griffe

from snakebridge._eterm import Atom

__all__ = ["TERM", "StubIndex", "annotation_text", "type_term"]

TERM = Atom("term")
_SIMPLE = {
    "int": "integer",
    "float": "float",
    "str": "string",
    "bool": "boolean",
    "None": "nil",
    "NoneType": "nil",
    "bytes": "bytes",
    "bytearray": "bytes",
    "list": "list",
    "List": "list",
    "dict": "map",
    "Dict": "map",
    "tuple": "tuple",
    "Tuple": "tuple",
}
_ITERATORS = frozenset(
    {"Iterator", "Generator", "AsyncIterator", "AsyncGenerator", "Iterable", "AsyncIterable"}
)


def annotation_text(annotation: Any) -> str | None:
    """The source text of an annotation, or None when there is none."""
    if annotation is inspect.Parameter.empty or annotation is None:
        return None
    if isinstance(annotation, str):
        return annotation
    if isinstance(annotation, type):
        return annotation.__name__
    return inspect.formatannotation(annotation)


def type_term(text: str | None, *, returned: bool = False) -> Any:
    """The type term of annotation text; iterators map to `enumerable` only if `returned`."""
    if not text:
        return TERM
    try:
        node = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError):
        return TERM
    return _node(node, returned)


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _union(members: list[Any]) -> Any:
    flat: list[Any] = []
    for member in members:
        parts = member[1] if isinstance(member, tuple) and member[0] == "union" else [member]
        for part in parts:
            if part == TERM:
                return TERM
            if part not in flat:
                flat.append(part)
    return flat[0] if len(flat) == 1 else (Atom("union"), flat)


def _node(node: ast.expr, returned: bool) -> Any:
    if isinstance(node, ast.Constant):
        if node.value is None:
            return Atom("nil")
        if isinstance(node.value, str):
            return type_term(node.value, returned=returned)
        return TERM
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([_node(node.left, returned), _node(node.right, returned)])
    if isinstance(node, ast.Subscript):
        return _subscript(node, returned)
    name = _name(node)
    if name in _ITERATORS and returned:
        return Atom("enumerable")
    return Atom(_SIMPLE[name]) if name in _SIMPLE else TERM


def _subscript(node: ast.Subscript, returned: bool) -> Any:
    base = _name(node.value)
    args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
    if base in _ITERATORS:
        return Atom("enumerable") if returned else TERM
    if base == "Optional":
        return _union([_node(args[0], returned), Atom("nil")])
    if base == "Union":
        return _union([_node(arg, returned) for arg in args])
    if base == "Annotated":
        return _node(args[0], returned)
    if base in ("list", "List") and len(args) == 1:
        return (Atom("list"), _node(args[0], returned))
    if base in ("dict", "Dict") and len(args) == 2:
        return (Atom("map"), _node(args[0], returned), _node(args[1], returned))
    if base in ("tuple", "Tuple"):
        if any(isinstance(arg, ast.Constant) and arg.value is Ellipsis for arg in args):
            return Atom("tuple")
        return (Atom("tuple"), [_node(arg, returned) for arg in args])
    return _node(node.value, returned) if base in _SIMPLE else TERM


class StubIndex:
    """Annotations from the `.pyi` stub beside an object's source file, if any.

    Each stub file is parsed once (statically, by griffe) and cached. Only plain
    definitions are used: an overloaded function's overloads disagree by design, so it
    keeps the runtime annotations (or `term`).
    """

    def __init__(self) -> None:
        self._modules: dict[Path, griffe.Module | None] = {}

    def _stub(self, obj: Any) -> griffe.Module | None:
        try:
            source = Path(inspect.getfile(inspect.unwrap(obj)))
        except (TypeError, ValueError, OSError):
            return None
        stub = source.with_suffix(".pyi")
        if stub not in self._modules:
            self._modules[stub] = self._parse(stub)
        return self._modules[stub]

    @staticmethod
    def _parse(stub: Path) -> griffe.Module | None:
        if not stub.is_file():
            return None
        try:
            code = stub.read_text(encoding="utf-8")
            return griffe.visit(stub.stem, filepath=stub, code=code)
        except Exception:
            # A stub griffe cannot read only costs us its annotations.
            return None

    def function(self, obj: Any, path: list[str]) -> griffe.Function | None:
        """The stub's plain (not overloaded) definition at `path` in `obj`'s stub."""
        try:
            node: Any = self._stub(obj)
            for part in path:
                node = node.members[part] if node is not None else None
            if not isinstance(node, griffe.Function) or getattr(node, "overloads", None):
                return None
            if any("overload" in str(dec.value) for dec in node.decorators):
                return None
        except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            # Not in the stub, or re-exported from a module the stub does not define.
            return None
        return node
