"""The whole path offline, against a local index of dummy wheels: lock, install, check.

These tests run the CLI as `mix snakebridge.setup` does, with the repository's own uv.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import packaging
import pytest
from env_project import ENGINE, EnvProject
from fake_index import build_index, build_wheel

DEPS = ["faketorch==1.0", "fakejax", "fakeort", "fakedep"]
RULES = '[fakeort]\ncpu = "fakeort"\ncuda12 = "fakeort-gpu"\n'


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("index"))


@pytest.fixture
def project(tmp_path: Path, index: Path) -> EnvProject:
    return EnvProject(tmp_path, index, deps=list(DEPS), rules=RULES)


def ok(project: EnvProject, command: str, *args: str) -> str:
    done = project.run(command, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_setup_locks_every_profile_and_installs_this_machines(project: EnvProject) -> None:
    out = ok(project, "setup")
    assert "profiles: cpu, cuda11.8, cuda12, cuda12.6, cuda13, rocm6.2" in out
    assert project.installed() == {
        "faketorch": "1.0+cpu",
        "fakejax": "1.0",
        "fakeort": "1.0",
        "fakedep": "1.0",
        "fakeplain": "2.0",
    }
    lock = (project.lock_dir / "uv.lock").read_text()
    for wheel in ("1.0+cu118", "1.0+cu126", "1.0+rocm6.2", "fakejax_cuda13_plugin", "fakeort_gpu"):
        assert wheel in lock


@pytest.mark.parametrize(
    ("accelerator", "expect"),
    [
        ("cu126", {"faketorch": "1.0+cu126", "fakejax_cuda12_plugin": "1.0", "fakeort_gpu": "1.0"}),
        ("cuda12.4", {"faketorch": "1.0+cu118", "fakejax_cuda12_plugin": "1.0"}),
        ("cuda13.9", {"faketorch": "1.0+cu126", "fakejax_cuda13_plugin": "1.0"}),
        ("rocm6.2", {"faketorch": "1.0+rocm6.2", "fakeort": "1.0"}),
        ("cuda11.0", {"faketorch": "1.0+cpu", "fakeort": "1.0"}),
    ],
)
def test_one_lock_serves_every_machine(
    project: EnvProject, accelerator: str, expect: dict[str, str]
) -> None:
    ok(project, "setup")
    lock = (project.lock_dir / "uv.lock").read_bytes()
    project.env["SNAKEBRIDGE_ACCELERATOR"] = accelerator
    ok(project, "setup")
    assert expect.items() <= project.installed().items()
    assert (project.lock_dir / "uv.lock").read_bytes() == lock, "the lock recorded the machine"
    ok(project, "check")


def test_a_fake_nvidia_driver_on_path_picks_its_profile(project: EnvProject) -> None:
    bin_dir = project.root / "bin"
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    smi.write_text(
        "#!/bin/sh\n"
        "echo '| NVIDIA-SMI 560.35.03  Driver Version: 560.35.03  CUDA Version: 12.6 |'\n"
    )
    smi.chmod(0o755)
    project.env["PATH"] = f"{bin_dir}:{Path(shutil.which('uv') or '/').parent}:/usr/bin:/bin"
    out = ok(project, "setup")
    assert "hardware: cuda12.6 -> profile cuda-12-6" in out
    assert project.installed()["faketorch"] == "1.0+cu126"


def test_a_hostile_global_uv_config_changes_nothing(project: EnvProject, tmp_path: Path) -> None:
    ok(project, "setup")
    clean = (project.lock_dir / "uv.lock").read_bytes()
    shutil.rmtree(project.lock_dir)
    shutil.rmtree(project.venv)
    hostile = tmp_path / "hostile"
    (hostile / "uv").mkdir(parents=True)
    (hostile / "uv" / "uv.toml").write_text(
        'index-url = "http://127.0.0.1:9/bogus"\nfind-links = ["/nonexistent"]\n'
        'resolution = "lowest"\nno-binary = true\n'
    )
    project.env |= {
        "XDG_CONFIG_HOME": str(hostile),
        "UV_INDEX_URL": "http://127.0.0.1:9/bogus",
        "UV_RESOLUTION": "lowest",
    }
    ok(project, "setup")
    assert (project.lock_dir / "uv.lock").read_bytes() == clean
    assert project.installed()["fakeplain"] == "2.0"


def test_drift_fails_check_and_doctor_naming_the_fix(project: EnvProject) -> None:
    ok(project, "setup")
    site = next((project.venv / "lib").glob("python3*/site-packages"))
    for path in site.glob("fakeplain*"):
        shutil.rmtree(path)
    done = project.run("check")
    assert done.returncode == 1
    assert "- fakeplain==2.0   locked, not installed" in done.stderr
    assert "fix: run `mix snakebridge.setup`" in done.stderr
    doctor = project.run("doctor")
    assert doctor.returncode == 1
    assert "FAIL installed: - fakeplain==2.0" in doctor.stdout
    assert "fix: run `mix snakebridge.setup`" in doctor.stdout
    ok(project, "setup")
    ok(project, "check")
    assert "FAIL" not in ok(project, "doctor")


def test_changing_one_dep_relocks_and_reinstalls_only_it(project: EnvProject) -> None:
    ok(project, "setup")
    site = next((project.venv / "lib").glob("python3*/site-packages"))
    before = {p.name: p.stat().st_mtime_ns for p in site.glob("*.dist-info")}
    project.deps.append("fakeplain<2")
    assert "stale" in project.run("check").stderr
    out = ok(project, "setup")
    assert "locked" in out
    after = {p.name: p.stat().st_mtime_ns for p in site.glob("*.dist-info")}
    assert "fakeplain-1.0.dist-info" in after
    assert "fakeplain-2.0.dist-info" not in after
    unchanged = {k: v for k, v in before.items() if not k.startswith("fakeplain")}
    assert unchanged.items() <= after.items()


def test_conflicts_name_who_asked_for_what(project: EnvProject) -> None:
    spec_deps = [*DEPS, "fakeplain==1.0"]
    project.deps = spec_deps
    original = project.spec

    def spec() -> Path:
        path = original()
        text = path.read_text().replace(
            '{"requirement": "fakeplain==1.0", "origin": "app"}',
            '{"requirement": "fakeplain==1.0", "origin": "app"}, '
            '{"requirement": "fakeplain==2.0", "origin": "other_dep"}',
        )
        path.write_text(text)
        return path

    project.spec = spec  # type: ignore[method-assign]
    done = project.run("setup")
    assert done.returncode == 2
    assert "app asks for fakeplain==1.0; other_dep asks for fakeplain==2.0" in done.stderr


def test_plan_json_explains_each_choice(project: EnvProject) -> None:
    import json

    project.env["SNAKEBRIDGE_ACCELERATOR"] = "cuda12.4"
    data = json.loads(ok(project, "plan", "--json"))
    assert data["hardware"]["accelerator"] == "cuda12.4"
    assert data["profile"] == "cuda12"
    chosen = {p["package"]: p for p in data["packages"]}
    assert chosen["faketorch"]["variant"] == "faketorch==1.0+cu118"
    assert "+cu126 needs cuda12.6" in chosen["faketorch"]["why"]
    assert chosen["fakejax"]["variant"] == "fakejax[cuda12]"
    assert chosen["fakeort"]["style"] == "distribution"
    assert chosen["fakedep"]["style"] == "none"
    assert chosen["fakedep"]["asked_by"] == ["app"]


def test_a_foreign_venv_is_left_alone(project: EnvProject) -> None:
    project.venv.mkdir()
    (project.venv / "precious").write_text("x")
    done = project.run("setup")
    assert done.returncode == 1
    assert "was not made by mix snakebridge.setup" in done.stderr
    assert (project.venv / "precious").exists()


def test_without_uv_setup_falls_back_to_venv_and_pip_and_says_so(project: EnvProject) -> None:
    # A tool "environment" whose interpreter has packaging but no uv beside it.
    tool = project.root / "tool-without-uv"
    tool.mkdir()
    (tool / "python").symlink_to(Path(sys.executable))
    project.env["SNAKEBRIDGE_TOOL_PYTHON"] = str(tool / "python")
    # Outside its venv the interpreter sees `packaging` only through PYTHONPATH: the
    # base interpreter's own site-packages (a distribution's Python) may not have it.
    extra = tool / "lib"
    extra.mkdir()
    (extra / "packaging").symlink_to(Path(packaging.__file__).parent)
    project.env["PYTHONPATH"] = f"{ENGINE}:{extra}"
    done = project.run("setup")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "uv is not available: installing with venv + pip, without a lock" in done.stderr
    assert "installed with pip, unlocked" in done.stdout
    assert project.installed()["faketorch"] == "1.0+cpu"
    assert not (project.lock_dir / "uv.lock").exists()
    check = project.run("check")
    assert check.returncode == 1
    assert "no lock" in check.stderr


def test_a_failed_lock_leaves_the_old_lock_in_charge(project: EnvProject) -> None:
    ok(project, "setup")
    before = {p.name: p.read_bytes() for p in project.lock_dir.iterdir()}
    project.deps.append("fakeplain>=3")  # no such release: uv cannot lock
    done = project.run("setup")
    assert done.returncode == 1
    assert "declared:\n" in done.stderr
    assert "  fakeplain>=3   (app)" in done.stderr
    assert {p.name: p.read_bytes() for p in project.lock_dir.iterdir()} == before
    assert "stale" in project.run("check").stderr


LINUX = "manylinux_2_17_x86_64.manylinux_2_17_aarch64"


def test_macos_gets_the_plain_release_when_variants_are_linux_only(tmp_path: Path) -> None:
    # PyTorch's layout: +cpu/+cuXXX wheels for Linux, the plain release for macOS.
    index = tmp_path / "index"
    index.mkdir()
    build_wheel(index, "faketorch", "1.0", platform="macosx_11_0_arm64")
    build_wheel(index, "faketorch", "1.0+cpu", platform=LINUX)
    build_wheel(index, "faketorch", "1.0+cu126", platform=LINUX)
    project = EnvProject(tmp_path / "app", index, deps=["faketorch"])
    project.root.mkdir()
    ok(project, "setup")
    assert project.installed()["faketorch"] == "1.0+cpu"
    pyproject = (project.lock_dir / "pyproject.toml").read_text()
    assert "\"faketorch==1.0+cpu ; sys_platform != 'darwin'\"" in pyproject
    assert "\"faketorch==1.0 ; sys_platform == 'darwin'\"" in pyproject
    assert (
        "faketorch-1.0-py3-none-macosx_11_0_arm64.whl" in (project.lock_dir / "uv.lock").read_text()
    )
