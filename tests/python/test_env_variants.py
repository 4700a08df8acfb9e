"""The tag grammar, the distribution-name rules, and the choice of a variant."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name
from packaging.version import Version

from snakebridge._variants import Target, Variant, Variants, choose, load_rules, parse_tag


@pytest.mark.parametrize(
    ("tag", "kind", "version"),
    [
        ("cpu", "cpu", None),
        ("cu118", "cuda", "11.8"),
        ("cu126", "cuda", "12.6"),
        ("cu130", "cuda", "13.0"),
        ("cuda12", "cuda", "12"),
        ("cuda12x", "cuda", "12"),
        ("cuda-12-4", "cuda", "12.4"),
        ("CUDA12.4", "cuda", "12.4"),
        ("and-cuda", "cuda", None),
        ("rocm6.2", "rocm", "6.2"),
        ("rocm", "rocm", None),
        ("mps", "mps", None),
        ("tpu", "tpu", None),
    ],
)
def test_parse_tag_reads_every_spelling(tag: str, kind: str, version: str | None) -> None:
    assert parse_tag(tag) == Target(kind, Version(version) if version else None)


@pytest.mark.parametrize("tag", ["", "gpu2", "cuda-x", "rocmlike", "1.0", "cuda12..4", "openblas"])
def test_parse_tag_rejects_what_is_not_a_tag(tag: str) -> None:
    assert parse_tag(tag) is None


def _torch_like() -> Variants:
    def variant(tag: str) -> Variant:
        target = parse_tag(tag)
        assert target is not None
        return Variant(target, f"pkg==1.0+{tag}", f"+{tag}")

    tags = ("cpu", "cu118", "cu126", "rocm6.2")
    return Variants(
        canonicalize_name("pkg"), "local-version", "pkg==1.0", tuple(map(variant, tags))
    )


@pytest.mark.parametrize(
    ("machine", "chosen"),
    [
        ("cpu", "pkg==1.0+cpu"),
        ("cuda11.4", "pkg==1.0+cpu"),  # older than every CUDA variant: the CPU build
        ("cuda11.8", "pkg==1.0+cu118"),
        ("cuda12.4", "pkg==1.0+cu118"),  # cu126 would exceed what the driver supports
        ("cuda12.6", "pkg==1.0+cu126"),
        ("cuda13.2", "pkg==1.0+cu126"),  # a driver newer than every variant
        ("rocm6.2", "pkg==1.0+rocm6.2"),
        ("rocm5.7", "pkg==1.0+cpu"),
        ("mps", "pkg==1.0"),  # Apple gets the plain release, not a Linux CPU tag
    ],
)
def test_choose_takes_the_highest_variant_the_machine_supports(machine: str, chosen: str) -> None:
    target = parse_tag(machine)
    assert target is not None
    requirement, why, _ = choose(_torch_like(), target)
    assert requirement == chosen
    assert why


def test_choose_explains_the_variant_it_skipped() -> None:
    target = parse_tag("cuda12.4")
    assert target is not None
    _, why, _ = choose(_torch_like(), target)
    assert "+cu126 needs cuda12.6" in why


def test_rules_ship_defaults_and_a_user_file_extends_and_overrides(tmp_path: Path) -> None:
    shipped = load_rules([])
    assert shipped["onnxruntime"]["cuda12"] == "onnxruntime-gpu"
    user = tmp_path / "rules.toml"
    user.write_text('[onnxruntime]\ncuda13 = "ort-next"\n\n[cupy]\n\n[newpkg]\ncpu = "newpkg"\n')
    rules = load_rules([user])
    assert rules["onnxruntime"] == {"cuda13": "ort-next"}
    assert "cupy" not in rules
    assert rules["newpkg"] == {"cpu": "newpkg"}


def test_rules_reject_keys_that_are_not_tags(tmp_path: Path) -> None:
    user = tmp_path / "rules.toml"
    user.write_text('[pkg]\nfast = "pkg-fast"\n')
    with pytest.raises(ValueError, match="not tags"):
        load_rules([user])
