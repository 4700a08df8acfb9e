"""Hardware detection: a chain of small providers, each parsing defensively.

Every provider reads one source of evidence (a file under /proc, a command's output, a
library) and either returns what it saw or nothing. Odd output is never an error: the
provider records a warning and the chain goes on, ending at the CPU. The result is an
`Accelerator`, the most capable device found, with the evidence that led to it.

`SNAKEBRIDGE_ACCELERATOR` (`cpu`, `cuda12.4`, `cu124`, `rocm6.2`, `mps`, `tpu`) replaces
detection altogether; a value that is not one of those forms is a `ValueError`, because a
typo there should not silently install CPU wheels.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from snakebridge._variants import Target, parse_tag

__all__ = ["Accelerator", "Probe", "cuda_for_driver", "detect"]

# The minimum Linux driver for each CUDA toolkit (NVIDIA's CUDA release notes, table 3).
# Only used when the driver itself does not say which CUDA it supports (no nvidia-smi,
# no NVML): it is data about drivers, not about any package.
_CUDA_MIN_DRIVER: tuple[tuple[str, str], ...] = (
    ("13.0", "580.65.06"),
    ("12.9", "575.51.03"),
    ("12.8", "570.26"),
    ("12.6", "560.28.03"),
    ("12.5", "555.42.02"),
    ("12.4", "550.54.14"),
    ("12.3", "545.23.06"),
    ("12.2", "535.54.03"),
    ("12.1", "530.30.02"),
    ("12.0", "525.60.13"),
    ("11.8", "520.61.05"),
    ("11.7", "515.43.04"),
    ("11.6", "510.39.01"),
    ("11.5", "495.29.05"),
    ("11.4", "470.42.01"),
    ("11.3", "465.19.01"),
    ("11.2", "460.27.03"),
    ("11.1", "455.23"),
    ("11.0", "450.36.06"),
)

# x86-64 micro-architecture levels, by the /proc/cpuinfo flags each one adds.
_X86_LEVELS: tuple[tuple[str, frozenset[str]], ...] = (
    ("x86-64-v2", frozenset({"cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"})),
    (
        "x86-64-v3",
        frozenset({"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"}),
    ),
    ("x86-64-v4", frozenset({"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"})),
)


@dataclass(frozen=True)
class Probe:
    """Where the providers look: a filesystem root, a command runner and the environment.

    Tests build one over a temporary directory and fake executables; production uses
    `Probe.system()`.
    """

    root: Path
    env: Mapping[str, str]
    system: str
    machine: str
    run: Callable[[list[str]], str | None]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Probe:
        """The real machine, with `SNAKEBRIDGE_HARDWARE_ROOT` (tests) as the root."""
        path = env.get("PATH", os.defpath)

        def run(argv: list[str]) -> str | None:
            exe = shutil.which(argv[0], path=path)
            if exe is None:
                return None
            try:
                done = subprocess.run(
                    [exe, *argv[1:]], capture_output=True, text=True, timeout=10, check=False
                )
            except (OSError, subprocess.SubprocessError):
                return None
            return done.stdout if done.returncode == 0 else None

        return cls(
            root=Path(env.get("SNAKEBRIDGE_HARDWARE_ROOT", "/")),
            env=env,
            system=platform.system(),
            machine=platform.machine(),
            run=run,
        )

    def read(self, path: str) -> str | None:
        try:
            return (self.root / path.lstrip("/")).read_text(errors="replace")
        except OSError:
            return None


@dataclass
class Accelerator:
    """What this machine can run: `target` is the best accelerator and its maximum version."""

    target: Target
    devices: list[str] = field(default_factory=list)
    cpu_level: str | None = None
    evidence: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "accelerator": str(self.target),
            "kind": self.target.kind,
            "version": str(self.target.version) if self.target.version else None,
            "devices": self.devices,
            "cpu_level": self.cpu_level,
            "evidence": self.evidence,
            "warnings": self.warnings,
        }


def cuda_for_driver(driver: str) -> Version | None:
    """The newest CUDA a Linux driver version supports, from NVIDIA's table."""
    try:
        have = Version(driver)
    except InvalidVersion:
        return None
    for cuda, minimum in _CUDA_MIN_DRIVER:
        if have >= Version(minimum):
            return Version(cuda)
    return None


def _nvidia(probe: Probe, found: Accelerator) -> Target | None:
    cuda: Version | None = None
    text = probe.read("/proc/driver/nvidia/version")
    if text is not None:
        match = re.search(r"Kernel Module\s+(?:for \S+\s+)?(\d+\.\d+(?:\.\d+)?)", text)
        if match:
            cuda = cuda_for_driver(match.group(1))
            found.evidence.append(
                f"/proc/driver/nvidia/version: driver {match.group(1)} (CUDA <= {cuda})"
            )
        else:
            found.warnings.append("/proc/driver/nvidia/version: no driver version in it")
    header = probe.run(["nvidia-smi"])
    if header is not None:
        match = re.search(r"CUDA Version:\s*(\d+\.\d+)", header)
        if match:
            cuda = Version(match.group(1))
            found.evidence.append(f"nvidia-smi: CUDA Version {cuda}")
        else:
            found.warnings.append("nvidia-smi: no 'CUDA Version' in its header")
        names = probe.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"])
        found.devices += [n.strip() for n in (names or "").splitlines() if n.strip()]
    nvml = _nvml(found)
    cuda = nvml or cuda
    return Target("cuda", cuda) if cuda is not None else None


def _nvml(found: Accelerator) -> Version | None:
    try:
        import pynvml  # type: ignore[import-not-found]  # noqa: PLC0415  (optional)
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
        raw = int(pynvml.nvmlSystemGetCudaDriverVersion_v2())
        count = int(pynvml.nvmlDeviceGetCount())
        names = [
            str(pynvml.nvmlDeviceGetName(pynvml.nvmlDeviceGetHandleByIndex(i)))
            for i in range(count)
        ]
    except Exception as exc:  # NVML raises its own error types for every failure
        found.warnings.append(f"NVML: {exc}")
        return None
    version = Version(f"{raw // 1000}.{raw % 1000 // 10}")
    found.evidence.append(f"NVML: CUDA {version}, {count} GPU(s)")
    found.devices = names or found.devices
    return version


def _amd(probe: Probe, found: Accelerator) -> Target | None:
    out = probe.run(["rocm_agent_enumerator"])
    source = "rocm_agent_enumerator"
    if out is None:
        out = probe.run(["rocminfo"])
        source = "rocminfo"
    if out is None:
        return None
    agents = sorted(set(re.findall(r"\bgfx[0-9a-f]+\b", out)) - {"gfx000"})
    if not agents:
        found.warnings.append(f"{source}: no GPU agents in its output")
        return None
    found.devices += agents
    found.evidence.append(f"{source}: {', '.join(agents)}")
    text = probe.read("/opt/rocm/.info/version")
    match = re.match(r"\s*(\d+\.\d+)", text or "")
    if match is None:
        found.warnings.append(
            "ROCm GPU found but /opt/rocm/.info/version is missing or odd; "
            "set SNAKEBRIDGE_ACCELERATOR=rocmX.Y to use it"
        )
        return None
    found.evidence.append(f"/opt/rocm/.info/version: ROCm {match.group(1)}")
    return Target("rocm", Version(match.group(1)))


def _apple(probe: Probe, found: Accelerator) -> Target | None:
    if probe.system == "Darwin" and probe.machine == "arm64":
        found.evidence.append("platform: macOS on arm64 (Apple silicon, Metal)")
        return Target("mps", None)
    return None


def _cpu_level(probe: Probe, found: Accelerator) -> None:
    if probe.machine not in ("x86_64", "AMD64"):
        return
    text = probe.read("/proc/cpuinfo") or ""
    match = re.search(r"^flags\s*:(.*)$", text, re.MULTILINE)
    if match is None:
        return
    flags = set(match.group(1).split())
    level = "x86-64"
    for name, needed in _X86_LEVELS:
        if not needed <= flags:
            break
        level = name
    found.cpu_level = level
    found.evidence.append(f"/proc/cpuinfo: {level}")


_Provider = Callable[[Probe, Accelerator], "Target | None"]
_PROVIDERS: tuple[_Provider, ...] = (_nvidia, _amd, _apple)


def detect(probe: Probe) -> Accelerator:
    """Run the chain; the first provider that finds an accelerator wins, else the CPU."""
    found = Accelerator(Target("cpu", None))
    _cpu_level(probe, found)
    override = probe.env.get("SNAKEBRIDGE_ACCELERATOR", "").strip()
    if override:
        target = parse_tag(override)
        if target is None:
            raise ValueError(
                f"SNAKEBRIDGE_ACCELERATOR={override!r} is not an accelerator; "
                "expected e.g. cpu, cuda12.4, cu124, rocm6.2, mps or tpu"
            )
        found.target = target
        found.evidence.append(f"SNAKEBRIDGE_ACCELERATOR={override}")
        return found
    for provider in _PROVIDERS:
        try:
            target = provider(probe, found)
        except Exception as exc:  # a provider must never take set-up down
            found.warnings.append(f"{provider.__name__.lstrip('_')} probe failed: {exc!r}")
            continue
        if target is not None:
            found.target = target
            return found
    if found.warnings:
        found.warnings.append("falling back to the CPU")
    return found
