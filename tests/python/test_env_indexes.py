"""Variants spread over URL indexes, one per CUDA line: listing, sources, install."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from env_project import EnvProject
from fake_index import build_wheel
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from simple_index import serve

from snakebridge._index import Index, discover, list_files


@pytest.fixture
def line_indexes(tmp_path: Path) -> dict[str, Path]:
    dirs = {"cpu": tmp_path / "cpu", "cu126json": tmp_path / "cu126"}
    for tag, directory in zip(("cpu", "cu126"), dirs.values(), strict=True):
        directory.mkdir()
        build_wheel(directory, "faketorch", f"1.0+{tag}")
        build_wheel(directory, "fakeplain", "1.0")
    return dirs


def test_html_and_json_simple_indexes_list_the_same_way(line_indexes: dict[str, Path]) -> None:
    with serve(line_indexes) as base:
        html = list_files(Index("a", f"{base}/cpu", "app"), canonicalize_name("faketorch"))
        js = list_files(Index("b", f"{base}/cu126json", "app"), canonicalize_name("faketorch"))
    assert [f.filename for f in html] == ["faketorch-1.0+cpu-py3-none-any.whl"]
    assert [f.filename for f in js] == ["faketorch-1.0+cu126-py3-none-any.whl"]
    assert js[0].url.startswith(base)


def test_variants_remember_the_index_they_came_from(line_indexes: dict[str, Path]) -> None:
    warnings: list[str] = []
    with serve(line_indexes) as base:
        indexes = [
            Index("index-1", f"{base}/cpu", "app"),
            Index("index-2", f"{base}/cu126json", "app"),
            Index("index-3", "http://127.0.0.1:9/unreachable", "app"),
        ]
        found = discover(Requirement("faketorch>=1"), indexes, {}, warnings.append)
    assert {(v.label, v.index) for v in found.variants} == {
        ("+cpu", "index-1"),
        ("+cu126", "index-2"),
    }
    assert any("unreachable" in w for w in warnings)


def test_per_extra_sources_install_each_lines_build(
    tmp_path: Path, line_indexes: dict[str, Path]
) -> None:
    with serve(line_indexes) as base:
        project = EnvProject(tmp_path / "app", tmp_path / "unused", deps=["faketorch", "fakeplain"])
        project.root.mkdir()
        original = project.spec

        def spec() -> Path:
            path = original()
            data = json.loads(path.read_text())
            data["indexes"] = [
                {"url": f"{base}/cpu", "origin": "app"},
                {"url": f"{base}/cu126json", "origin": "app"},
            ]
            path.write_text(json.dumps(data))
            return path

        project.spec = spec  # type: ignore[method-assign]
        project.env["SNAKEBRIDGE_ACCELERATOR"] = "cu126"
        done = project.run("setup")
        assert done.returncode == 0, done.stdout + done.stderr
        assert project.installed()["faketorch"] == "1.0+cu126"
        pyproject = (project.lock_dir / "pyproject.toml").read_text()
        assert '{ index = "index-2", extra = "cuda-12-6" }' in pyproject
        project.env["SNAKEBRIDGE_ACCELERATOR"] = "cpu"
        done = project.run("setup")
        assert done.returncode == 0, done.stdout + done.stderr
        assert project.installed()["faketorch"] == "1.0+cpu"
    shutil.rmtree(project.root)
