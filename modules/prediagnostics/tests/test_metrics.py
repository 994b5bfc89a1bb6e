"""metrics.evaluate on hand-counted masks."""

from __future__ import annotations

import math

import numpy as np
import pytest
from confluence_prediagnostics.metrics import evaluate


def test_counts() -> None:
    removed = np.array([1, 1, 0, 0, 1, 0], dtype=bool)
    bad = np.array([1, 0, 1, 0, 1, 0], dtype=bool)
    precision, recall, kept_good = evaluate(removed, bad)
    assert precision == pytest.approx(2 / 3)
    assert recall == pytest.approx(2 / 3)
    assert kept_good == pytest.approx(2 / 3)


def test_valid_restricts_scoring() -> None:
    removed = np.array([[1, 0], [0, 1]], dtype=bool)
    bad = np.array([[1, 0], [1, 0]], dtype=bool)
    valid = np.array([[1, 1], [0, 0]], dtype=bool)
    assert evaluate(removed, bad, valid) == (1.0, 1.0, 1.0)


def test_empty_cases_are_nan() -> None:
    precision, recall, kept_good = evaluate(np.zeros(3, bool), np.zeros(3, bool))
    assert math.isnan(precision) and math.isnan(recall) and kept_good == 1.0


def test_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="shapes differ"):
        evaluate(np.zeros(3, bool), np.zeros(4, bool))
