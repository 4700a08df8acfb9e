"""Managed-environment timings: setup from a warm cache, the no-op re-run, --check, plan.

    .venv/bin/python bench/env_setup.py [ROUNDS]

Builds a throwaway Mix project depending on this repository with
`python_deps: ["numpy", "pandas"]` (from PyPI), locks it once (which also warms uv's
cache), then runs ROUNDS interleaved rounds (default 5) of:

- `mix run --no-compile --no-start -e :ok`: the floor for a mix task (starting Mix);
- `mix snakebridge.setup` with nothing changed (the no-op), `setup --check`, `plan`;
- `mix snakebridge.setup` after deleting the environment (lock present, warm cache);
- its floor: `uv venv` + `uv pip install --no-deps` of the same exported pins, the
  cheapest way to put those wheels into a fresh environment from the same cache.

Writes medians and ratios to bench/results/env_setup.json. Unpinned: setup uses both
cores. The tool environment is this repository's .venv (SNAKEBRIDGE_TOOL_PYTHON).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TOOL = REPO / ".venv" / "bin"
MIX_EXS = """
defmodule Bench.MixProject do
  use Mix.Project

  def project do
    [app: :bench, version: "0.1.0", deps: [{:snakebridge, path: REPO}],
     python_deps: ["numpy", "pandas"]]
  end
end
"""


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{argv} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def machine() -> dict[str, object]:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    elixir = subprocess.run(
        ["elixir", "--version"], capture_output=True, text=True, check=False
    ).stdout
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "elixir": " ".join(elixir.split()),
        "uv": subprocess.run(
            [str(TOOL / "uv"), "--version"], capture_output=True, text=True, check=False
        ).stdout.strip(),
    }


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    root = Path(tempfile.mkdtemp(prefix="snakebridge-bench-env-"))
    env = {k: v for k, v in os.environ.items() if k != "SNAKEBRIDGE_ACCELERATOR"}
    env |= {"MIX_ENV": "dev", "SNAKEBRIDGE_TOOL_PYTHON": str(TOOL / "python")}
    try:
        (root / "mix.exs").write_text(MIX_EXS.replace("REPO", json.dumps(str(REPO))))
        run(["mix", "compile"], root, env)
        run(["mix", "snakebridge.setup"], root, env)  # locks, warms uv's cache
        stamp = json.loads((root / ".venv" / "snakebridge-env.json").read_text())
        interpreter = stamp["python"]["path"]
        lock_dir = root / "priv" / "snakebridge"
        export = subprocess.run(
            [
                str(TOOL / "uv"),
                "export",
                "--frozen",
                "--no-hashes",
                "--extra",
                "cpu",
                "--project",
                str(lock_dir),
                "--config-file",
                str(lock_dir / "uv.toml"),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=lock_dir,
        ).stdout
        (root / "pins.txt").write_text(export)
        samples: dict[str, list[float]] = {
            k: [] for k in ("mix_floor", "noop", "check", "plan", "setup_warm", "uv_floor")
        }
        for _ in range(rounds):
            samples["mix_floor"].append(
                run(["mix", "run", "--no-compile", "--no-start", "-e", ":ok"], root, env)
            )
            samples["noop"].append(run(["mix", "snakebridge.setup"], root, env))
            samples["check"].append(run(["mix", "snakebridge.setup", "--check"], root, env))
            samples["plan"].append(run(["mix", "snakebridge.plan"], root, env))
            shutil.rmtree(root / ".venv")
            samples["setup_warm"].append(run(["mix", "snakebridge.setup"], root, env))
            floor_venv = root / "floor-venv"
            shutil.rmtree(floor_venv, ignore_errors=True)
            start = time.perf_counter()
            run(
                [str(TOOL / "uv"), "venv", "-q", "--python", interpreter, str(floor_venv)],
                root,
                env,
            )
            run(
                [
                    str(TOOL / "uv"),
                    "pip",
                    "install",
                    "-q",
                    "--no-deps",
                    "--python",
                    str(floor_venv / "bin" / "python"),
                    "-r",
                    str(root / "pins.txt"),
                ],
                root,
                env,
            )
            samples["uv_floor"].append(time.perf_counter() - start)
        med = {k: round(statistics.median(v), 3) for k, v in samples.items()}
        result = {
            "command": f".venv/bin/python bench/env_setup.py {rounds}",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "note": "machine shared with other jobs while measured: absolute times are noisy",
            "packages": [line for line in export.splitlines() if "==" in line],
            "interpreter": stamp["python"],
            "rounds": rounds,
            "unit": "seconds, wall clock, median",
            "medians": med,
            "samples": {k: [round(x, 3) for x in v] for k, v in samples.items()},
            "ratios": {
                "setup_warm / uv_floor": round(med["setup_warm"] / med["uv_floor"], 2),
                "noop / mix_floor": round(med["noop"] / med["mix_floor"], 2),
                "check / mix_floor": round(med["check"] / med["mix_floor"], 2),
                "plan / mix_floor": round(med["plan"] / med["mix_floor"], 2),
                "noop - mix_floor (s)": round(med["noop"] - med["mix_floor"], 3),
            },
        }
        out = REPO / "bench" / "results" / "env_setup.json"
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps({"medians": med, "ratios": result["ratios"]}, indent=2))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
