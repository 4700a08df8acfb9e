"""Builds a directory of tiny dummy wheels named like real hardware variants.

`python fake_index.py DIR` writes them into DIR (a flat index: the form `python_indexes`
accepts as a local directory). The managed-environment tests, Python and ExUnit alike,
resolve, lock and install against it with no network.

Each wheel holds one importable module whose `VARIANT` says which file was installed, so
a test can tell `faketorch 1.0+cu126` from `1.0+cpu` after installing.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import zipfile
from pathlib import Path

__all__ = ["build_index", "build_wheel"]


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(
    directory: Path,
    name: str,
    version: str,
    *,
    requires: tuple[str, ...] = (),
    extras: dict[str, tuple[str, ...]] | None = None,
    platform: str = "any",
) -> Path:
    """Write `name-version-py3-none-PLATFORM.whl` into `directory` and return its path."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    metadata += [f"Requires-Dist: {req}" for req in requires]
    for extra, reqs in (extras or {}).items():
        metadata.append(f"Provides-Extra: {extra}")
        metadata += [f'Requires-Dist: {req}; extra == "{extra}"' for req in reqs]
    files = {
        f"{dist}/__init__.py": f"VARIANT = {version!r}\n".encode(),
        f"{info}/METADATA": ("\n".join(metadata) + "\n").encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: fake_index\nRoot-Is-Purelib: true\n"
        + "".join(f"Tag: py3-none-{p}\n" for p in platform.split(".")).encode(),
        f"{info}/top_level.txt": f"{dist}\n".encode(),
    }
    record = [_record_line(path, data) for path, data in files.items()]
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = directory / f"{dist}-{version}-py3-none-{platform}.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return path


def build_index(directory: Path) -> Path:
    """Fill `directory` with every fake package the tests use; return it."""
    directory.mkdir(parents=True, exist_ok=True)
    # Local-version variants, the way PyTorch publishes them.
    for tag in ("cpu", "cu118", "cu126", "rocm6.2"):
        build_wheel(directory, "faketorch", f"1.0+{tag}")
    build_wheel(directory, "faketorch", "0.9+cpu")
    # Variants as extras, the way JAX publishes them.
    build_wheel(
        directory,
        "fakejax",
        "1.0",
        extras={
            "cuda12": ("fakejax-cuda12-plugin==1.0",),
            "cuda13": ("fakejax-cuda13-plugin==1.0",),
        },
    )
    build_wheel(directory, "fakejax-cuda12-plugin", "1.0")
    build_wheel(directory, "fakejax-cuda13-plugin", "1.0")
    # Variants as distribution names, the way onnxruntime publishes them.
    build_wheel(directory, "fakeort", "1.0")
    build_wheel(directory, "fakeort-gpu", "1.0")
    # Plain packages with no variants, one depending on another.
    build_wheel(directory, "fakeplain", "1.0")
    build_wheel(directory, "fakeplain", "2.0")
    build_wheel(directory, "fakedep", "1.0", requires=("fakeplain>=1",))
    return directory


if __name__ == "__main__":
    build_index(Path(sys.argv[1]))
