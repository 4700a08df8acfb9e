"""Installed versus locked: what the managed environment holds, and the readable diff.

The expected set is `uv export` of the installed profile's extra, with each line's
markers evaluated for the environment's own interpreter (not this one's). The installed
set is read from the environment's `.dist-info` directories without importing anything.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import packaging
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

__all__ = ["EnvInfo", "diff", "env_info", "expected_from_export", "installed"]

_PROBE = """
import json, sys, sysconfig
from packaging.markers import default_environment
print(json.dumps({"markers": default_environment(),
                  "purelib": sysconfig.get_path("purelib"),
                  "platlib": sysconfig.get_path("platlib")}))
"""


@dataclass(frozen=True)
class EnvInfo:
    python: Path
    markers: dict[str, str]
    site: list[Path]


def env_info(venv: Path) -> EnvInfo | None:
    """Ask the environment's interpreter for its markers and site-packages; None if broken."""
    python = venv / "bin" / "python"
    if not python.exists():
        return None
    # packaging is pure Python: the environment's interpreter imports this copy of it.
    vendored = str(Path(packaging.__file__).parent.parent)
    try:
        done = subprocess.run(
            [str(python), "-I", "-c", f"import sys; sys.path.insert(0, {vendored!r})\n{_PROBE}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        data: dict[str, Any] = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    site = list(dict.fromkeys(Path(data[k]) for k in ("purelib", "platlib")))
    return EnvInfo(python, {k: str(v) for k, v in data["markers"].items()}, site)


def installed(info: EnvInfo) -> dict[str, str]:
    """{canonical name: version} of every distribution in the environment."""
    found: dict[str, str] = {}
    for dist in metadata.distributions(path=[str(p) for p in info.site]):
        name = dist.metadata["Name"]
        if name:
            found[canonicalize_name(name)] = dist.version
    return found


def expected_from_export(text: str, info: EnvInfo) -> dict[str, str]:
    """{canonical name: version} from `uv export` requirements that apply to `info`."""
    expected: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "-")):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        if req.marker is not None and not req.marker.evaluate(info.markers):
            continue
        pins = [s.version for s in req.specifier if s.operator == "=="]
        if pins:
            expected[canonicalize_name(req.name)] = pins[0]
    return expected


def diff(expected: dict[str, str], have: dict[str, str], ignore: set[str]) -> list[str]:
    """Readable lines, one per difference; empty when the environment matches."""
    lines = []
    for name in sorted(expected.keys() | have.keys()):
        want, got = expected.get(name), have.get(name)
        if name in ignore or want == got:
            continue
        if got is None:
            lines.append(f"  - {name}=={want}   locked, not installed")
        elif want is None:
            lines.append(f"  + {name}=={got}   installed, not in the lock")
        else:
            lines.append(f"  ~ {name}   locked {want}, installed {got}")
    return lines
