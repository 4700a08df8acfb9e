"""What a project asks for: its Python deps and indexes, merged across Elixir deps.

The mix task writes a JSON spec: every `python_deps` string and `python_indexes` entry
with the Elixir app that declared it, plus where the lock and the environment live.
`load_spec` merges requirements for the same package (specifiers intersect, extras
unite) and reports conflicts with who asked for what: two different exact pins, or a
specifier that excludes another app's exact pin.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from snakebridge._index import PYPI, Index

__all__ = ["Declared", "Spec", "SpecError", "load_spec"]


class SpecError(ValueError):
    """The declared dependencies cannot be read or cannot all hold."""


@dataclass(frozen=True)
class Declared:
    """One package, merged from every app that declared it."""

    requirement: Requirement
    asked: tuple[tuple[str, str], ...]  # (app, requirement as written)


@dataclass
class Spec:
    project_dir: Path
    lock_dir: Path
    venv: Path
    deps: list[Declared]
    indexes: list[Index]
    pypi: bool
    rules: list[Path] = field(default_factory=list)

    @property
    def search_indexes(self) -> list[Index]:
        """The project's indexes in order, then PyPI unless disabled."""
        return self.indexes + ([Index("pypi", PYPI, "default")] if self.pypi else [])

    def inputs_hash(self) -> str:
        """A digest of everything the lock depends on (not of where things live)."""
        shipped = [Path(__file__).with_name("variants.toml")]
        payload = {
            "schema": 1,
            "deps": sorted(str(d.requirement) for d in self.deps),
            "indexes": [i.url for i in self.indexes],
            "pypi": self.pypi,
            "rules": [p.read_text() for p in shipped + self.rules],
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _merge(name: NormalizedName, asked: list[tuple[str, Requirement]]) -> Declared:
    specifier = SpecifierSet()
    extras: set[str] = set()
    markers = {str(r.marker) for _, r in asked if r.marker}
    unmarked = any(r.marker is None for _, r in asked)
    for _, req in asked:
        specifier &= req.specifier
        extras |= req.extras
    pins = {
        (app, s.version)
        for app, req in asked
        for s in req.specifier
        if s.operator in ("==", "===") and "*" not in s.version
    }
    who = "; ".join(f"{app} asks for {req}" for app, req in asked)
    if len({Version(v) for _, v in pins}) > 1 or any(
        not specifier.contains(v, prereleases=True) for _, v in pins
    ):
        raise SpecError(f"conflicting requirements for {name}: {who}")
    text = name + (f"[{','.join(sorted(extras))}]" if extras else "") + str(specifier)
    if markers and not unmarked:
        text += " ; " + " or ".join(f"({m})" for m in sorted(markers))
    return Declared(Requirement(text), tuple((app, str(req)) for app, req in asked))


def load_spec(data: dict[str, Any]) -> Spec:
    """Build a `Spec` from the mix task's JSON, merging and checking the requirements."""
    grouped: dict[NormalizedName, list[tuple[str, Requirement]]] = {}
    for entry in data["deps"]:
        try:
            req = Requirement(entry["requirement"])
        except InvalidRequirement as exc:
            raise SpecError(
                f"{entry['origin']}: python_deps entry {entry['requirement']!r} is not "
                f"a PEP 508 requirement: {exc}"
            ) from exc
        grouped.setdefault(canonicalize_name(req.name), []).append((entry["origin"], req))
    seen: dict[str, Index] = {}
    for entry in data["indexes"]:
        url = entry["url"]
        if url not in seen:
            seen[url] = Index(f"index-{len(seen) + 1}", url, entry["origin"])
    return Spec(
        project_dir=Path(data["project_dir"]),
        lock_dir=Path(data["lock_dir"]),
        venv=Path(data["venv"]),
        deps=[_merge(name, asked) for name, asked in sorted(grouped.items())],
        indexes=list(seen.values()),
        pypi=bool(data.get("pypi", True)),
        rules=[Path(p) for p in data.get("rules", [])],
    )
