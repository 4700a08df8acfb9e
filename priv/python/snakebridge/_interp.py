"""Choosing the interpreter a new managed environment is built on.

Python builds differ by about 25% in speed on the engine's hot path: a distribution's
own CPython (Debian's /usr/bin/python3.11) is built with PGO and LTO, a pyenv build
usually is not. So set-up prefers, among supported versions, a build that says it was
optimized (`--enable-optimizations`/`--with-lto` in CONFIG_ARGS) or that is the
distribution's own (prefix /usr), then anything else supported. Interpreters uv has
already installed come first; set-up never downloads one. The choice and its
evidence are recorded in the environment's stamp and printed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Interpreter", "choose_interpreter", "describe"]

MINIMUM = (3, 11)
# Distribution interpreters probed by name, newest first.
_DISTRIBUTION = [f"/usr/bin/python3.{minor}" for minor in range(14, MINIMUM[1] - 1, -1)]

_PROBE = """
import json, sys, sysconfig
args = sysconfig.get_config_var("CONFIG_ARGS") or ""
print(json.dumps({"version": list(sys.version_info[:3]), "executable": sys.executable,
                  "prefix": sys.base_prefix, "config_args": args}))
"""


@dataclass(frozen=True)
class Interpreter:
    path: str
    version: tuple[int, int, int]
    optimized: bool
    why: str

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "version": ".".join(map(str, self.version)),
            "optimized": self.optimized,
            "why": self.why,
        }


def describe(path: str) -> Interpreter | None:
    """Run `path` once to learn its version and build; None if it does not run."""
    try:
        done = subprocess.run(
            [path, "-c", _PROBE], capture_output=True, text=True, timeout=20, check=True
        )
        info = json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    args = str(info["config_args"])
    version = (int(info["version"][0]), int(info["version"][1]), int(info["version"][2]))
    if "--enable-optimizations" in args or "--with-lto" in args:
        return Interpreter(path, version, True, "built with PGO/LTO (CONFIG_ARGS)")
    if info["prefix"] == "/usr":
        return Interpreter(path, version, True, "the distribution's own build (PGO+LTO)")
    return Interpreter(path, version, False, "no PGO/LTO in its build flags")


def _uv_managed(uv: Path | None) -> list[str]:
    """Interpreters uv has already installed (python-build-standalone: PGO+LTO builds).

    Read from uv's install directory: `uv python list` would also probe every
    interpreter on the PATH, seconds with pyenv's shims.
    """
    if uv is None:
        return []
    env = {k: v for k, v in os.environ.items() if not k.startswith("UV_")}
    try:
        done = subprocess.run(
            [str(uv), "python", "dir"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            env=env,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    root = Path(done.stdout.strip())
    return sorted((str(p) for p in root.glob("cpython-*/bin/python3")), reverse=True)


def choose_interpreter(uv: Path | None = None) -> Interpreter | None:
    """The best supported interpreter: an optimized build first, else any, else None.

    Candidates: interpreters uv manages, the distribution's, then python3 on the PATH.
    """
    names = [*_uv_managed(uv), *_DISTRIBUTION]
    names += [found for name in ("python3", "python") if (found := shutil.which(name))]
    usable = []
    for name in dict.fromkeys(names):
        if not Path(name).exists():
            continue
        interp = describe(name)
        if interp is not None and interp.version[:2] >= MINIMUM:
            usable.append(interp)
    return next((i for i in usable if i.optimized), usable[0] if usable else None)
