"""The introspector against real modules: stdlib, numpy, and its Erlang term output."""

from __future__ import annotations

import collections
import datetime
import itertools
import math
import subprocess
import sys
from pathlib import Path

import pytest

from snakebridge import _introspect
from snakebridge._eterm import Atom, term_text
from snakebridge._introspect import api_text, describe_module, library_version
from snakebridge._signatures import signature


def _records(name: str, only: list[str] | None = None) -> dict[str, tuple[Atom, dict]]:
    return {record["name"]: (kind, record) for kind, record in describe_module(name, only)}


def test_exports_are_pinned():
    assert _introspect.__all__ == ["describe_module", "library_version", "main"]


def test_module_record_carries_version_and_introspector():
    kind, head = describe_module("json")[0]
    assert kind == "module"
    assert head["version"] == library_version("json")
    assert head["version"].startswith("python-3.")
    assert head["introspector"].startswith("1/griffe-")


def test_numpy_version_is_the_distribution_version():
    import numpy

    assert library_version("numpy.linalg") == numpy.__version__


def test_a_module_of_the_project_is_versioned_by_its_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    module = tmp_path / "sb_own_module.py"
    module.write_text("def double(x):\n    return 2 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    first = library_version("sb_own_module")
    assert first.startswith("source-")
    assert library_version("sb_own_module") == first
    module.write_text("def double(x):\n    return x + x\n")
    assert library_version("sb_own_module") not in (first, "unknown")
    assert "sb_own_module" not in sys.modules  # found, not imported


def test_a_package_of_the_project_is_versioned_by_all_its_source_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    package = tmp_path / "sb_own_package"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "inner" / "__init__.py").write_text("")
    (package / "inner" / "deep.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    first = library_version("sb_own_package.inner.deep")
    assert first.startswith("source-")
    (package / "inner" / "deep.py").write_text("X = 2\n")
    second = library_version("sb_own_package.inner")
    assert second.startswith("source-") and second != first
    (package / "inner" / "deep.py").rename(package / "inner" / "moved.py")
    assert library_version("sb_own_package") not in (first, second)


def test_hidden_files_caches_and_dangling_links_are_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    package = tmp_path / "sb_own_edited"
    package.mkdir()
    (package / "__init__.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    clean = library_version("sb_own_edited")
    # What an editor and the interpreter leave next to the source.
    (package / ".#__init__.py").symlink_to(tmp_path / "nowhere")
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "stale.py").write_text("Y = 2\n")
    (package / ".hidden.py").write_text("Z = 3\n")
    assert library_version("sb_own_edited") == clean


def test_a_package_with_no_source_to_read_is_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    (tmp_path / "sb_own_namespace").mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    assert library_version("sb_own_namespace") == "unknown"


def test_a_module_that_cannot_be_found_is_unknown():
    assert library_version("sb_no_such_module_anywhere") == "unknown"


def test_function_parameters_and_kinds():
    _, mean = _records("numpy", ["mean"])["mean"]
    params = {name: (kind, default) for name, kind, default, _type in mean["params"]}
    assert params["a"] == ("positional_or_keyword", "required")
    assert params["axis"] == ("positional_or_keyword", "optional")
    assert params["where"] == ("keyword_only", "optional")
    assert mean["signature"].startswith("mean(a, axis=None")


def test_docstring_becomes_markdown_with_sections_and_fenced_examples():
    _, mean = _records("numpy", ["mean"])["mean"]
    doc = mean["doc"]
    assert "## Parameters" in doc
    assert "  * `axis` (`None or int or tuple of ints`) - " in doc
    assert "```python\n>>> import numpy as np" in doc
    assert "iex>" not in doc


def test_class_gets_constructor_methods_and_properties():
    kind, counter = _records("collections", ["Counter"])["Counter"]
    assert kind == "class"
    methods = {m["name"]: m for m in counter["methods"]}
    assert "most_common" in methods
    assert methods["most_common"]["binding"] == "instance"
    # self is not a parameter of the wrapper: the ref is
    assert [p[0] for p in methods["most_common"]["params"]] == ["n"]
    assert methods["fromkeys"]["binding"] == "class"
    # dict is not public in collections, so its methods are Counter's to carry
    assert "keys" in methods


def test_methods_of_a_public_base_are_not_copied():
    records = _records("collections", ["OrderedDict", "Counter"])
    ordered = {m["name"] for m in records["OrderedDict"][1]["methods"]}
    assert "move_to_end" in ordered


def test_generators_are_enumerable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "gen_mod.py").write_text(
        "from collections.abc import Iterator\n"
        "def numbers(n: int) -> list[int]:\n    return list(range(n))\n"
        "def lazy(n):\n    yield n\n"
        "def it(n: int | None = None) -> Iterator[int]:\n    return iter([])\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    records = _records("gen_mod")
    assert records["lazy"][1]["returns"] == "enumerable"
    assert records["it"][1]["returns"] == "enumerable"
    assert records["numbers"][1]["returns"] == ("list", "integer")
    assert records["it"][1]["params"][0][3] == ("union", ["integer", "nil"])


def test_a_failing_symbol_is_skipped_with_its_reason(tmp_path: Path, monkeypatch):
    (tmp_path / "broken_mod.py").write_text(
        "__all__ = ['ok', 'missing']\ndef ok():\n    return 1\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    records = describe_module("broken_mod")
    kinds = [(kind, record["name"]) for kind, record in records[1:]]
    assert kinds == [("function", "ok"), ("skipped", "missing")]
    assert "not readable" in records[-1][1]["reason"]


def test_builtins_without_signature_fall_back():
    assert signature(itertools.count)[1] == "inspect"
    date_sig, source = signature(datetime.date)
    assert source == "docstring"
    assert list(date_sig.parameters) == ["year", "month", "day"]
    log_sig, _ = signature(math.log)
    assert str(log_sig) == "(x, base=..., /)"
    assert signature(datetime.date.isoformat)[1] == "generic"


def test_output_is_deterministic_and_ascii():
    first = api_text(describe_module("collections", ["Counter", "deque"]))
    second = api_text(describe_module("collections", ["Counter", "deque"]))
    assert first == second
    assert first.isascii()
    assert " at 0x" not in first


def test_term_text():
    assert term_text("é\n") == '<<"\\x{E9}\\n"/utf8>>'
    assert term_text({"a": [1, 2.5, None, True]}) == "#{a => [1,2.5,nil,true]}"
    assert term_text((Atom("ok"), Atom("Up"), Atom("when"))) == "{ok,'Up','when'}"


def test_elixir_reads_the_output(tmp_path: Path, elixir):
    out = tmp_path / "collections.terms"
    src = Path(__file__).resolve().parents[2] / "priv" / "python"
    subprocess.run(
        [sys.executable, "-m", "snakebridge._introspect", "collections", "--out", str(out)],
        check=True,
        env={"PYTHONPATH": str(src)},
    )
    lines = elixir(
        f'{{:ok, terms}} = :file.consult(~c"{out}")\n'
        "IO.puts(length(terms))\n"
        "{:module, head} = Enum.at(terms, 1)\n"
        "IO.puts(head.name)\n"
    )
    assert lines[1] == "collections"
    assert int(lines[0]) == len(describe_module("collections")) + 1
    assert collections.Counter is not None


def test_versions_cli_writes_one_term_per_module(tmp_path: Path):
    from snakebridge import _versions

    out = tmp_path / "versions.terms"
    assert _versions.main(["numpy.linalg", "json", "--out", str(out)]) == 0
    import numpy

    assert out.read_text() == (
        f'{{version,<<"numpy.linalg">>,<<"{numpy.__version__}">>}}.\n'
        f'{{version,<<"json">>,<<"{library_version("json")}">>}}.\n'
    )
    # versions are resolved without importing griffe or the libraries' heavy parts
    code = "import sys, snakebridge._versions; print('griffe' in sys.modules)"
    src = Path(__file__).resolve().parents[2] / "priv" / "python"
    result = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(src)},
    )
    assert result.stdout.strip() == "False"
