"""The built images (issue 20): exactly their lock installed, non-root, files owned by the user.

Needs a Docker engine and the images (``make build ALL=1``); skipped with the reason otherwise, and
under ``CI=true`` that skip is a failure (conftest.py).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("buildplan", REPO / "images" / "buildplan.py")
assert _spec and _spec.loader
buildplan = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(buildplan)

IMAGES = [image for image, _, _ in buildplan.select([], build_all=True)]
VERSION = os.environ.get("VERSION") or buildplan.version()
#: What an image reports as installed: every distribution the venv's Python sees.
LIST_PACKAGES = ("import importlib.metadata as m, json; "
                 "print(json.dumps(sorted([d.metadata['Name'], d.version] for d in m.distributions())))")
#: A uid and gid that are neither root nor the image's own user (1000).
OTHER_UID, OTHER_GID = 4321, 4322


def _docker(*args: str, check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=timeout)


def _engine_reason() -> str:
    if shutil.which("docker") is None:
        return "no docker client on PATH"
    info = _docker("info", check=False, timeout=60)
    if info.returncode != 0:
        return f"no Docker engine: {(info.stderr.strip().splitlines() or ['docker info failed'])[-1]}"
    return ""


@pytest.fixture(scope="module")
def engine() -> None:
    reason = _engine_reason()
    if reason:
        pytest.skip(reason)


def _built(image: str) -> str:
    tag = f"confluence/{image}:{VERSION}"
    if _docker("image", "inspect", tag, check=False).returncode != 0:
        pytest.skip(f"image {tag} not built (make build ALL=1)")
    return tag


def _installed(tag: str) -> dict[str, str]:
    out = _docker("run", "--rm", "--network", "none", tag, "python", "-c", LIST_PACKAGES).stdout
    return {buildplan._norm(name): version for name, version in json.loads(out)}


@pytest.mark.parametrize("image", IMAGES)
def test_installed_packages_equal_the_lock(engine: None, image: str) -> None:
    """The third-party packages in the image are its lock, name for name and version for version;
    the rest are the repository's own packages the image is made of."""
    installed = _installed(_built(image))
    local = buildplan.local_names()
    third = {n: v for n, v in installed.items() if n not in local}
    assert third == buildplan.locked(buildplan.lock_file(image))
    own = {buildplan._norm(buildplan.package_name(p)) for p in buildplan.closure(dict(
        (i, p) for i, p, _ in buildplan.select([], build_all=True))[image])}
    assert set(installed) - set(third) == own


@pytest.mark.parametrize("image", IMAGES)
def test_runs_as_non_root_and_files_belong_to_the_user(engine: None, image: str, tmp_path: Path) -> None:
    """The image's user is uid 1000 with a writable HOME; `docker run --user UID:GID` (the README's
    example, the Docker engine) over a run folder leaves files owned by that user, not by root."""
    tag = _built(image)
    assert json.loads(_docker("image", "inspect", "-f", "{{json .Config.User}}", tag).stdout) == "1000:1000"
    run = tmp_path / "run"
    (run / "output").mkdir(parents=True)
    (run / "output").chmod(0o777)  # writable by the container's users, whoever runs the test
    write = ("import os, pathlib; out = pathlib.Path('/mnt/data/output'); "
             "(out / f'by-{os.getuid()}.txt').write_text(os.environ['HOME']); "
             "(pathlib.Path(os.environ['HOME']) / 'probe').write_text('x'); "
             "pathlib.Path('/tmp/probe').write_text('x')")
    mount = ["-v", f"{run / 'output'}:/mnt/data/output"]
    _docker("run", "--rm", "--network", "none", *mount, tag, "python", "-c", write)
    _docker("run", "--rm", "--network", "none", "--user", f"{OTHER_UID}:{OTHER_GID}", *mount, tag,
            "python", "-c", write)
    default = (run / "output" / "by-1000.txt").stat()
    other = (run / "output" / f"by-{OTHER_UID}.txt").stat()
    assert (default.st_uid, default.st_gid) == (1000, 1000)
    assert (other.st_uid, other.st_gid) == (OTHER_UID, OTHER_GID)
    assert (run / "output" / "by-1000.txt").read_text() == "/home/confluence"


@pytest.mark.slow
def test_two_builds_give_the_same_package_set(engine: None) -> None:
    """The selftest image built again from scratch (no layer cache) installs the same packages,
    and its venv's files (bytecode included) are byte for byte the same."""
    first = _built("selftest")
    again_version = "repro-check"
    again = f"confluence/selftest:{again_version}"
    env = {**os.environ, "NO_CACHE": "1", "VERSION": again_version}
    build = subprocess.run(["bash", str(REPO / "images" / "build.sh"), "selftest"], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=1800, check=False)
    try:
        assert build.returncode == 0, build.stderr[-3000:]
        assert _installed(again) == _installed(first)
        digest = ("cd /opt/venv && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum")
        sums = [_docker("run", "--rm", "--entrypoint", "sh", tag, "-c", digest).stdout for tag in (first, again)]
        assert sums[0] == sums[1]
    finally:
        _docker("rmi", again, check=False)
        # :latest moved to the rebuild, which is the same image content: point it back
        _docker("tag", first, "confluence/selftest:latest", check=False)
