"""d_x_area from width and stage."""

from __future__ import annotations

import numpy as np
from confluence_flpe.hydraulics import d_x_area_from_obs, d_x_area_from_obs_2d, d_x_area_u_from_obs


def test_rectangular_channel_is_width_times_stage_change() -> None:
    h = np.array([3.0, 1.0, 2.0, np.nan, 5.0, 4.0])
    w = np.full(6, 10.0)
    dA = d_x_area_from_obs(w, h)
    assert np.isnan(dA[3])
    ok = np.isfinite(h)
    np.testing.assert_allclose(dA[ok], 10.0 * (h[ok] - np.median(h[ok])))


def test_widening_channel_integrates_width() -> None:
    h = np.linspace(0.0, 2.0, 5)
    w = 100.0 + 10.0 * h  # A(h) = 100 h + 5 h^2, exact for the trapezoid rule on a linear width
    dA = d_x_area_from_obs(w, h)
    area = 100 * h + 5 * h**2
    np.testing.assert_allclose(dA, area - area[2])


def test_too_few_points_and_2d() -> None:
    assert np.isnan(d_x_area_from_obs(np.array([1.0, np.nan]), np.array([1.0, 2.0]))).all()
    w = np.full((2, 3), 5.0)
    h = np.array([[1.0, 2.0, 3.0], [0.0, 1.0, 0.5]])
    np.testing.assert_allclose(d_x_area_from_obs_2d(w, h), [[-5, 0, 5], [-2.5, 2.5, 0]])


def test_uncertainty_first_order() -> None:
    """sigma = sqrt((W sigma_H)^2 + ((H - H_ref) sigma_W)^2), H_ref the median stage (2 m here)."""
    h = np.array([1.0, 2.0, 3.0, np.nan])
    w = np.full(4, 100.0)
    got = d_x_area_u_from_obs(w, h, np.full(4, 5.0), np.full(4, 0.1))
    assert got is not None
    np.testing.assert_allclose(got[:3], np.hypot(100 * 0.1, np.array([-1.0, 0.0, 1.0]) * 5.0))
    assert np.isnan(got[3])
    assert d_x_area_u_from_obs(w, h, None, np.full(4, 0.1)) is None


def test_swot_dates() -> None:
    from confluence_flpe.output import yyyymmdd

    t = np.array([0.0, 86399.0, 86400.0 * 366, np.nan, 7.5e8])
    assert yyyymmdd(t).tolist() == [20000101, 20000101, 20010101, -999, 20231007]
