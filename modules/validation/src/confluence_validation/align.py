"""Put SWOT observation times and daily gauge records on one axis of days.

Days are counted like the SoS gauge time ``{A}_qt``: days since 0001-01-01
(proleptic Gregorian, ``date.toordinal() - 1``; contracts.md section 8).
SWOT times are seconds since 2000-01-01T00:00:00 UTC (leap seconds ignored,
as in the RiverSP product, JPL D-56413).  A gauge's daily value is the mean
over its *local* day (USGS daily values use local standard time), so an
observation at UTC time :math:`t` belongs to the gauge day

.. math:: d = d_{2000} + \\lfloor (t + 3600\\,h) / 86400 \\rfloor

with :math:`h` the gauge's UTC offset in hours (Alaska standard time
:math:`h = -9`: 2024-07-01T05:00Z is 2024-06-30 20:00 local, day 2024-06-30)
and :math:`d_{2000} = 730119` the day number of 2000-01-01.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from confluence_core import sos

#: ``{A}_qt`` day number of 2000-01-01, the SWOT time origin.
SWOT_EPOCH_DAY: int = sos.date_to_qt(dt.date(2000, 1, 1))
SECONDS_PER_DAY = 86400.0


def local_day(time_s: np.ndarray, utc_offset_hours: float = 0.0) -> np.ndarray:
    """Gauge day (days since 0001-01-01) of each SWOT observation time.

    Parameters
    ----------
    time_s : ndarray
        Observation times, s since 2000-01-01T00:00:00 UTC; NaN where missing.
    utc_offset_hours : float
        The gauge's local time minus UTC, h (-9 for Alaska standard time).

    Returns
    -------
    ndarray of float
        Whole day numbers, NaN where the time is missing.
    """
    t = np.asarray(time_s, dtype=np.float64)
    return SWOT_EPOCH_DAY + np.floor((t + 3600.0 * float(utc_offset_hours)) / SECONDS_PER_DAY)


@dataclass
class GaugeSeries:
    """One gauge's daily record after cleaning: sorted unique days, one value each.

    Attributes
    ----------
    days : ndarray of int64
        Days since 0001-01-01, strictly increasing.
    q : ndarray of float
        Daily discharge, m3/s; NaN where no usable value.
    n_duplicate_days : int
        Days that appeared more than once (their usable values averaged).
    n_negative : int
        Negative values set to missing.
    """

    days: np.ndarray
    q: np.ndarray
    n_duplicate_days: int = 0
    n_negative: int = 0

    @property
    def n_valid(self) -> int:
        """Days with a usable value."""
        return int(np.isfinite(self.q).sum())


def clean_gauge(qt: np.ndarray, q: np.ndarray) -> GaugeSeries:
    """Turn a raw gauge row (``{A}_qt``, ``{A}_q``) into one value per day.

    Rules: entries without a day are dropped; fractional days are floored to
    their day; negative discharge is missing (NaN); a day recorded more than
    once gets the mean of its usable values (counted in ``n_duplicate_days``
    so the caller can warn); days absent from the record (gaps) are simply
    absent and never match an observation.

    Parameters
    ----------
    qt : ndarray
        Days since 0001-01-01, NaN where fill.
    q : ndarray
        Discharge, m3/s, NaN where fill; same shape as ``qt``.
    """
    qt = np.asarray(qt, dtype=np.float64).ravel()
    q = np.asarray(q, dtype=np.float64).ravel()
    if qt.shape != q.shape:
        raise ValueError(f"gauge days ({qt.size}) and values ({q.size}) differ in length")
    keep = np.isfinite(qt)
    days, q = np.floor(qt[keep]).astype(np.int64), q[keep]
    negative = np.isfinite(q) & (q < 0)
    q = np.where(negative, np.nan, q)
    udays, inverse, counts = np.unique(days, return_inverse=True, return_counts=True)
    usable = np.isfinite(q)
    total = np.bincount(inverse, weights=np.where(usable, q, 0.0), minlength=udays.size)
    n_usable = np.bincount(inverse, weights=usable.astype(np.float64), minlength=udays.size)
    mean = np.full(udays.size, np.nan)
    np.divide(total, n_usable, out=mean, where=n_usable > 0)
    return GaugeSeries(udays, mean, int((counts > 1).sum()), int(negative.sum()))


def daily_means(days: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average estimates that fall on the same day.

    Parameters
    ----------
    days : ndarray, shape (nt,)
        Day number of each observation (:func:`local_day`), NaN where missing.
    values : ndarray, shape (P, nt)
        Estimates of P products at each observation, NaN where missing.

    Returns
    -------
    udays : ndarray of int64, shape (D,)
        The distinct observation days, increasing.
    means : ndarray, shape (P, D)
        Mean of each product's finite estimates on each day; NaN when it has none.
    """
    days = np.asarray(days, dtype=np.float64)
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    seen = np.isfinite(days)
    udays, inverse = np.unique(days[seen].astype(np.int64), return_inverse=True)
    onehot = np.zeros((int(seen.sum()), udays.size))
    onehot[np.arange(inverse.size), inverse] = 1.0
    vals = values[:, seen]
    finite = np.isfinite(vals)
    total = np.where(finite, vals, 0.0) @ onehot
    count = finite.astype(np.float64) @ onehot
    means = np.full(total.shape, np.nan)
    np.divide(total, count, out=means, where=count > 0)
    return udays, means


def gauge_on(days: np.ndarray, gauge: GaugeSeries) -> np.ndarray:
    """The gauge value on each of ``days`` (int day numbers); NaN where the record has none."""
    days = np.asarray(days, dtype=np.int64)
    out = np.full(days.shape, np.nan)
    if gauge.days.size == 0 or days.size == 0:
        return out
    pos = np.clip(np.searchsorted(gauge.days, days), 0, gauge.days.size - 1)
    hit = gauge.days[pos] == days
    out[hit] = gauge.q[pos[hit]]
    return out


@dataclass
class Aligned:
    """Estimates and gauge values on the distinct observation days of a reach.

    Attributes
    ----------
    days : ndarray of int64, shape (D,)
        Observation days (days since 0001-01-01, gauge local time).
    est : ndarray, shape (P, D)
        Daily mean estimate of each product (m3/s), NaN where none.
    gauge : ndarray, shape (D,)
        Gauge daily discharge (m3/s), NaN where the record has no usable value.
    """

    days: np.ndarray
    est: np.ndarray
    gauge: np.ndarray

    @property
    def n_gauge_days(self) -> int:
        """Observation days on which the gauge has a value."""
        return int(np.isfinite(self.gauge).sum())


def align(time_s: np.ndarray, est: np.ndarray, gauge: GaugeSeries, utc_offset_hours: float = 0.0) -> Aligned:
    """Estimates at SWOT times and a daily gauge record on the same days.

    Parameters
    ----------
    time_s : ndarray, shape (nt,)
        Observation times, s since 2000-01-01 UTC, NaN where missing.
    est : ndarray, shape (P, nt)
        Estimates (m3/s) of P products at those times.
    gauge : GaugeSeries
    utc_offset_hours : float
        Gauge local time minus UTC (h).
    """
    udays, means = daily_means(local_day(time_s, utc_offset_hours), est)
    return Aligned(udays, means, gauge_on(udays, gauge))


def day_to_date(day: int) -> dt.date:
    """Calendar date of a day number (days since 0001-01-01)."""
    return sos.qt_to_date(day)
