"""The commands behind `mix snakebridge.setup`, `setup --check`, `plan` and `doctor`.

    setup   lock if the declared inputs changed, detect the hardware, pick the profile,
            and make the managed environment match the lock (`uv sync --frozen`)
    install the same from the lock as it is, never re-locking (a release at run time)
    check   exit 1 with a readable diff unless the environment matches the lock
    plan    the detected hardware with its evidence, and each package's variant and why
    doctor  one line per check, with the fix for each failure

Each reads the JSON spec the mix task wrote (`--spec FILE`). Exit codes: 0 fine,
1 something is wrong (drift, a failed check, uv failed), 2 the spec itself is wrong.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from snakebridge._drift import diff, env_info, expected_from_export, installed
from snakebridge._hardware import Accelerator, Probe, detect
from snakebridge._index import discover
from snakebridge._interp import choose_interpreter, describe
from snakebridge._lock import Plan, UvError, machine_profile, read_lock_info, run_uv, write_project
from snakebridge._spec import Spec
from snakebridge._variants import Target, choose, load_rules

__all__ = ["STAMP", "Context", "check", "drift", "plan", "setup"]

STAMP = "snakebridge-env.json"
_IGNORED = {"pip", "setuptools", "wheel"}


def say(message: str) -> None:
    print(f"snakebridge: {message}", flush=True)


def warn(message: str) -> None:
    print(f"snakebridge: warning: {message}", file=sys.stderr, flush=True)


class Context:
    """The spec, this machine's hardware, and the uv to use (None: the pip fallback)."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.hardware: Accelerator = detect(Probe.from_env(os.environ))
        found = shutil.which("uv", path=str(Path(sys.executable).parent))
        self.uv = Path(found) if found else None

    def plan(self) -> Plan:
        rules = load_rules(self.spec.rules)
        indexes = self.spec.search_indexes
        base, variants = [], []
        # Discovery is network round trips per package: ask for all packages at once.
        with ThreadPoolExecutor(max_workers=8) as pool:
            found_all = list(
                pool.map(lambda d: discover(d.requirement, indexes, rules, warn), self.spec.deps)
            )
        for found in found_all:
            if found.variants:
                variants.append(found)
            else:
                base.append(found.default)
        return Plan(base, variants)

    def stamp(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads((self.spec.venv / STAMP).read_text())
        except (OSError, ValueError):
            return {}
        return data


def _lock(ctx: Context) -> list[Target]:
    spec = ctx.spec
    inputs, profiles = read_lock_info(spec.lock_dir)
    if inputs == spec.inputs_hash():
        say(f"lock {spec.lock_dir / 'uv.lock'} is up to date ({len(profiles)} profiles)")
        return profiles
    plan = ctx.plan()
    # A failed lock must not leave the new inputs' digest beside the old uv.lock, or the
    # next run would take the old lock for up to date: put the old files back.
    saved = {
        path: path.read_bytes() if path.exists() else None
        for path in (spec.lock_dir / name for name in ("pyproject.toml", "uv.toml"))
    }
    write_project(spec, plan)
    if ctx.uv is None:
        return plan.profiles
    interp = choose_interpreter(ctx.uv)
    args = ["lock"] + (["--python", interp.path] if interp else [])
    try:
        run_uv(ctx.uv, spec, args)
    except UvError as exc:
        for path, data in saved.items():
            if data is None:
                path.unlink()
            else:
                path.write_bytes(data)
        # uv names the packages in conflict; say which app asked for each of them.
        asked = [f"  {req}   ({app})" for d in spec.deps for app, req in d.asked]
        raise UvError("\n".join([str(exc), "declared:", *asked])) from exc
    names = ", ".join(str(p) for p in plan.profiles)
    say(f"locked {spec.lock_dir / 'uv.lock'} for profiles: {names}")
    return plan.profiles


def _foreign(venv: Path) -> bool:
    return venv.exists() and any(venv.iterdir()) and not (venv / STAMP).exists()


def setup(ctx: Context, *, lock: bool = True) -> int:
    """Lock when `lock` and the inputs changed, then install this machine's profile."""
    spec = ctx.spec
    if _foreign(spec.venv):
        print(
            f"snakebridge: {spec.venv} exists and was not made by mix snakebridge.setup; "
            "remove it, or point `config :snakebridge, venv: ...` elsewhere",
            file=sys.stderr,
        )
        return 1
    profiles = _lock(ctx) if lock else read_lock_info(spec.lock_dir)[1]
    if not profiles:
        print(f"snakebridge: no lock in {spec.lock_dir}", file=sys.stderr)
        return 1
    for line in ctx.hardware.warnings:
        warn(line)
    profile, why = machine_profile(profiles, ctx.hardware.target)
    say(f"hardware: {ctx.hardware.target} -> profile {profile.extra} ({why})")
    stamp = ctx.stamp()
    python = stamp.get("python") if (spec.venv / "bin" / "python").exists() else None
    if python is None:
        # Without uv the environment is a plain venv of the tool interpreter, which has
        # venv and pip for certain (a distribution's Python may lack ensurepip).
        interp = choose_interpreter(ctx.uv) if ctx.uv is not None else describe(sys.executable)
        if interp is None:
            print("snakebridge: no Python 3.11 or newer found", file=sys.stderr)
            return 1
        python = interp.to_json()
        say(f"python: {interp.path} {python['version']} ({interp.why})")
    if ctx.uv is None:
        _pip_install(ctx, profile, python["path"])
    else:
        args = ["sync", "--frozen", "--no-install-project", "--extra", profile.extra]
        args += ["--python", python["path"]]
        run_uv(ctx.uv, spec, args, venv=spec.venv)
    record: dict[str, Any] = {"profile": profile.extra, "python": python}
    record |= {"accelerator": str(ctx.hardware.target), "locked": ctx.uv is not None}
    (spec.venv / STAMP).write_text(json.dumps(record, indent=2) + "\n")
    if ctx.uv is None:
        say(f"environment {spec.venv} installed with pip, unlocked (profile {profile.extra})")
    else:
        say(f"environment {spec.venv} matches the lock (profile {profile.extra})")
    return 0


def _pip_install(ctx: Context, profile: Target, python: str) -> None:
    """The fallback without uv: a plain venv and pip, from the unlocked requirements."""
    spec = ctx.spec
    warn("uv is not available: installing with venv + pip, without a lock")
    if not (spec.venv / "bin" / "python").exists():
        subprocess.run([python, "-m", "venv", str(spec.venv)], check=True)
    plan = ctx.plan()
    reqs = plan.base + [choose(pkg, profile)[0] for pkg in plan.variants]
    args = [str(spec.venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    args.append("--disable-pip-version-check")
    remote = [i.url for i in spec.indexes if i.local is None]
    args += [f"--find-links={i.local}" for i in spec.indexes if i.local is not None]
    if not spec.pypi and not remote:
        args.append("--no-index")
    elif not spec.pypi:
        args.append(f"--index-url={remote.pop(0)}")
    args += [f"--extra-index-url={url}" for url in remote]
    subprocess.run([*args, *reqs], check=True, capture_output=True, text=True)


def drift(ctx: Context) -> tuple[list[str], str]:
    """The differences between the environment and the lock, and the fix."""
    spec = ctx.spec
    fix = "run `mix snakebridge.setup`"
    inputs, _ = read_lock_info(spec.lock_dir)
    if inputs is None:
        return [f"no lock in {spec.lock_dir}"], fix
    if inputs != spec.inputs_hash():
        return [
            "the lock is stale: python_deps or python_indexes changed since it was written"
        ], fix
    stamp = ctx.stamp()
    info = env_info(spec.venv)
    if info is None or not stamp:
        return [f"no managed environment at {spec.venv}"], fix
    if ctx.uv is None or not stamp.get("locked"):
        return ["uv is not available: the environment cannot be checked against the lock"], fix
    args = ["export", "--frozen", "--no-hashes", "--no-header", "--no-annotate"]
    text = run_uv(ctx.uv, spec, [*args, "--extra", stamp["profile"]])
    lines = diff(expected_from_export(text, info), installed(info), _IGNORED)
    return lines, fix


def check(ctx: Context) -> int:
    lines, fix = drift(ctx)
    if not lines:
        say(f"{ctx.spec.venv} matches the lock")
        return 0
    print(f"snakebridge: {ctx.spec.venv} does not match the lock:", file=sys.stderr)
    for line in lines:
        print(line, file=sys.stderr)
    print(f"fix: {fix}", file=sys.stderr)
    return 1


def plan_json(ctx: Context) -> dict[str, Any]:
    inputs, _ = read_lock_info(ctx.spec.lock_dir)
    plan = ctx.plan()
    profile, why = machine_profile(plan.profiles, ctx.hardware.target)
    asked = {canonicalize_name(d.requirement.name): [a for a, _ in d.asked] for d in ctx.spec.deps}
    packages: list[dict[str, Any]] = [
        {"package": Requirement(p).name, "variant": p, "style": "none", "why": "no variants"}
        for p in plan.base
    ]
    for pkg in plan.variants:
        requirement, reason, _ = choose(pkg, profile)
        packages.append(
            {"package": pkg.name, "variant": requirement, "style": pkg.style, "why": reason}
        )
    for entry in packages:
        entry["asked_by"] = asked.get(canonicalize_name(entry["package"]), [])
    return {
        "hardware": ctx.hardware.to_json(),
        "profiles": [str(p) for p in plan.profiles],
        "profile": str(profile),
        "profile_why": why,
        "lock": "up to date"
        if inputs == ctx.spec.inputs_hash()
        else ("stale" if inputs else "none"),
        "packages": packages,
    }


def plan(ctx: Context, as_json: bool) -> int:
    data = plan_json(ctx)
    if as_json:
        print(json.dumps(data, indent=2))
        return 0
    hw = data["hardware"]
    print(
        f"hardware: {hw['accelerator']}"
        + (f" ({', '.join(hw['devices'])})" if hw["devices"] else "")
    )
    for line in hw["evidence"] or ["no accelerator found"]:
        print(f"  evidence: {line}")
    for line in hw["warnings"]:
        print(f"  warning: {line}")
    if hw["cpu_level"]:
        print(f"  cpu: {hw['cpu_level']}")
    print(f"profiles: {', '.join(data['profiles'])} (lock: {data['lock']})")
    print(f"profile: {data['profile']} ({data['profile_why']})")
    for pkg in data["packages"]:
        who = ", ".join(pkg["asked_by"])
        print(
            f"  {pkg['package']}: {pkg['variant']}  [{pkg['style']}] {pkg['why']} (asked by {who})"
        )
    return 0
