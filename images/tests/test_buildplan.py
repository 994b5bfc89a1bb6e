"""images/buildplan.py: which images and packages `images/build.sh` builds (no Docker needed)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("buildplan", Path(__file__).resolve().parents[1] / "buildplan.py")
assert _spec and _spec.loader
buildplan = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(buildplan)

REPO = Path(__file__).resolve().parents[2]
#: What `confluence images` prints for a table of rows a (alpha), b1 and b2 (beta), g (gamma).
LISTING = (
    'alpha\tmodules/alpha\t["confluence-alpha"]\n'
    'beta\tmodules/beta\t["confluence-beta", "first"]\n'
    'gamma\tmodules/gamma\t["confluence-gamma"]\n'
)


def _package(root: Path, path: str, name: str) -> None:
    (root / path).mkdir(parents=True)
    (root / path / "pyproject.toml").write_text(
        f'[build-system]\nrequires = ["setuptools>=64"]\n[project]\nname = "{name}"\nversion = "0.3.0"\n'
    )


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    _package(tmp_path, "core", "confluence-core")
    _package(tmp_path, "modules/alpha", "confluence-alpha")
    _package(tmp_path, "modules/beta", "confluence-beta")
    (tmp_path / "modules/gamma").mkdir(parents=True)  # a row whose package does not exist yet
    _package(tmp_path, "images/test-image", "confluence-selftest")
    return tmp_path


@pytest.fixture()
def table() -> dict[str, tuple[str, tuple[str, ...]]]:
    return buildplan.parse_images(LISTING)


def test_listing_parsed(table: dict[str, tuple[str, tuple[str, ...]]]) -> None:
    assert table == {"alpha": ("modules/alpha", ("confluence-alpha",)),
                     "beta": ("modules/beta", ("confluence-beta", "first")),
                     "gamma": ("modules/gamma", ("confluence-gamma",))}


def test_default_is_table_images_with_a_package(repo: Path, table: dict) -> None:
    assert buildplan.select([], root=repo, table=table) == [
        ("alpha", "modules/alpha", ("confluence-alpha",)), ("beta", "modules/beta", ("confluence-beta", "first"))]
    assert ("selftest", "images/test-image", ("confluence-selftest",)) in buildplan.select(
        [], build_all=True, root=repo, table=table)


@pytest.mark.parametrize(("name", "message"), [("nosuch", "unknown image"), ("gamma", "no modules/gamma")])
def test_bad_names_fail(repo: Path, table: dict, name: str, message: str) -> None:
    with pytest.raises(buildplan.PlanError, match=message):
        buildplan.select([name], root=repo, table=table)


def test_selftest_by_name(repo: Path, table: dict) -> None:
    assert buildplan.select(["selftest"], root=repo, table=table) == [
        ("selftest", "images/test-image", ("confluence-selftest",))]


@pytest.mark.parametrize("command", [[], ["confluence-alpha", "a b"], ["confluence-alpha", "$HOME"]])
def test_command_unusable_as_default_fails(repo: Path, command: list[str]) -> None:
    table = buildplan.parse_images(f"alpha\tmodules/alpha\t{json.dumps(command)}\n")
    with pytest.raises(buildplan.PlanError, match="default command"):
        buildplan.select([], root=repo, table=table)


def test_the_real_table_through_confluence_images() -> None:
    """Every image of the workflow table with a package is built, with its first row's command."""
    images = {i: (p, c) for i, p, c in buildplan.select([], build_all=True)}
    assert images["input"] == ("modules/input", ("confluence-input",))
    assert images["postdiagnostics"] == ("modules/postdiagnostics", ("confluence-postdiagnostics", "flpe"))
    assert images["flpe-neobam"] == ("modules/flpe/neobam", ("confluence-flpe", "neobam"))
    assert images["selftest"] == ("images/test-image", ("confluence-selftest",))
    assert all((REPO / p / "pyproject.toml").is_file() for p, _ in images.values())


def test_images_command_prints_package_and_command() -> None:
    out = subprocess.run([sys.executable, str(REPO / "images" / "buildplan.py"), "images", "input", "selftest"],
                         capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["input\tmodules/input\tconfluence-input\tconfluence-input",
                                "selftest\timages/test-image\tconfluence-selftest\tconfluence-selftest"]


def test_no_module_keeps_its_own_dockerfile() -> None:
    """One template: images/module.Dockerfile; the per-module copies are gone."""
    assert (REPO / buildplan.TEMPLATE).is_file()
    paths = [p for _, p, _ in buildplan.select([], build_all=True)]
    assert [f"{p}/Dockerfile" for p in paths if (REPO / p / "Dockerfile").exists()] == []


def test_closure_and_requirements_follow_local_dependencies_and_extras(repo: Path) -> None:
    (repo / "core/pyproject.toml").write_text(
        '[project]\nname = "confluence-core"\nversion = "0.3.0"\ndependencies = ["numpy>=1.24"]\n'
        '[project.optional-dependencies]\ntables = ["pandas>=2.0"]\nnetwork = ["scipy>=1.10"]\n')
    (repo / "modules/alpha/pyproject.toml").write_text(
        '[project]\nname = "confluence-alpha"\nversion = "0.3.0"\n'
        'dependencies = ["confluence-core[tables]", "boto3>=1.28", "pywin32; sys_platform == \'win32\'"]\n')
    assert buildplan.closure("modules/alpha", root=repo) == ["core", "modules/alpha"]
    # the extra asked for (tables) comes in, the other (network) and the Windows-only one do not
    assert buildplan.requirements("modules/alpha", root=repo) == ["boto3>=1.28", "numpy>=1.24", "pandas>=2.0",
                                                                  "setuptools"]


def test_context_holds_the_lock_and_only_this_images_packages(repo: Path, tmp_path: Path) -> None:
    (repo / "images/lock").mkdir(parents=True)
    (repo / "images/lock/alpha.txt").write_text("numpy==2.0 --hash=sha256:00\n")
    (repo / "modules/alpha/pyproject.toml").write_text(
        '[project]\nname = "confluence-alpha"\nversion = "0.3.0"\ndependencies = ["confluence-core"]\n')
    (repo / "modules/alpha/build/lib").mkdir(parents=True)  # litter: not copied
    dest = buildplan.context(tmp_path / "ctx", "alpha", "modules/alpha", root=repo)
    assert (dest / "lock.txt").read_text() == "numpy==2.0 --hash=sha256:00\n"
    assert sorted(p.relative_to(dest / "src").as_posix() for p in (dest / "src").glob("**/pyproject.toml")) == [
        "core/pyproject.toml", "modules/alpha/pyproject.toml"]
    assert not (dest / "src/modules/alpha/build").exists()
    with pytest.raises(buildplan.PlanError, match="make lock"):
        buildplan.context(tmp_path / "ctx2", "beta", "modules/beta", root=repo)


def test_stale_locks_name_the_images_whose_packages_changed(repo: Path) -> None:
    images = [("alpha", "modules/alpha", ("confluence-alpha",))]
    assert buildplan.stale_locks(images, root=repo) == ["alpha"]  # no lock yet
    (repo / "images/lock").mkdir(parents=True)
    (repo / "images/lock/alpha.in").write_text(buildplan.lock_input("alpha", "modules/alpha", root=repo))
    (repo / "images/lock/alpha.txt").write_text("")
    assert buildplan.stale_locks(images, root=repo) == []
    (repo / "modules/alpha/pyproject.toml").write_text(
        '[project]\nname = "confluence-alpha"\nversion = "0.3.0"\ndependencies = ["scipy"]\n')
    assert buildplan.stale_locks(images, root=repo) == ["alpha"]


def test_wheel_context_links_only_locked_wheels(repo: Path, tmp_path: Path) -> None:
    (repo / "images/lock").mkdir(parents=True)
    (repo / "images/lock/requirements.txt").write_text("numpy==2.0.1 \\\n    --hash=sha256:00\n")
    (repo / "images/lock/requirements.in").write_text("numpy\n")
    cache = tmp_path / "cache"
    cache.mkdir()
    for name in ["numpy-2.0.1-cp311-cp311-manylinux_2_17_x86_64.whl", "numpy-1.26.0-cp311-none-any.whl",
                 "scipy-1.0-cp311-none-any.whl"]:
        (cache / name).write_bytes(b"x")
    ca = tmp_path / "ca.crt"
    ca.write_text("CA")
    dest = buildplan.wheel_context(tmp_path / "wctx", cache, root=repo, ca_bundle=ca)
    assert [p.name for p in (dest / "cache").iterdir()] == ["numpy-2.0.1-cp311-cp311-manylinux_2_17_x86_64.whl"]
    assert sorted(p.name for p in (dest / "lock").iterdir()) == ["requirements.txt"]
    assert (dest / "ca-certificates.crt").read_text() == "CA"


def test_stage_copies_without_litter_and_version(repo: Path, tmp_path: Path) -> None:
    (repo / "modules/alpha/build/lib").mkdir(parents=True)
    copies = buildplan.stage(tmp_path / "stage", ["core", "modules/alpha"], root=repo)
    assert [c.relative_to(tmp_path / "stage").as_posix() for c in copies] == ["core", "modules/alpha"]
    assert not (tmp_path / "stage/modules/alpha/build").exists()
    assert buildplan.build_requires(["modules/alpha"], root=repo) == ["setuptools>=64"]
    assert buildplan.version(root=repo) == "0.3.0"


def test_build_stops_when_the_engine_cannot_run_the_target_platform(tmp_path: Path) -> None:
    """`make build` on an arm64 (or other) engine says why it stops instead of building wrong images."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "docker").write_text('#!/bin/sh\n[ "$1" = info ] && [ "$2" = -f ] && echo linux/aarch64\nexit 0\n')
    (fake / "docker").chmod(0o755)
    env = {"PATH": f"{fake}:/usr/bin:/bin", "HOME": str(tmp_path), "PYTHON": sys.executable}
    result = subprocess.run(["bash", str(REPO / "images" / "build.sh"), "selftest"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    assert "runs linux/arm64 containers; the images are linux/amd64" in result.stderr
    assert "cannot run linux/amd64 natively; set ALLOW_EMULATION=1" in result.stderr
