"""Merging python_deps across Elixir apps, and the conflicts that stop it."""

from __future__ import annotations

from typing import Any

import pytest

from snakebridge._spec import SpecError, load_spec


def spec(deps: list[tuple[str, str]], indexes: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    return {
        "project_dir": "/p",
        "lock_dir": "/p/priv/snakebridge",
        "venv": "/p/.venv",
        "deps": [{"requirement": r, "origin": o} for o, r in deps],
        "indexes": [{"url": u, "origin": o} for o, u in indexes],
    }


def test_requirements_for_one_package_intersect_and_unite_extras() -> None:
    loaded = load_spec(spec([("app", "Numpy>=1.26"), ("dep", "numpy[dev]<3"), ("app", "pandas")]))
    merged = {str(d.requirement.name): d for d in loaded.deps}
    assert str(merged["numpy"].requirement) == "numpy[dev]<3,>=1.26"
    assert merged["numpy"].asked == (("app", "Numpy>=1.26"), ("dep", "numpy[dev]<3"))
    assert loaded.pypi is True


def test_markers_combine_only_when_every_request_has_one() -> None:
    both = load_spec(
        spec([("a", "x ; sys_platform == 'linux'"), ("b", "x ; python_version >= '3.12'")])
    )
    assert "or" in str(both.deps[0].requirement.marker)
    one = load_spec(spec([("a", "x ; sys_platform == 'linux'"), ("b", "x")]))
    assert one.deps[0].requirement.marker is None


@pytest.mark.parametrize("second", ["fakeplain==2.0", "fakeplain>1.0", "fakeplain!=1.0"])
def test_an_excluded_pin_is_a_conflict_naming_who_asked(second: str) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(spec([("app", "fakeplain==1.0"), ("helper", second)]))
    assert f"app asks for fakeplain==1.0; helper asks for {second}" in str(info.value)


def test_equal_pins_spelled_differently_agree() -> None:
    loaded = load_spec(spec([("app", "x==1.0"), ("helper", "x==1.0.0")]))
    assert len(loaded.deps) == 1


def test_a_malformed_requirement_names_its_app() -> None:
    with pytest.raises(SpecError, match="helper: python_deps entry 'numpy>>2'"):
        load_spec(spec([("helper", "numpy>>2")]))


def test_indexes_keep_order_and_drop_repeats() -> None:
    loaded = load_spec(spec([], (("app", "/w"), ("dep", "https://i/simple"), ("dep", "/w"))))
    assert [(i.name, i.url, i.origin) for i in loaded.indexes] == [
        ("index-1", "/w", "app"),
        ("index-2", "https://i/simple", "dep"),
    ]


def test_the_inputs_digest_ignores_where_things_live() -> None:
    a = load_spec(spec([("app", "x>=1")]))
    b = load_spec(spec([("other", "x>=1")]) | {"venv": "/elsewhere", "lock_dir": "/l"})
    c = load_spec(spec([("app", "x>=2")]))
    assert a.inputs_hash() == b.inputs_hash() != c.inputs_hash()
