"""Introspect: a Python module's public API as Erlang term text, for generated wrappers.

    python -m snakebridge._introspect MODULE --out FILE [--only NAME ...]

imports MODULE and writes its API data (the format `mix snakebridge.gen`
commits, see docs/WRAPPERS.md): the library version, then one term per public symbol
(function, class, constant), then one `{skipped, Name, Reason}` per symbol that could
not be described. A failing symbol never aborts the run. (`snakebridge._versions`
resolves library versions without importing them, for the up-to-date check.)

`inspect.signature` is authoritative for arity and parameter kinds; builtins without
one fall back to `__text_signature__`, then to their docstring's first lines, then to
the generic `(*args, **kwargs)` (see `snakebridge._signatures`).
Annotations come from the runtime, else from a `.pyi` stub beside the source (griffe);
docstrings are parsed by griffe (see `snakebridge._docstrings`).
"""

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.metadata
import inspect
import sys
import types
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from snakebridge._docstrings import markdown, scrub
from snakebridge._eterm import Atom, term_text
from snakebridge._signatures import signature
from snakebridge._specs import TERM, StubIndex, annotation_text, type_term
from snakebridge._versions import FORMAT, INTROSPECTOR, library_version

__all__ = ["describe_module", "library_version", "main"]

_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: Atom("positional_only"),
    inspect.Parameter.POSITIONAL_OR_KEYWORD: Atom("positional_or_keyword"),
    inspect.Parameter.VAR_POSITIONAL: Atom("var_positional"),
    inspect.Parameter.KEYWORD_ONLY: Atom("keyword_only"),
    inspect.Parameter.VAR_KEYWORD: Atom("var_keyword"),
}
_DESCRIPTORS = (
    property,
    functools.cached_property,
    types.GetSetDescriptorType,
    types.MemberDescriptorType,
)
_PLAIN = (int, float, str, bool, bytes, type(None))
_REPR_LIMIT = 80
Record = tuple[Atom, dict[str, Any]]


class _Describer:
    """Describes the symbols of one module; holds the stub cache and the public classes."""

    def __init__(self, module: types.ModuleType, public: dict[str, Any]) -> None:
        self.module = module
        self.stubs = StubIndex()
        self.public_classes = {id(obj) for obj in public.values() if inspect.isclass(obj)}

    def callable_record(
        self, name: str, obj: Any, *, drop_first: bool = False, stub_path: list[str]
    ) -> dict[str, Any]:
        sig, source = signature(obj)
        source = Atom(source)
        params = list(sig.parameters.values())
        if (
            drop_first
            and params
            and params[0].kind
            in (
                inspect.Parameter.POSITIONAL_ONLY,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
            )
        ):
            params = params[1:]
        stub = self.stubs.function(obj, stub_path)
        stub_types = {p.name: str(p.annotation) for p in stub.parameters} if stub else {}
        returns = annotation_text(sig.return_annotation) or (
            str(stub.returns) if stub and stub.returns else None
        )
        generator = inspect.isgeneratorfunction(inspect.unwrap(obj))
        shown = sig.replace(parameters=params, return_annotation=sig.return_annotation)
        return {
            "name": name,
            "signature": scrub(f"{name}{shown}"),
            "signature_source": source,
            "params": [
                (
                    p.name,
                    _KINDS[p.kind],
                    Atom("required" if p.default is inspect.Parameter.empty else "optional"),
                    type_term(annotation_text(p.annotation) or stub_types.get(p.name)),
                )
                for p in params
            ],
            "returns": Atom("enumerable") if generator else type_term(returns, returned=True),
            "doc": markdown(inspect.getdoc(obj)),
        }

    def function(self, name: str, obj: Any) -> Record:
        return Atom("function"), self.callable_record(name, obj, stub_path=[obj_name(obj, name)])

    def constant(self, name: str, obj: Any) -> Record:
        text = scrub(repr(obj))
        if len(text) > _REPR_LIMIT:
            text = text[: _REPR_LIMIT - 3] + "..."
        kind = type_term(type(obj).__name__) if isinstance(obj, _PLAIN) else TERM
        return Atom("constant"), {"name": name, "type": kind, "doc": f"`{text}`"}

    def _inherited_from(self, cls: type) -> list[type]:
        """`cls` and the bases whose members it carries (see docs/WRAPPERS.md, classes).

        A base that is public in this module has its own wrapper module, so neither it
        nor anything in its MRO is copied; `object` and builtin exception bases never are.
        """
        mro = inspect.getmro(cls)
        covered: set[int] = {id(object)}
        for base in mro[1:]:
            if id(base) in self.public_classes:
                covered.update(id(b) for b in inspect.getmro(base))
            elif base.__module__ == "builtins" and issubclass(base, BaseException):
                covered.add(id(base))
        return [cls, *(base for base in mro[1:] if id(base) not in covered)]

    def _members(self, cls: type) -> Iterator[tuple[str, type, Any]]:
        seen: set[str] = set()
        for owner in self._inherited_from(cls):
            for name, raw in vars(owner).items():
                if name.startswith("_") or name in seen:
                    continue
                seen.add(name)
                yield name, owner, raw

    def klass(self, name: str, cls: type) -> Record:
        init = self.callable_record(name, cls, stub_path=[cls.__name__, "__init__"])
        methods: list[dict[str, Any]] = []
        properties: list[dict[str, Any]] = []
        for member, owner, raw in sorted(self._members(cls), key=lambda m: m[0]):
            path = [owner.__name__, member]
            if isinstance(raw, staticmethod):
                record = self.callable_record(member, raw.__func__, stub_path=path)
                methods.append({**record, "binding": Atom("static")})
            elif isinstance(raw, classmethod):
                bound = getattr(cls, member)
                record = self.callable_record(member, bound, stub_path=path)
                methods.append({**record, "binding": Atom("class")})
            elif isinstance(raw, _DESCRIPTORS):
                doc = markdown(inspect.getdoc(raw))
                properties.append({"name": member, "type": TERM, "doc": doc})
            elif callable(raw):
                record = self.callable_record(member, raw, drop_first=True, stub_path=path)
                methods.append({**record, "binding": Atom("instance")})
            elif isinstance(raw, _PLAIN):
                properties.append({"name": member, "type": type_term(type(raw).__name__)})
        init_params = init["params"]
        return Atom("class"), {
            "name": name,
            "qualname": f"{cls.__module__}.{cls.__qualname__}",
            "signature": init["signature"],
            "signature_source": init["signature_source"],
            "params": init_params,
            "doc": markdown(inspect.getdoc(cls)),
            "methods": methods,
            "properties": [{"doc": "", **prop} for prop in properties],
        }

    def describe(self, name: str, obj: Any) -> Record:
        if inspect.isclass(obj):
            return self.klass(name, obj)
        if callable(obj):
            return self.function(name, obj)
        return self.constant(name, obj)


def obj_name(obj: Any, default: str) -> str:
    """The name an object was defined under, which is what its stub calls it."""
    name = getattr(inspect.unwrap(obj), "__name__", None)
    return name if isinstance(name, str) else default


def _public_names(module: types.ModuleType) -> list[str]:
    declared = getattr(module, "__all__", None)
    if isinstance(declared, (list, tuple)) and all(isinstance(n, str) for n in declared):
        return sorted(set(declared))
    top = module.__name__.split(".")[0]
    names = []
    for name in dir(module):
        if name.startswith("_"):
            continue
        origin = getattr(getattr(module, name, None), "__module__", None)
        # Without __all__, what a module merely imported from elsewhere is not its API.
        if isinstance(origin, str) and origin.split(".")[0] not in (top, "builtins"):
            continue
        names.append(name)
    return names


def describe_module(name: str, only: list[str] | None = None) -> list[Record]:
    """The API records of module `name`: a `module` record, symbols, then skips."""
    module = importlib.import_module(name)
    names = sorted(set(only)) if only else _public_names(module)
    public: dict[str, Any] = {}
    skipped: list[Record] = []
    for symbol in names:
        try:
            public[symbol] = getattr(module, symbol)
        except Exception as exc:
            skipped.append(_skip(symbol, f"not readable: {exc!r}"))
    describer = _Describer(module, public)
    records: list[Record] = []
    for symbol, obj in public.items():
        if inspect.ismodule(obj):
            skipped.append(_skip(symbol, "a submodule: declare it on its own"))
            continue
        try:
            records.append(describer.describe(symbol, obj))
        except Exception as exc:
            skipped.append(_skip(symbol, f"introspection failed: {scrub(repr(exc))}"))
    head = {
        "name": name,
        "version": library_version(name),
        "introspector": INTROSPECTOR,
        "only": sorted(set(only)) if only else None,
        "doc": markdown(inspect.getdoc(module)),
    }
    return [(Atom("module"), head), *records, *skipped]


def _skip(name: str, reason: str) -> Record:
    return Atom("skipped"), {"name": name, "reason": reason}


def api_text(records: list[Record]) -> str:
    """The artifact: a header comment, the format term, then one term per record."""
    lines = [
        "%% SnakeBridge API data (python -m snakebridge._introspect). Do not edit:",
        "%% regenerate with `mix snakebridge.gen`.",
        term_text((Atom("snakebridge_api"), FORMAT)) + ".",
    ]
    lines.extend(term_text(record) + "." for record in records)
    return "\n".join(lines) + "\n"


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii", newline="\n") as file:
        file.write(text)


def main(argv: list[str], write: Callable[[str, str], None] = _write) -> int:
    """Entry point (see the module doc); returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m snakebridge._introspect")
    parser.add_argument("modules", nargs="+")
    parser.add_argument("--out", required=True)
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    if len(args.modules) != 1:
        parser.error("introspect one module at a time")
    write(args.out, api_text(describe_module(args.modules[0], args.only)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
