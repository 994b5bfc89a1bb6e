"""docker/buildplan.py: which images and packages `docker/build.sh` builds (no Docker needed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("buildplan", Path(__file__).resolve().parents[1] / "buildplan.py")
assert _spec and _spec.loader
buildplan = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(buildplan)

TABLE = """
[[steps]]
name = "a"
image = "alpha"
path = "modules/alpha"
[[steps]]
name = "b1"
image = "beta"
path = "modules/beta"
[[steps]]
name = "b2"
image = "beta"
path = "modules/beta"
[[steps]]
name = "g"
image = "gamma"
path = "modules/gamma"
"""


def _package(root: Path, path: str, name: str, dockerfile: bool = True) -> None:
    (root / path).mkdir(parents=True)
    (root / path / "pyproject.toml").write_text(
        f'[build-system]\nrequires = ["setuptools>=64"]\n[project]\nname = "{name}"\nversion = "0.3.0"\n'
    )
    if dockerfile:
        (root / path / "Dockerfile").write_text("FROM scratch\n")


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    table = tmp_path / buildplan.WORKFLOW
    table.parent.mkdir(parents=True)
    table.write_text(TABLE)
    _package(tmp_path, "core", "confluence-core", dockerfile=False)
    _package(tmp_path, "modules/alpha", "confluence-alpha")
    _package(tmp_path, "modules/beta", "confluence-beta")
    (tmp_path / "modules/gamma").mkdir(parents=True)  # no Dockerfile yet
    _package(tmp_path, "docker/test-image", "confluence-selftest")
    return tmp_path


def test_default_is_table_images_with_a_dockerfile_once_each(repo: Path) -> None:
    assert buildplan.select([], root=repo) == [("alpha", "modules/alpha"), ("beta", "modules/beta")]
    assert ("selftest", "docker/test-image") in buildplan.select([], build_all=True, root=repo)


def test_dockerfile_without_pyproject_is_skipped(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "modules/gamma/Dockerfile").write_text("FROM scratch\n")
    assert [i for i, _ in buildplan.select([], root=repo)] == ["alpha", "beta"]
    assert "gamma" in capsys.readouterr().err


@pytest.mark.parametrize(("name", "message"), [("nosuch", "unknown image"), ("gamma", "no modules/gamma")])
def test_bad_names_fail(repo: Path, name: str, message: str) -> None:
    with pytest.raises(buildplan.PlanError, match=message):
        buildplan.select([name], root=repo)


def test_selftest_by_name(repo: Path) -> None:
    assert buildplan.select(["selftest"], root=repo) == [("selftest", "docker/test-image")]


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
