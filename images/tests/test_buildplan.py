"""docker/buildplan.py: which images and packages `docker/build.sh` builds (no Docker needed)."""

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
    _package(tmp_path, "docker/test-image", "confluence-selftest")
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
    assert ("selftest", "docker/test-image", ("confluence-selftest",)) in buildplan.select(
        [], build_all=True, root=repo, table=table)


@pytest.mark.parametrize(("name", "message"), [("nosuch", "unknown image"), ("gamma", "no modules/gamma")])
def test_bad_names_fail(repo: Path, table: dict, name: str, message: str) -> None:
    with pytest.raises(buildplan.PlanError, match=message):
        buildplan.select([name], root=repo, table=table)


def test_selftest_by_name(repo: Path, table: dict) -> None:
    assert buildplan.select(["selftest"], root=repo, table=table) == [
        ("selftest", "docker/test-image", ("confluence-selftest",))]


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
    assert images["selftest"] == ("docker/test-image", ("confluence-selftest",))
    assert all((REPO / p / "pyproject.toml").is_file() for p, _ in images.values())


def test_images_command_prints_package_and_command() -> None:
    out = subprocess.run([sys.executable, str(REPO / "docker" / "buildplan.py"), "images", "input", "selftest"],
                         capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["input\tmodules/input\tconfluence-input\tconfluence-input",
                                "selftest\tdocker/test-image\tconfluence-selftest\tconfluence-selftest"]


def test_no_module_keeps_its_own_dockerfile() -> None:
    """One template: docker/module.Dockerfile; the per-module copies are gone."""
    assert (REPO / buildplan.TEMPLATE).is_file()
    paths = [p for _, p, _ in buildplan.select([], build_all=True)]
    assert [f"{p}/Dockerfile" for p in paths if (REPO / p / "Dockerfile").exists()] == []


def test_context_links_only_this_images_local_wheels(repo: Path, tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    names = ["numpy-2.0-cp311.whl", "confluence_core-0.3.0-py3-none-any.whl",
             "confluence_alpha-0.3.0-py3-none-any.whl", "confluence_beta-0.3.0-py3-none-any.whl"]
    for name in names:
        (wheels / name).write_bytes(b"x")
    dest = buildplan.context(wheels, tmp_path / "ctx", "modules/alpha", root=repo)
    assert sorted(p.name for p in (dest / "wheels").iterdir()) == sorted(names[:3])


def test_stage_copies_without_litter_and_version(repo: Path, tmp_path: Path) -> None:
    (repo / "modules/alpha/build/lib").mkdir(parents=True)
    copies = buildplan.stage(tmp_path / "stage", ["modules/alpha"], root=repo)
    assert [c.relative_to(tmp_path / "stage").as_posix() for c in copies] == ["core", "modules/alpha"]
    assert not (tmp_path / "stage/modules/alpha/build").exists()
    assert buildplan.build_requires(["modules/alpha"], root=repo) == ["setuptools>=64"]
    assert buildplan.version(root=repo) == "0.3.0"
