"""Helpers for the cross-package tests: a run folder for the selftest workflow, Docker availability."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

SELFTEST_WORKFLOW = Path(__file__).parent / "data" / "selftest_workflow.toml"
REACHES = ["74269800011", "74269800021", "74269800031", "74269800041"]


def docker_ready(*images: str) -> str:
    """'' when a Docker engine answers and the images exist, else the reason to skip."""
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.ping()
    except Exception as exc:
        return f"no Docker engine: {str(exc).splitlines()[0][:100] if str(exc) else type(exc).__name__}"
    for image in images:
        try:
            client.images.get(image)
        except Exception:
            return f"image {image} not built (make build ALL=1)"
    return ""


@pytest.fixture()
def selftest_run(tmp_path: Path) -> Path:
    """A run folder with the selftest's fan-out lists in its input volume."""
    run = tmp_path / "run"
    (run / "input").mkdir(parents=True)
    (run / "input" / "reaches.json").write_text(json.dumps([{"reach_id": int(r)} for r in REACHES]))
    (run / "input" / "once.json").write_text(json.dumps(["done"]))
    return run


def git_root() -> Path:
    out = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False)
    return Path(out.stdout.strip()) if out.returncode == 0 else Path(__file__).resolve().parents[1]
