"""The consensus of the recomputed series."""

from __future__ import annotations

import numpy as np
from confluence_offline.science import median_series


def test_median_series() -> None:
    a = np.array([1.0, np.nan, -3.0, np.nan])
    b = np.array([3.0, 2.0, 5.0, np.nan])
    c = np.array([2.0, 4.0, 7.0, np.nan])
    np.testing.assert_allclose(median_series([a, b, c], 4), [2.0, 3.0, 6.0, np.nan])
    assert np.isnan(median_series([], 3)).all()
