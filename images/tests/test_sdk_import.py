"""Nothing in the repository shadows the Docker SDK (issue 19: the old top-level ``docker/`` folder did).

pytest runs with ``--import-mode=importlib`` (root ``pyproject.toml``), which registers the parent
folders of collected test modules as namespace modules; a repository folder named ``docker`` then
became ``import docker`` for every later test, and the container tests skipped with
"no Docker engine (AttributeError)".  Collected with the whole repository (``pytest .``), this
module must still see the SDK.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_import_docker_is_the_sdk() -> None:
    import docker

    assert callable(getattr(docker, "from_env", None)), f"`import docker` gave {docker!r}, not the Docker SDK"
    assert docker.__file__ is not None and "site-packages" in Path(docker.__file__).parts, docker.__file__
    assert sys.modules["docker"] is docker


def test_no_top_level_folder_named_like_an_imported_package() -> None:
    """The folders at the top of the repository are not named after a package the tests import."""
    clashes = {"docker", "boto3", "moto", "numpy", "netCDF4", "click", "pytest"}
    tops = {p.name for p in REPO.iterdir() if p.is_dir()}
    assert tops.isdisjoint(clashes), sorted(tops & clashes)
