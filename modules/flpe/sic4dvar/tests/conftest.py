"""Fixtures of the SIC4DVar tests (synthetic reaches in ``sic4dvar_testdata``, importable from here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sic4dvar_testdata import Twin, twin_reach


@pytest.fixture(scope="session")
def twin() -> Twin:
    """A 30-node, 50-time synthetic reach with the exact mean-flow prior."""
    return twin_reach()


@pytest.fixture(scope="session")
def reference_sic4dvar(shared_data: Path) -> Path:
    return shared_data / "reference_outputs" / "flpe" / "sic4dvar" / "77449100061_sic4dvar.nc"
