"""`python -m snakebridge._cli COMMAND --spec FILE`: the managed-environment commands.

This entry point needs only the standard library. It makes sure the tool environment
exists (a venv holding the pinned uv and `packaging`, shared by every project on the
machine), re-executes itself there, and hands over to `snakebridge._env`. If pip cannot
install uv on this platform the tool environment holds `packaging` alone and set-up falls
back to `venv` plus pip, saying so.

`SNAKEBRIDGE_TOOL_PYTHON` names an interpreter that already has uv and packaging (the
repository's own `.venv` in tests), skipping the tool environment; `SNAKEBRIDGE_TOOL_HOME`
moves it (default `$XDG_CACHE_HOME/snakebridge`, else `~/.cache/snakebridge`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["UV_VERSION", "main", "tool_python"]

UV_VERSION = "0.13.9"
PACKAGING = "packaging>=24,<27"


def _say(message: str) -> None:
    print(f"snakebridge: {message}", file=sys.stderr, flush=True)


def _pip(python: Path, *args: str) -> bool:
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.returncode == 0


def tool_python() -> Path:
    """The interpreter of the tool environment, built on first use."""
    override = os.environ.get("SNAKEBRIDGE_TOOL_PYTHON")
    if override:
        return Path(override)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    home = Path(os.environ.get("SNAKEBRIDGE_TOOL_HOME") or Path(cache) / "snakebridge")
    tool = home / f"tool-uv{UV_VERSION}-py{sys.version_info[0]}.{sys.version_info[1]}"
    python = tool / "bin" / "python"
    if (tool / "ready").exists():
        return python
    _say(f"building the tool environment {tool} (uv {UV_VERSION}, packaging)")
    done = subprocess.run(
        [sys.executable, "-m", "venv", str(tool)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(
            f"snakebridge: cannot create a venv with {sys.executable}: {done.stderr.strip()}\n"
            "(on Debian: apt-get install python3-venv, or set SNAKEBRIDGE_TOOL_PYTHON)"
        )
    if not _pip(python, PACKAGING):
        raise SystemExit(f"snakebridge: pip could not install {PACKAGING} into {tool}")
    if not _pip(python, f"uv=={UV_VERSION}"):
        _say(f"pip could not install uv {UV_VERSION}: falling back to venv + pip (no lock)")
    (tool / "ready").touch()
    return python


def main(argv: list[str]) -> int:
    python = tool_python()
    # Once only: an interpreter whose prefix is not its venv (a symlink, a system
    # Python named by SNAKEBRIDGE_TOOL_PYTHON) must not re-execute itself forever.
    here = Path(sys.prefix).resolve() == python.parent.parent.resolve()
    if not here and not os.environ.get("SNAKEBRIDGE_TOOL_ACTIVE"):
        os.environ["SNAKEBRIDGE_TOOL_ACTIVE"] = "1"
        os.execv(str(python), [str(python), "-m", "snakebridge._cli", *argv])
    from snakebridge._commands import main as env_main  # noqa: PLC0415  (needs packaging)

    return env_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
