"""Versions: what an introspected module's API data is keyed on, found without importing.

    python -m snakebridge._versions MODULE ... --out FILE

writes `{version, Module, Version}.` per module: the resolved version of the
distribution that provides the module's top-level package ("python-X.Y.Z" for the
standard library). A module no distribution provides (the project's own code, on the
configured `python_path`) has "source-" and a digest of its top package's source files
instead, so that editing them introspects it again. The generator's up-to-date check
for `mix snakebridge.gen` runs this instead of the introspector, so it imports neither
the libraries nor griffe.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import importlib
import importlib.metadata
import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path

from snakebridge._eterm import Atom, term_text

__all__ = ["FORMAT", "INTROSPECTOR", "library_version", "main"]

FORMAT = 1
# Part of every artifact: a new data format or griffe version regenerates the data.
INTROSPECTOR = f"{FORMAT}/griffe-{importlib.metadata.version('griffe')}"


@functools.cache
def _distributions() -> Mapping[str, list[str]]:
    # Scans every installed distribution's metadata: only when the distribution is not
    # named like its package (yaml → PyYAML), and once per run.
    return importlib.metadata.packages_distributions()


def library_version(module: str) -> str:
    """The distribution version of `module`'s top package ("python-X.Y.Z" for stdlib)."""
    top = module.split(".", maxsplit=1)[0]
    if top in sys.stdlib_module_names or top in sys.builtin_module_names:
        return "python-" + ".".join(str(part) for part in sys.version_info[:3])
    try:
        return importlib.metadata.version(top)
    except importlib.metadata.PackageNotFoundError:
        pass
    dists = _distributions().get(top)
    if dists:
        return importlib.metadata.version(dists[0])
    return _source_version(top)


def _source_version(top: str) -> str:
    """The version of a module no distribution provides: "source-" and a digest of the
    names and contents of its top-level module's or package's `.py` files (hidden ones
    and `__pycache__` left out), found without importing it. "unknown" when there are
    none to read: an extension module, or a module that cannot be found."""
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return "unknown"
    if spec is None:
        return "unknown"
    roots = [Path(location) for location in spec.submodule_search_locations or ()]
    if roots:
        files = [(root, path) for root in roots for path in sorted(root.rglob("*.py"))]
    elif spec.origin is not None and spec.origin.endswith(".py"):
        origin = Path(spec.origin)
        files = [(origin.parent, origin)]
    else:
        return "unknown"
    digest = hashlib.sha256()
    read = 0
    for root, path in files:
        name = path.relative_to(root)
        if any(part.startswith(".") or part == "__pycache__" for part in name.parts):
            continue
        try:
            # An editor's lock file is a dangling symlink named like a source file.
            source = path.read_bytes()
        except OSError:
            continue
        digest.update(name.as_posix().encode() + b"\0" + source + b"\0")
        read += 1
    return "source-" + digest.hexdigest()[:16] if read else "unknown"


def main(argv: list[str]) -> int:
    """Entry point (see the module doc); returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m snakebridge._versions")
    parser.add_argument("modules", nargs="+")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    terms = [term_text((Atom("version"), m, library_version(m))) + "." for m in args.modules]
    with open(args.out, "w", encoding="ascii", newline="\n") as file:
        file.write("\n".join(terms) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
