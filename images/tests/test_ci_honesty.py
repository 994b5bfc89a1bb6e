"""Under CI=true a container test cannot pass by skipping (root conftest.py, issue 20)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROBE = '''
import pytest

@pytest.mark.docker
def test_needs_containers():
    pytest.skip("no Docker engine: Error while fetching server API version")

def test_image_missing_unmarked():
    pytest.skip("image confluence/selftest:0.1.0 not built (make build ALL=1)")

def test_other_skip():
    pytest.skip("reference data not found at /nowhere")
'''


@pytest.fixture()
def probe() -> Iterator[Path]:
    """A test file inside the repository (so the root conftest.py applies), removed afterwards."""
    folder = REPO / "build" / f"ci-honesty-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    (folder / "test_probe.py").write_text(PROBE)
    yield folder / "test_probe.py"
    shutil.rmtree(folder, ignore_errors=True)


def _pytest(path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", str(path)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_ci_turns_a_container_skip_into_a_failure(probe: Path) -> None:
    result = _pytest(probe, "true")
    assert result.returncode == 1, result.stdout
    assert "2 failed, 1 skipped" in result.stdout, result.stdout  # other skips (data absent) stay skips
    assert ("test_needs_containers - CI=true: a container test may not be skipped (Skipped: no Docker engine"
            in result.stdout)


def test_without_ci_the_skip_is_a_skip(probe: Path) -> None:
    result = _pytest(probe, None)
    assert result.returncode == 0, result.stdout
    assert "3 skipped" in result.stdout
