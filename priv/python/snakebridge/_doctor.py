"""`mix snakebridge.doctor`'s Python half: one line per check, the fix for each failure.

The checks run in the order a person would debug: interpreter and environment, the lock
against the declared deps, installed against locked, that each declared package
imports, the hardware and the profile, and whether the indexes answer. The mix task
adds the last check itself: starting one worker and making one call.
"""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable
from importlib import metadata

from packaging.utils import canonicalize_name

from snakebridge._drift import env_info
from snakebridge._env import Context, drift
from snakebridge._lock import machine_profile, read_lock_info
from snakebridge._variants import load_rules

__all__ = ["doctor"]

_SETUP = "run `mix snakebridge.setup`"
Check = Callable[[Context], tuple[bool, str, str]]


def _environment(ctx: Context) -> tuple[bool, str, str]:
    stamp = ctx.stamp()
    info = env_info(ctx.spec.venv)
    if info is None or not stamp:
        return False, f"no managed environment at {ctx.spec.venv}", _SETUP
    python = stamp.get("python", {})
    built = "optimized build" if python.get("optimized") else "not an optimized build"
    return True, f"{info.python} (Python {python.get('version', '?')}, {built})", ""


def _stale(ctx: Context) -> tuple[bool, str, str]:
    inputs, profiles = read_lock_info(ctx.spec.lock_dir)
    if inputs is None:
        return False, f"no lock in {ctx.spec.lock_dir}", _SETUP
    if inputs != ctx.spec.inputs_hash():
        return False, "stale: python_deps or python_indexes changed since locking", _SETUP
    return True, f"up to date, {len(profiles)} profiles", ""


def _installed(ctx: Context) -> tuple[bool, str, str]:
    lines, fix = drift(ctx)
    if lines:
        return False, "; ".join(line.strip() for line in lines), fix
    return True, "matches the lock", ""


def _module(dist: metadata.Distribution, name: str) -> str:
    """The module a distribution is imported as: its own name if it ships it (sympy also
    ships isympy), else its first public top-level module."""
    own = name.replace("-", "_").lower()
    top = [m for m in (dist.read_text("top_level.txt") or "").split() if not m.startswith("_")]
    return own if own in top or not top else top[0]


def _imports(ctx: Context) -> tuple[bool, str, str]:
    info = env_info(ctx.spec.venv)
    if info is None:
        return False, "no environment to import from", _SETUP
    dists = {
        canonicalize_name(d.metadata["Name"] or ""): d
        for d in metadata.distributions(path=[str(p) for p in info.site])
    }
    rules = load_rules(ctx.spec.rules)
    failed, modules = [], []
    for declared in ctx.spec.deps:
        req = declared.requirement
        if req.marker is not None and not req.marker.evaluate(info.markers):
            continue
        # A package whose variants are distributions is installed under another name.
        names = [req.name, *rules.get(canonicalize_name(req.name), {}).values()]
        dist = next((dists[n] for n in map(canonicalize_name, names) if n in dists), None)
        if dist is None:
            failed.append(f"{req.name} (not installed)")
            continue
        module = _module(dist, req.name)
        modules.append(module)
        done = subprocess.run(
            [str(info.python), "-c", f"import {module}"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["?"])[-1]
            failed.append(f"{module} ({last})")
    if failed:
        return False, "cannot import " + ", ".join(failed), _SETUP
    return True, f"{len(modules)} imported" + (f": {', '.join(modules)}" if modules else ""), ""


def _hardware(ctx: Context) -> tuple[bool, str, str]:
    _, profiles = read_lock_info(ctx.spec.lock_dir)
    profile, why = machine_profile(profiles, ctx.hardware.target)
    have = ctx.stamp().get("profile")
    detail = f"{ctx.hardware.target}, profile {profile.extra} ({why})"
    detail += "".join(f"; warning: {w}" for w in ctx.hardware.warnings)
    if have is not None and have != profile.extra:
        # Setup's no-op check does not probe hardware, hence --force.
        return False, f"{detail}, but {have} is installed", "run `mix snakebridge.setup --force`"
    return True, detail, ""


def _indexes(ctx: Context) -> tuple[bool, str, str]:
    bad = []
    for index in ctx.spec.search_indexes:
        directory = index.local
        if directory is not None:
            if not directory.is_dir():
                bad.append(f"{index.url} (from {index.origin}: no such directory)")
            continue
        # HEAD, because an index's root page can be the whole catalogue (PyPI's is tens
        # of megabytes); any HTTP answer, even an error status, means it is reachable.
        request = urllib.request.Request(index.url.rstrip("/") + "/", method="HEAD")
        try:
            urllib.request.urlopen(request, timeout=10).close()
        except urllib.error.HTTPError:
            pass
        except OSError as exc:
            bad.append(f"{index.url} (from {index.origin}: {exc})")
    if bad:
        return False, "unreachable: " + ", ".join(bad), "fix python_indexes or the network"
    return True, f"{len(ctx.spec.search_indexes)} reachable", ""


_CHECKS: tuple[tuple[str, Check], ...] = (
    ("environment", _environment),
    ("lock", _stale),
    ("installed", _installed),
    ("imports", _imports),
    ("hardware", _hardware),
    ("indexes", _indexes),
)


def doctor(ctx: Context) -> int:
    """Print one line per check; 1 if any failed."""
    failed = False
    for name, check in _CHECKS:
        try:
            ok, detail, fix = check(ctx)
        except Exception as exc:  # a broken check is a failed check, not a crash
            ok, detail, fix = False, f"check raised {exc!r}", _SETUP
        failed |= not ok
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}" + ("" if ok else f" -- fix: {fix}"))
    return 1 if failed else 0
