"""Hardware variants of packages: the tag grammar, the rule files, and the choice.

A *variant* is one way of installing a declared package for one accelerator. Three
styles exist, all found from data, never from a package name in this file:

- local-version tags of one release on the indexes (`1.0+cpu`, `1.0+cu126`, `+rocm6.2`);
- extras named by convention (`pkg[cuda12]`, `pkg[rocm]`, `pkg[tpu]`, `pkg[and-cuda]`);
- distribution names (`onnxruntime` / `onnxruntime-gpu`), which only a rule file knows:
  `variants.toml` beside this module, extended or overridden by the project's own file.

Every tag, extra, rule key and `SNAKEBRIDGE_ACCELERATOR` value is read by `parse_tag`,
one grammar for all. For a machine that supports CUDA 12.4, the chosen variant is the
highest CUDA one whose version does not exceed 12.4, else the CPU one, else the plain
package.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

__all__ = [
    "Target",
    "Variant",
    "Variants",
    "choose",
    "load_rules",
    "parse_tag",
]

_KINDS = ("cpu", "cuda", "rocm", "mps", "tpu")
_CU = re.compile(r"cu(\d+)(\d)")
_VERSIONED = re.compile(r"(cuda|rocm)[-_]?(\d+)(?:[._-](\d+))?x?")
_BARE = {
    "cpu": "cpu",
    "cuda": "cuda",
    "gpu": "cuda",
    "and-cuda": "cuda",
    "rocm": "rocm",
    "mps": "mps",
    "metal": "mps",
    "tpu": "tpu",
}

DEFAULT_RULES = Path(__file__).with_name("variants.toml")


@dataclass(frozen=True)
class Target:
    """An accelerator kind and, for CUDA and ROCm, a version (None: any version)."""

    kind: str
    version: Version | None

    def __str__(self) -> str:
        return self.kind + (str(self.version) if self.version is not None else "")

    @property
    def extra(self) -> str:
        """The name of this profile's extra in the generated project (`cuda-12-6`)."""
        if self.version is None:
            return self.kind
        return "-".join([self.kind, *(str(part) for part in self.version.release[:2])])

    def rank(self) -> tuple[int, Version]:
        return (_KINDS.index(self.kind), self.version or Version("0"))

    def fits(self, machine: Target) -> bool:
        """Can a machine that supports `machine` run a build for this target?"""
        if self.kind != machine.kind:
            return False
        if self.version is None or machine.version is None:
            return True
        return self.version <= machine.version


def parse_tag(tag: str) -> Target | None:
    """Read a local-version tag, an extra, a rule key or an override; None if none of them.

    >>> [str(parse_tag(t)) for t in ("cu126", "cuda12", "cuda-12-4", "rocm6.2", "and-cuda")]
    ['cuda12.6', 'cuda12', 'cuda12.4', 'rocm6.2', 'cuda']
    """
    text = tag.strip().lower()
    if text in _BARE:
        return Target(_BARE[text], None)
    match = _CU.fullmatch(text)
    if match:
        return Target("cuda", Version(f"{match.group(1)}.{match.group(2)}"))
    match = _VERSIONED.fullmatch(text)
    if match:
        kind, major, minor = match.groups()
        return Target(kind, Version(major if minor is None else f"{major}.{minor}"))
    return None


@dataclass(frozen=True)
class Variant:
    """One variant: the requirement that installs it and where it was seen."""

    target: Target
    requirement: str
    label: str
    index: str | None = None


@dataclass(frozen=True)
class Variants:
    """A declared package's variants in one style, and what installs it with none."""

    name: NormalizedName
    style: str  # "local-version", "extra", "distribution" or "none"
    default: str
    variants: tuple[Variant, ...] = ()
    default_index: str | None = None
    # Local-version variants are usually built for Linux and Windows only, with macOS
    # served by the plain release. `macos` is that plain requirement when the indexes
    # show it (a macOS or pure wheel for the plain release, none for these variants);
    # `no_macos` lists the variant requirements that need it on macOS.
    macos: str | None = None
    no_macos: frozenset[str] = frozenset()


def load_rules(user_files: list[Path]) -> dict[NormalizedName, dict[str, str]]:
    """Shipped distribution-name rules, then each user file's tables replacing them.

    A rule file maps a package to its variants' distributions::

        [onnxruntime]
        cpu = "onnxruntime"
        cuda12 = "onnxruntime-gpu"

    A user table replaces the shipped one for that package; an empty table removes it.
    """
    rules: dict[NormalizedName, dict[str, str]] = {}
    for path in [DEFAULT_RULES, *user_files]:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        for package, table in data.items():
            if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
                raise ValueError(f"{path}: [{package}] must map tags to distribution names")
            bad = [key for key in table if parse_tag(key) is None]
            if bad:
                raise ValueError(f"{path}: [{package}] has keys that are not tags: {bad}")
            rules[canonicalize_name(package)] = dict(table)
    return {name: table for name, table in rules.items() if table}


def choose(variants: Variants, profile: Target) -> tuple[str, str, str | None]:
    """The requirement for `variants` under `profile`, why, and the index it comes from."""
    fitting = [v for v in variants.variants if v.target.fits(profile)]
    if fitting:
        best = max(fitting, key=lambda v: v.target.rank())
        others = sorted(
            (v for v in variants.variants if v.target.kind == profile.kind and v not in fitting),
            key=lambda v: v.target.rank(),
        )
        why = f"{best.label}: highest {profile.kind} variant within {profile}"
        if others:
            why += f" ({others[0].label} needs {others[0].target})"
        return best.requirement, why, best.index
    cpu = [v for v in variants.variants if v.target.kind == "cpu"]
    if cpu and profile.kind != "mps":
        why = f"{cpu[0].label}: no {profile.kind} variant fits {profile}, CPU build"
        if profile.kind == "cpu":
            why = f"{cpu[0].label}: CPU build"
        return cpu[0].requirement, why, cpu[0].index
    if not variants.variants:
        return variants.default, "no variants", variants.default_index
    return variants.default, f"no variant for {profile}: plain package", variants.default_index
