"""Benchmark metrics."""

from __future__ import annotations

import numpy as np
from confluence_flpe.metrics import scores


def test_perfect_estimate() -> None:
    t = np.array([1.0, 2.0, 4.0, 3.0])
    s = scores(t, t)
    assert s["nRMSE"] == 0 and s["NSE"] == 1 and s["KGE"] == 1 and s["rBIAS"] == 0
    np.testing.assert_allclose(s["r"], 1.0)


def test_biased_estimate_and_missing_values() -> None:
    t = np.array([1.0, 2.0, 3.0, np.nan])
    e = np.array([2.0, 4.0, 6.0, 5.0])  # twice the truth; last time unscored
    s = scores(e, t)
    np.testing.assert_allclose(s["rBIAS"], 1.0)
    np.testing.assert_allclose(s["nRMSE"], np.sqrt(np.mean(np.array([1, 2, 3]) ** 2)) / 2)
    np.testing.assert_allclose(s["KGE"], 1 - np.sqrt(2.0))
    assert np.isnan(scores(np.array([1.0]), np.array([1.0]))["NSE"])
