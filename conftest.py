"""Fixtures and markers shared by every test folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent
SHARED_DATA = Path(os.environ.get("CONFLUENCE_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only reference data (``../shared/data``); tests skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture()
def mnt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A run folder used as the mount root (``CONFLUENCE_MNT``) with every volume created."""
    from confluence_core.volumes import MOUNT_ENV, VOLUMES

    for sub in VOLUMES.values():
        (tmp_path / sub).mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv(MOUNT_ENV, str(tmp_path))
    monkeypatch.delenv("AWS_BATCH_JOB_ARRAY_INDEX", raising=False)
    return tmp_path
