"""Gauge statistics against hand computations."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from confluence_core.sos import EXCEEDANCE, date_to_qt
from confluence_priors.stats import gauge_stats, month_and_year, series_problem


def days(start: dt.date, n: int) -> np.ndarray:
    return date_to_qt(start) + np.arange(n)


def test_small_series_by_hand() -> None:
    # 2021-01-30 .. 2021-02-02: Jan 30, Jan 31, Feb 1, Feb 2 with one missing day
    qt = days(dt.date(2021, 1, 30), 4)
    q = np.array([1.0, 3.0, np.nan, 8.0])
    s = gauge_stats(qt, q, min_days_per_year=1)
    assert s.mean_q == pytest.approx(4.0)
    assert (s.min_q, s.max_q) == (1.0, 8.0)
    assert s.monthly_q[0] == pytest.approx(2.0)  # January: (1 + 3) / 2
    assert s.monthly_q[1] == pytest.approx(8.0)  # February: the NaN day does not count
    assert np.isnan(s.monthly_q[2:]).all()
    # exceedance 50 % = median of (1, 3, 8) = 3; 1 % = 0.99 quantile = 3 + 0.98 * 5
    assert s.flow_duration_q[EXCEEDANCE.index(50)] == pytest.approx(3.0)
    assert s.flow_duration_q[0] == pytest.approx(3.0 + 0.98 * 5.0)
    assert s.two_year_return_q == 8.0 and s.n_years == 1  # single year: its maximum
    assert s.n_days == 3


def test_fdc_is_the_exceedance_quantile() -> None:
    q = np.arange(1.0, 101.0)  # 1 .. 100
    s = gauge_stats(days(dt.date(2000, 1, 1), 100), q)
    expected = [1.0 + 99.0 * (1 - p / 100) for p in EXCEEDANCE]
    np.testing.assert_allclose(s.flow_duration_q, expected)
    assert np.all(np.diff(s.flow_duration_q) < 0)  # decreasing with exceedance


def test_two_year_return_is_median_of_annual_maxima() -> None:
    qt = days(dt.date(2001, 1, 1), 3 * 365)  # 2001, 2002, 2003 (no leap year)
    q = np.ones(qt.size)
    q[10], q[365 + 20], q[730 + 30] = 50.0, 20.0, 90.0
    s = gauge_stats(qt, q)
    assert s.n_years == 3
    assert s.two_year_return_q == 50.0  # median of (50, 20, 90)


def test_partial_years_do_not_count() -> None:
    # 2001 full (max 7), 2002 only 10 days (max 100): 2002 is not an annual maximum
    qt = np.concatenate([days(dt.date(2001, 1, 1), 365), days(dt.date(2002, 1, 1), 10)])
    q = np.concatenate([np.full(365, 7.0), np.full(10, 100.0)])
    s = gauge_stats(qt, q)
    assert (s.two_year_return_q, s.n_years) == (7.0, 1)
    assert np.isnan(gauge_stats(qt[-10:], q[-10:]).two_year_return_q)  # no complete year at all


def test_years_start_with_the_record() -> None:
    # 2023-07-21 .. 2024-07-19: no complete calendar year, but one complete record year (Jul-Jun)
    qt = days(dt.date(2023, 7, 21), 365)
    q = np.ones(qt.size)
    q[200] = 42.0
    s = gauge_stats(qt, q)
    assert (s.two_year_return_q, s.n_years) == (42.0, 1)


def test_month_and_year_vectorised() -> None:
    month, year = month_and_year(np.array([date_to_qt(dt.date(1999, 12, 31)), date_to_qt(dt.date(2000, 2, 29))]))
    assert month.tolist() == [11, 1] and year.tolist() == [1999, 2000]


def test_unusable_series() -> None:
    assert series_problem(np.array([np.nan, np.nan])) == "all flows missing"
    assert "negative" in series_problem(np.array([1.0, -2.0]))
    assert series_problem(np.array([0.0, np.nan, 3.0])) is None
    assert np.isnan(gauge_stats(np.arange(3), np.full(3, np.nan)).mean_q)
