"""Doctor's helpers that need no environment: which module a distribution imports as."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from snakebridge._doctor import _module


def dist(tmp_path: Path, name: str, top_level: str | None) -> metadata.Distribution:
    info = tmp_path / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    if top_level is not None:
        (info / "top_level.txt").write_text(top_level)
    return metadata.PathDistribution(info)


@pytest.mark.parametrize(
    ("name", "top_level", "module"),
    [
        ("sympy", "isympy\nsympy\n", "sympy"),  # its own name wins over the first entry
        ("PyYAML", "_yaml\nyaml\n", "yaml"),  # private modules are skipped
        ("typing-extensions", None, "typing_extensions"),  # no top_level.txt: the name
        ("Pillow", "PIL\n", "PIL"),
    ],
)
def test_the_module_a_distribution_imports_as(
    tmp_path: Path, name: str, top_level: str | None, module: str
) -> None:
    assert _module(dist(tmp_path, name, top_level), name) == module
