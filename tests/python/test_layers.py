"""The engine's layers: modules import each other in one direction only.

Read from the source, so imports under `TYPE_CHECKING` (and inside functions) count
too: a layer that needs a type from the one above it has a cycle all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import snakebridge

PACKAGE = Path(snakebridge.__file__).parent


def _imports() -> dict[str, set[str]]:
    """Each module of the package, and the package modules it imports."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        name = f"snakebridge.{path.stem}" if path.stem != "__init__" else "snakebridge"
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{name} has a relative import"
                if node.module and node.module.startswith("snakebridge"):
                    found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("snakebridge"))
        graph[name] = found
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle in `graph`, as the modules along it, or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for child in sorted(graph.get(node, ())):
            cycle = visit(child, [*path, node])
            if cycle is not None:
                return cycle
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start, [])
        if cycle is not None:
            return cycle
    return None


def test_the_modules_import_each_other_without_cycles() -> None:
    assert _cycle(_imports()) is None


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycle(graph) == ["a", "b", "c", "a"]


def test_ops_and_control_know_nothing_of_the_worker() -> None:
    graph = _imports()
    assert "snakebridge._worker" not in graph["snakebridge._ops"]
    assert "snakebridge._worker" not in graph["snakebridge._control"]
    assert "snakebridge._control" not in graph["snakebridge._ops"]


def test_only_the_bootstrap_imports_the_worker() -> None:
    importers = [name for name, imports in _imports().items() if "snakebridge._worker" in imports]
    assert importers == ["snakebridge._bootstrap"]
