"""The consensus rule of contracts.md section 9."""

from __future__ import annotations

import numpy as np
from confluence_flpe_consensus.science import consensus, screen

VARIED = np.array([100.0, 300.0, 50.0, 600.0])  # CV well above 0.3


def test_negative_values_become_missing() -> None:
    q, why = screen(np.array([100.0, -5.0, 50.0, 600.0]), 4)
    assert why == "" and np.isnan(q[1]) and q[3] == 600.0


def test_odd_length_no_value_and_low_cv_are_dropped() -> None:
    assert screen(VARIED[:3], 4)[1] == "length 3, the reach has 4 times"
    assert screen(np.full(4, np.nan), 4)[1] == "no valid value"
    assert screen(np.array([-1.0, -2.0, np.nan, -3.0]), 4)[1] == "no valid value"
    assert "coefficient of variation" in screen(np.array([100.0, 101.0, 99.0, 100.0]), 4)[1]
    assert screen(np.array([100.0, np.nan, np.nan, np.nan]), 4)[0] is None  # one value: no variation
    # CV just below 0.3 is dropped, just above it is kept (sample sd / mean)
    unit = np.array([1.0, -1.0]) / np.std([1.0, -1.0], ddof=1)
    assert screen(1.0 + 0.29 * unit, 2)[0] is None
    assert screen(1.0 + 0.31 * unit, 2)[0] is not None


def test_per_time_median_of_the_kept_series() -> None:
    series = {
        "a": VARIED,
        "b": VARIED * 2,
        "c": np.array([np.nan, 100.0, -7.0, 1000.0]),
        "flat": np.full(4, 200.0),
        "short": VARIED[:2],
    }
    q, used, dropped = consensus(series, 4)
    assert used == ["a", "b", "c"] and set(dropped) == {"flat", "short"}
    np.testing.assert_allclose(q, [150.0, 300.0, 75.0, 1000.0])


def test_nothing_left() -> None:
    q, used, dropped = consensus({"flat": np.ones(3)}, 3)
    assert used == [] and np.isnan(q).all() and q.shape == (3,) and "flat" in dropped
    assert consensus({}, 2)[0].shape == (2,)
