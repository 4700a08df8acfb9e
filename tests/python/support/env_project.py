"""A throwaway project for the managed-environment tests: a spec file and the CLI runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[3] / "priv" / "python"


@dataclass
class EnvProject:
    """Writes the spec the mix task would write, and runs `python -m snakebridge._cli`."""

    root: Path
    index: Path
    deps: list[str] = field(default_factory=list)
    rules: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def venv(self) -> Path:
        return self.root / ".venv"

    @property
    def lock_dir(self) -> Path:
        return self.root / "priv" / "snakebridge"

    def spec(self) -> Path:
        rules = []
        if self.rules is not None:
            (self.root / "rules.toml").write_text(self.rules)
            rules.append(str(self.root / "rules.toml"))
        data = {
            "project_dir": str(self.root),
            "lock_dir": str(self.lock_dir),
            "venv": str(self.venv),
            "deps": [{"requirement": d, "origin": "app"} for d in self.deps],
            "indexes": [{"url": str(self.index), "origin": "app"}],
            "pypi": False,
            "rules": rules,
        }
        path = self.root / "spec.json"
        path.write_text(json.dumps(data))
        return path

    def run(self, command: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "SNAKEBRIDGE_ACCELERATOR"}
        env |= {
            "PYTHONPATH": str(ENGINE),
            "SNAKEBRIDGE_TOOL_PYTHON": sys.executable,
            # No real GPU driver or tool of this machine leaks into the tests.
            "SNAKEBRIDGE_HARDWARE_ROOT": str(self.root / "hw"),
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        }
        env |= self.env
        argv = [sys.executable, "-m", "snakebridge._cli", command, "--spec", str(self.spec())]
        return subprocess.run(
            [*argv, *args], capture_output=True, text=True, env=env, timeout=300, check=False
        )

    def installed(self) -> dict[str, str]:
        site = next((self.venv / "lib").glob("python3*/site-packages"))
        found = {}
        for info in site.glob("*.dist-info"):
            name, _, version = info.name.removesuffix(".dist-info").partition("-")
            found[name] = version
        return found
