"""Hardware detection from fake drivers: /proc files under a temporary root, fake tools."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from snakebridge._hardware import Probe, cuda_for_driver, detect

SMI_HEADER = """\
+-----------------------------------------------------------------------------+
| NVIDIA-SMI 550.54.14    Driver Version: 550.54.14    CUDA Version: {cuda}     |
|-------------------------------+----------------------+----------------------+
"""
PROC_VERSION = (
    "NVRM version: NVIDIA UNIX x86_64 Kernel Module  {driver}  Thu Feb 22 01:44:30 UTC 2024\n"
    "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n"
)


def probe(
    root: Path,
    outputs: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    system: str = "Linux",
    machine: str = "x86_64",
) -> Probe:
    table = outputs or {}

    def run(argv: list[str]) -> str | None:
        return table.get(" ".join(argv))

    return Probe(root=root, env=env or {}, system=system, machine=machine, run=run)


def write(root: Path, path: str, text: str) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


@pytest.mark.parametrize(
    ("driver", "cuda"),
    [
        ("450.80.02", "11.0"),
        ("470.42.01", "11.4"),
        ("535.104.05", "12.2"),
        ("550.54.14", "12.4"),
        ("580.65.06", "13.0"),
        ("999.1", "13.0"),
        ("390.1", None),
        ("garbage", None),
    ],
)
def test_driver_versions_map_to_the_cuda_they_support(driver: str, cuda: str | None) -> None:
    found = cuda_for_driver(driver)
    assert (str(found) if found else None) == cuda


def test_the_proc_driver_file_alone_gives_cuda(tmp_path: Path) -> None:
    write(tmp_path, "/proc/driver/nvidia/version", PROC_VERSION.format(driver="535.104.05"))
    found = detect(probe(tmp_path))
    assert str(found.target) == "cuda12.2"
    assert any("driver 535.104.05" in e for e in found.evidence)


def test_nvidia_smi_header_wins_and_names_the_gpus(tmp_path: Path) -> None:
    write(tmp_path, "/proc/driver/nvidia/version", PROC_VERSION.format(driver="535.104.05"))
    outputs = {
        "nvidia-smi": SMI_HEADER.format(cuda="12.4"),
        "nvidia-smi --query-gpu=name --format=csv,noheader": "NVIDIA A100\nNVIDIA A100\n",
    }
    found = detect(probe(tmp_path, outputs))
    assert str(found.target) == "cuda12.4"
    assert found.devices == ["NVIDIA A100", "NVIDIA A100"]
    assert "nvidia-smi: CUDA Version 12.4" in found.evidence


def test_a_driver_newer_than_any_known_cuda(tmp_path: Path) -> None:
    found = detect(probe(tmp_path, {"nvidia-smi": SMI_HEADER.format(cuda="14.1")}))
    assert str(found.target) == "cuda14.1"


@pytest.mark.parametrize(
    "smi", ["", "NVIDIA-SMI has failed because it couldn't communicate", "\x00\xff garbage"]
)
def test_malformed_nvidia_output_falls_back_to_cpu_with_a_warning(tmp_path: Path, smi: str) -> None:
    write(tmp_path, "/proc/driver/nvidia/version", "NVRM: something unexpected\n")
    found = detect(probe(tmp_path, {"nvidia-smi": smi}))
    assert found.target.kind == "cpu"
    assert found.warnings and found.warnings[-1] == "falling back to the CPU"


def test_amd_gpus_with_a_rocm_version(tmp_path: Path) -> None:
    write(tmp_path, "/opt/rocm/.info/version", "6.2.1-112\n")
    found = detect(probe(tmp_path, {"rocm_agent_enumerator": "gfx000\ngfx90a\ngfx90a\n"}))
    assert str(found.target) == "rocm6.2"
    assert found.devices == ["gfx90a"]


def test_amd_from_rocminfo_without_a_version_is_cpu_with_a_warning(tmp_path: Path) -> None:
    found = detect(probe(tmp_path, {"rocminfo": "Agent 2\n  Name:   gfx1100\n"}))
    assert found.target.kind == "cpu"
    assert any("SNAKEBRIDGE_ACCELERATOR" in w for w in found.warnings)


def test_apple_silicon(tmp_path: Path) -> None:
    found = detect(probe(tmp_path, system="Darwin", machine="arm64"))
    assert str(found.target) == "mps"


def test_cpu_level_from_cpuinfo_flags(tmp_path: Path) -> None:
    flags = (
        "fpu cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3 avx avx2 bmi1 bmi2 f16c fma abm movbe xsave"
    )
    write(tmp_path, "/proc/cpuinfo", f"processor : 0\nflags : {flags}\n")
    found = detect(probe(tmp_path))
    assert found.target.kind == "cpu"
    assert found.cpu_level == "x86-64-v3"


def test_the_override_replaces_detection(tmp_path: Path) -> None:
    outputs = {"nvidia-smi": SMI_HEADER.format(cuda="12.4")}
    found = detect(probe(tmp_path, outputs, env={"SNAKEBRIDGE_ACCELERATOR": "rocm6.2"}))
    assert str(found.target) == "rocm6.2"


def test_an_invalid_override_is_an_error_naming_the_forms(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"cuda12\.4"):
        detect(probe(tmp_path, env={"SNAKEBRIDGE_ACCELERATOR": "fast-gpu"}))


def test_a_provider_that_raises_is_a_warning(tmp_path: Path) -> None:
    def run(argv: list[str]) -> str | None:
        raise RuntimeError("boom")

    found = detect(Probe(root=tmp_path, env={}, system="Linux", machine="x86_64", run=run))
    assert found.target.kind == "cpu"
    assert any("boom" in w for w in found.warnings)


def fake_tool(directory: Path, name: str, output: str) -> None:
    path = directory / name
    path.write_text(f"#!/bin/sh\ncat <<'EOF'\n{output}EOF\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_real_probe_runs_fake_tools_on_path(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_tool(bin_dir, "nvidia-smi", SMI_HEADER.format(cuda="11.8"))
    env = {"PATH": f"{bin_dir}:{os.defpath}", "SNAKEBRIDGE_HARDWARE_ROOT": str(tmp_path)}
    found = detect(Probe.from_env(env))
    assert str(found.target) == "cuda11.8"


class FakeNVML:
    """Stands in for nvidia-ml-py's `pynvml` module (hence its camelCase names)."""

    def __init__(self, cuda: int, names: list[str], fail: bool = False) -> None:
        self.cuda, self.names, self.fail = cuda, names, fail

    def nvmlInit(self) -> None:
        if self.fail:
            raise RuntimeError("NVML Shared Library Not Found")

    def nvmlSystemGetCudaDriverVersion_v2(self) -> int:
        return self.cuda

    def nvmlDeviceGetCount(self) -> int:
        return len(self.names)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetName(self, handle: int) -> str:
        return self.names[handle]


def test_nvml_wins_when_present(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", FakeNVML(12080, ["NVIDIA L4"]))
    found = detect(probe(tmp_path, {"nvidia-smi": SMI_HEADER.format(cuda="12.4")}))
    assert str(found.target) == "cuda12.8"
    assert found.devices == ["NVIDIA L4"]
    assert "NVML: CUDA 12.8, 1 GPU(s)" in found.evidence


def test_a_failing_nvml_is_a_warning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", FakeNVML(0, [], fail=True))
    found = detect(probe(tmp_path, {"nvidia-smi": SMI_HEADER.format(cuda="12.4")}))
    assert str(found.target) == "cuda12.4"
    assert any("NVML Shared Library Not Found" in w for w in found.warnings)
