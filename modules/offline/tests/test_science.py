"""d_x_area from width and wse, the median of constrained series, pass dates."""

from __future__ import annotations

import numpy as np
from confluence_offline.science import d_x_area, median_series, yyyymmdd


def test_rectangular_channel_area_is_width_times_stage() -> None:
    H = np.array([3.0, 1.0, np.nan, 2.0, 5.0])
    W = np.full(5, 100.0)
    dA, dA_u = d_x_area(W, H)
    np.testing.assert_allclose(dA, [50.0, -150.0, np.nan, -50.0, 250.0])  # 0 at the median stage, 2.5 m
    assert np.isnan(dA_u).all()  # no uncertainties given


def test_trapezoid_widening_channel_matches_the_integral() -> None:
    H = np.linspace(0.0, 4.0, 9)
    W = 50.0 + 10.0 * H  # A(H) = 50 H + 5 H^2: the trapezoid rule is exact for linear width
    dA, _ = d_x_area(W, H)
    exact = 50 * H + 5 * H**2
    np.testing.assert_allclose(dA, exact - (50 * 2.0 + 5 * 4.0))


def test_uncertainty_propagation() -> None:
    H = np.array([1.0, 2.0, 3.0])
    W = np.array([100.0, 100.0, 100.0])
    _, dA_u = d_x_area(W, H, np.full(3, 5.0), np.full(3, 0.1))
    np.testing.assert_allclose(dA_u, np.hypot(100 * 0.1, np.array([-1.0, 0.0, 1.0]) * 5.0))


def test_too_few_observations_give_fill() -> None:
    dA, dA_u = d_x_area(np.array([100.0, np.nan]), np.array([1.0, 2.0]))
    assert np.isnan(dA).all() and np.isnan(dA_u).all()


def test_median_series() -> None:
    a = np.array([1.0, np.nan, -3.0, np.nan])
    b = np.array([3.0, 2.0, 5.0, np.nan])
    c = np.array([2.0, 4.0, 7.0, np.nan])
    np.testing.assert_allclose(median_series([a, b, c], 4), [2.0, 3.0, 6.0, np.nan])
    assert np.isnan(median_series([], 3)).all()


def test_yyyymmdd_of_swot_times() -> None:
    t = np.array([0.0, 86399.0, 86400.0 * 366, np.nan, 7.5e8])
    assert yyyymmdd(t).tolist() == [20000101, 20000101, 20010101, -999, 20231007]
