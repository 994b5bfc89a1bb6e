"""Observation days in the gauge's local time; cleaning of gauge records."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from confluence_validation.align import align, clean_gauge, daily_means, day_to_date, gauge_on, local_day
from validation_builders import qt, swot_seconds


def test_swot_epoch_is_day_730119() -> None:
    assert local_day(np.array([0.0]))[0] == qt("2000-01-01") == 730119


@pytest.mark.parametrize(("stamp", "offset", "day"), [
    ("2024-07-01T05:00:00Z", 0.0, "2024-07-01"),
    ("2024-07-01T05:00:00Z", -9.0, "2024-06-30"),  # Alaska: 20:00 local the day before
    ("2024-07-01T09:00:00Z", -9.0, "2024-07-01"),  # local midnight exactly
    ("2024-07-01T08:59:59Z", -9.0, "2024-06-30"),
    ("2024-06-30T23:30:00Z", 1.0, "2024-07-01"),   # central Europe in winter time
    ("2024-07-01T20:00:00Z", 5.5, "2024-07-02"),   # half-hour offsets (India)
])
def test_local_day(stamp: str, offset: float, day: str) -> None:
    got = local_day(np.array([swot_seconds(stamp)]), offset)[0]
    assert got == qt(day)
    assert day_to_date(int(got)) == dt.date.fromisoformat(day)


def test_missing_time_has_no_day() -> None:
    assert np.isnan(local_day(np.array([np.nan]), -9.0)[0])


def test_clean_gauge_duplicates_gaps_negatives() -> None:
    days = np.array([qt("2024-01-03"), qt("2024-01-01"), qt("2024-01-03"), qt("2024-01-05"), np.nan,
                     qt("2024-01-06"), qt("2024-01-06")])
    q = np.array([30.0, 10.0, 50.0, -5.0, 99.0, np.nan, 7.0])
    g = clean_gauge(days, q)
    assert g.days.tolist() == [qt("2024-01-01"), qt("2024-01-03"), qt("2024-01-05"), qt("2024-01-06")]
    np.testing.assert_array_equal(g.q, [10.0, 40.0, np.nan, 7.0])  # 01-03 averaged, 01-05 negative
    assert g.n_duplicate_days == 2 and g.n_negative == 1 and g.n_valid == 3
    # the gap (01-02, 01-04) and the negative day do not match
    got = gauge_on(np.array([qt("2024-01-02"), qt("2024-01-03"), qt("2024-01-04"), qt("2024-01-05")]), g)
    np.testing.assert_array_equal(got, [np.nan, 40.0, np.nan, np.nan])


def test_clean_gauge_floors_fractional_days() -> None:
    g = clean_gauge(np.array([qt("2024-01-01") + 0.375]), np.array([3.0]))
    assert g.days.tolist() == [qt("2024-01-01")]


def test_daily_means_averages_estimates_of_one_day() -> None:
    d = qt("2024-01-01")
    days = np.array([d, d + 2, d, np.nan, d + 2])
    est = np.array([[1.0, 5.0, 3.0, 100.0, np.nan], [np.nan, np.nan, np.nan, 1.0, np.nan]])
    udays, means = daily_means(days, est)
    assert udays.tolist() == [d, d + 2]
    np.testing.assert_array_equal(means, [[2.0, 5.0], [np.nan, np.nan]])


def test_align_matches_alaska_local_day() -> None:
    # gauge has 2024-06-30 and 2024-07-01; the observation at 05:00Z is on 06-30 in Alaska
    g = clean_gauge(np.array([qt("2024-06-30"), qt("2024-07-01")]), np.array([100.0, 200.0]))
    t = np.array([swot_seconds("2024-07-01T05:00:00Z")])
    assert align(t, np.array([[150.0]]), g, -9.0).gauge.tolist() == [100.0]
    assert align(t, np.array([[150.0]]), g, 0.0).gauge.tolist() == [200.0]
