"""Commands: the argument parsing in front of `_env`'s commands and `_doctor`.

Its own module so that `_doctor`, which reads `_env`'s context and drift, and `_env`
import each other in one direction only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from snakebridge._doctor import doctor
from snakebridge._env import Context, check, plan, setup
from snakebridge._lock import UvError
from snakebridge._spec import SpecError, load_spec

__all__ = ["main"]


def main(argv: list[str]) -> int:
    """Run one command (`setup`, `install`, `check`, `plan` or `doctor`); its exit code."""
    parser = argparse.ArgumentParser(prog="snakebridge")
    parser.add_argument("command", choices=["setup", "install", "check", "plan", "doctor"])
    parser.add_argument("--spec", required=True, type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        ctx = Context(load_spec(json.loads(args.spec.read_text())))
        if args.command in ("setup", "install"):
            return setup(ctx, lock=args.command == "setup")
        if args.command == "check":
            return check(ctx)
        if args.command == "plan":
            return plan(ctx, args.json)
        return doctor(ctx)
    except (SpecError, ValueError) as exc:
        print(f"snakebridge: {exc}", file=sys.stderr)
        return 2
    except UvError as exc:
        print(f"snakebridge: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"snakebridge: {exc}\n{exc.stderr or ''}".rstrip(), file=sys.stderr)
        return 1
