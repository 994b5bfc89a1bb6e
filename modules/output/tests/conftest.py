"""Fixtures of the output tests: the run folder of ``output_runfolder.py``.

Tests import that helper as ``output_runfolder``: this file puts the folder on
``sys.path`` (the suite runs with ``--import-mode=importlib``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from output_runfolder import build_run


@pytest.fixture()
def run(mnt: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The run folder, built; returns the results path the CLI should write."""
    monkeypatch.setenv("CONFLUENCE_RUN_ID", "run-test-1")
    monkeypatch.delenv("CONFLUENCE_RESULTS_BUCKET", raising=False)
    monkeypatch.delenv("CONFLUENCE_RESULTS_PREFIX", raising=False)
    monkeypatch.delenv("CONFLUENCE_SWORD_VERSION", raising=False)
    return build_run(mnt, shared_data)
