"""Fixtures of the HiVDI tests (synthetic reach sets in ``hivdi_testdata``, importable from here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def reference_hivdi(shared_data: Path) -> Path:
    return shared_data / "reference_outputs" / "flpe" / "hivdi" / "77449100071_hivdi.nc"
