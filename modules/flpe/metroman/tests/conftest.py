"""Fixtures of the MetroMan tests (helpers in ``metroman_testdata``, importable from here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from metroman_testdata import Truth, trapezoid_set


@pytest.fixture(scope="session")
def truth3() -> Truth:
    return trapezoid_set(3)


@pytest.fixture(scope="session")
def reference_metroman(shared_data: Path) -> Path:
    return next((shared_data / "reference_outputs" / "flpe" / "metroman").glob("*_metroman.nc"))
