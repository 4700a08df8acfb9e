"""Choosing the interpreter a new environment is built on: optimized builds first."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from snakebridge._interp import choose_interpreter, describe


def fake_python(path: Path, version: list[int], prefix: str, config_args: str) -> Path:
    info = {
        "version": version,
        "executable": str(path),
        "prefix": prefix,
        "config_args": config_args,
    }
    path.write_text(f"#!/bin/sh\necho '{json.dumps(info)}'\n")
    path.chmod(0o755)
    return path


def test_describe_reads_the_build(tmp_path: Path) -> None:
    pgo = fake_python(
        tmp_path / "a", [3, 12, 4], "/opt/py", "'--enable-optimizations' '--with-lto'"
    )
    distro = fake_python(tmp_path / "b", [3, 11, 2], "/usr", "'--enable-shared'")
    plain = fake_python(tmp_path / "c", [3, 11, 7], "/root/.pyenv/versions/3.11.7", "")
    found = {
        name: describe(str(path))
        for name, path in [("pgo", pgo), ("distro", distro), ("plain", plain)]
    }
    assert found["pgo"] is not None and found["pgo"].optimized
    assert found["distro"] is not None and found["distro"].optimized
    assert found["distro"].why == "the distribution's own build (PGO+LTO)"
    assert found["plain"] is not None and not found["plain"].optimized
    assert describe(str(tmp_path / "missing")) is None


def test_describe_runs_the_real_interpreter() -> None:
    found = describe(sys.executable)
    assert found is not None
    assert found.version[:2] == sys.version_info[:2]


def test_an_optimized_interpreter_uv_manages_comes_first(tmp_path: Path) -> None:
    managed = tmp_path / "uv-pythons"
    found = {}
    for version in ([3, 10, 1], [3, 13, 1]):
        bin_dir = managed / f"cpython-{'.'.join(map(str, version))}-linux-x86_64-gnu" / "bin"
        bin_dir.mkdir(parents=True)
        found[version[1]] = fake_python(
            bin_dir / "python3", version, "/x", "--enable-optimizations"
        )
    uv = tmp_path / "uv"
    uv.write_text(f"#!/bin/sh\necho '{managed}'\n")
    uv.chmod(0o755)
    chosen = choose_interpreter(uv)
    assert chosen is not None
    assert chosen.path == str(found[13])  # 3.10 is below the minimum, however optimized
