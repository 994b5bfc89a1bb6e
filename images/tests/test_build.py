"""`images/build.sh selftest` builds an image that runs a module and stays small.

Needs a Docker engine (skipped with the reason otherwise).  Builds with the
wheel cache and base image of a normal `make build`, so the first run on a
machine takes a few minutes (base bootstrap + wheels) and later ones seconds.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ITEMS = ["a", "b", "c"]


def _version() -> str:
    spec = importlib.util.spec_from_file_location("buildplan", REPO / "images" / "buildplan.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return os.environ.get("VERSION") or module.version()


def _docker(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=600)


@pytest.fixture(scope="module")
def image() -> str:
    """Build confluence/selftest:<version> and return its tag."""
    if shutil.which("docker") is None:
        pytest.skip("no docker client on PATH")
    info = _docker("info", check=False)
    if info.returncode != 0:
        reason = (info.stderr.strip().splitlines() or ["docker info failed"])[-1]
        pytest.skip(f"no Docker engine: {reason}")
    build = subprocess.run(["bash", str(REPO / "images" / "build.sh"), "selftest"], cwd=REPO,
                           capture_output=True, text=True, timeout=1800)
    assert build.returncode == 0, build.stderr[-3000:]
    return f"confluence/selftest:{_version()}"


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    for volume in ("input", "output"):
        (tmp_path / volume).mkdir()
    (tmp_path / "input" / "items.json").write_text(json.dumps(ITEMS))
    return tmp_path


def _run(image: str, run_dir: Path, *env: str, command: tuple[str, ...] = ("confluence-selftest",)
         ) -> subprocess.CompletedProcess[str]:
    env_args = [arg for e in env for arg in ("-e", e)]
    return _docker(
        "run", "--rm", "--user", f"{os.getuid()}:{os.getgid()}", "-v", f"{run_dir / 'output'}:/mnt/data/output",
        "-v", f"{run_dir / 'input'}:/mnt/data/input", *env_args, image, *command,
        check=False,
    )


def test_image_runs_a_fanout_entry(image: str, run_dir: Path) -> None:
    result = _run(image, run_dir, "AWS_BATCH_JOB_ARRAY_INDEX=1", "CONFLUENCE_ENGINE=docker")
    assert result.returncode == 0, result.stderr
    data = json.loads((run_dir / "output" / "selftest" / "b.json").read_text())
    assert data["entry"] == "b"
    assert data["index"] == 1
    assert data["engine_env"] == "docker"
    assert (run_dir / "output" / "selftest" / "b.nc").stat().st_size > 0


def test_default_command_is_the_build_argument(image: str, run_dir: Path) -> None:
    """With no command, the image runs its default (the COMMAND build argument, execed by the shell)."""
    result = _run(image, run_dir, "AWS_BATCH_JOB_ARRAY_INDEX=0", command=())
    assert result.returncode == 0, result.stderr
    assert json.loads((run_dir / "output" / "selftest" / "a.json").read_text())["entry"] == "a"
    env = _docker("image", "inspect", "-f", "{{json .Config.Env}}", image).stdout
    assert "CONFLUENCE_IMAGE_COMMAND=confluence-selftest" in json.loads(env)
    # the command replaces the shell (PID 1), so `docker stop` signals reach it
    pid1 = _docker("run", "--rm", "-e", "CONFLUENCE_IMAGE_COMMAND=cat /proc/1/comm", image).stdout
    assert pid1.strip() == "cat"


def test_image_failure_is_one_line_and_leaves_nothing(image: str, run_dir: Path) -> None:
    result = _run(image, run_dir, "AWS_BATCH_JOB_ARRAY_INDEX=2", "SELFTEST_FAIL_ON=c")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: confluence-selftest: ")
    out = run_dir / "output" / "selftest"
    assert not out.exists() or list(out.iterdir()) == []


def test_image_is_lean_and_compiled(image: str) -> None:
    """No compiler, no pip, no pip cache; every module's bytecode compiled at build time, as
    unchecked-hash .pyc (flags 0b01: independent of file times, never recompiled at start)."""
    probe = (
        "for c in gcc cc g++ make pip pip3; do command -v $c; done; "
        "ls -d /root/.cache/pip /opt/venv/lib/python3*/site-packages/pip 2>/dev/null; true"
    )
    result = _docker("run", "--rm", "--entrypoint", "sh", image, "-c", probe)
    assert result.stdout.strip() == "", f"found in the image: {result.stdout}"
    check = (
        "import importlib.util as u, pathlib, confluence_selftest.cli as m; "
        "p = pathlib.Path(u.cache_from_source(m.__file__)); "
        "print(p.is_file() and int.from_bytes(p.read_bytes()[4:8], 'little'))"
    )
    assert _docker("run", "--rm", image, "python", "-c", check).stdout.strip() == "1"
    size_mb = int(_docker("image", "inspect", "-f", "{{.Size}}", image).stdout) / 1e6
    assert size_mb < 400, f"{image} is {size_mb:.0f} MB"
