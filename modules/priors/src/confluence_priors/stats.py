"""Per-gauge discharge statistics stored in an SoS agency group (pure functions).

Statistics of one daily discharge series (m3/s), as the SoS keeps them for
every gauge (contracts.md section 8, :mod:`confluence_core.sos`):

- ``mean_q``, ``min_q``, ``max_q``: over every valid day (m3/s).
- ``monthly_q`` [12]: mean of every valid day of each calendar month, all
  years pooled (January first); NaN for a month without data.
- ``flow_duration_q`` [20]: the flow-duration curve at the exceedance
  probabilities :data:`confluence_core.sos.EXCEEDANCE` (1 ... 96 %): the flow
  equalled or exceeded ``p`` % of the days is the ``(1 - p/100)`` quantile of
  the daily flows (linear interpolation between order statistics, Hyndman
  and Fan 1996 definition 7, numpy's default). Vogel, R. M. and Fennessey,
  N. M. (1994), Flow-duration curves. I: New interpretation and confidence
  intervals, J. Water Resour. Plan. Manage., 120(4), 485-504,
  doi:10.1061/(ASCE)0733-9496(1994)120:4(485).
- ``two_year_return_q``: the flow with a two-year return period, i.e. the
  median (exceedance probability 1/2) of the annual maximum daily flows.
  "Years" are consecutive 12-month blocks starting on the first day of the
  record's first month (calendar years for a record starting in January; a
  record from July 2023 to June 2025 has two full years, where calendar
  years would give only one), so short modern records are used whole. Only
  years with at least :data:`MIN_DAYS_PER_YEAR` (329, 90 %) valid days
  count: a partial year's maximum is biased low when it misses the flood
  season. With a single such year
  the value is that year's maximum (the median of a one-element sample: an
  unbiased-in-median but very uncertain estimate); with none it is NaN.

Dates are ``qt``: whole days since 0001-01-01 (proleptic Gregorian), the SoS
``{A}_qt`` convention (:func:`confluence_core.sos.date_to_qt`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from confluence_core.sos import EXCEEDANCE, N_MONTHS

#: Valid days a calendar year needs for its maximum to count as an annual maximum.
MIN_DAYS_PER_YEAR = 329

_QT_EPOCH = np.datetime64("0001-01-01", "D")


@dataclass(frozen=True)
class GaugeStats:
    """Statistics of one gauge (all m3/s; NaN where undefined)."""

    mean_q: float
    min_q: float
    max_q: float
    monthly_q: np.ndarray  # [12]
    flow_duration_q: np.ndarray  # [len(EXCEEDANCE)]
    two_year_return_q: float
    n_days: int  # valid days used
    n_years: int  # years that counted for the annual maxima

    @classmethod
    def empty(cls) -> GaugeStats:
        """All-NaN statistics (a gauge without usable data)."""
        nan = float("nan")
        return cls(nan, nan, nan, np.full(N_MONTHS, np.nan), np.full(len(EXCEEDANCE), np.nan), nan, 0, 0)

    def as_dict(self) -> dict[str, np.ndarray | float]:
        """The statistics keyed like ``model`` variables (``mean_q`` ... ``two_year_return_q``)."""
        return {
            "mean_q": self.mean_q, "min_q": self.min_q, "max_q": self.max_q,
            "monthly_q": self.monthly_q, "flow_duration_q": self.flow_duration_q,
            "two_year_return_q": self.two_year_return_q,
        }


def qt_to_datetime64(qt: np.ndarray) -> np.ndarray:
    """Convert days since 0001-01-01 to ``datetime64[D]`` (vectorised)."""
    return _QT_EPOCH + np.asarray(qt, dtype=np.int64).astype("timedelta64[D]")


def month_and_year(qt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (month 0..11, calendar year) of each ``qt`` day."""
    days = qt_to_datetime64(qt)
    month = days.astype("datetime64[M]").astype(np.int64) % 12
    year = days.astype("datetime64[Y]").astype(np.int64) + 1970
    return month, year


def record_year(qt: np.ndarray) -> np.ndarray:
    """Index of the 12-month block (from the first month of the record) of each ``qt`` day."""
    months = qt_to_datetime64(qt).astype("datetime64[M]").astype(np.int64)
    return (months - months.min()) // 12 if months.size else months


def series_problem(q: np.ndarray) -> str | None:
    """Return why a daily series cannot be used, or None when it can.

    A series with no finite value, or with any negative value (m3/s), is
    refused: a negative daily discharge means tidal reversal or a data error,
    and the log-space priors cannot use it.
    """
    q = np.asarray(q, dtype=np.float64)
    finite = np.isfinite(q)
    if not finite.any():
        return "all flows missing"
    n_neg = int(np.count_nonzero(q[finite] < 0))
    if n_neg:
        return f"{n_neg} negative flow value(s)"
    return None


def gauge_stats(qt: np.ndarray, q: np.ndarray, min_days_per_year: int = MIN_DAYS_PER_YEAR) -> GaugeStats:
    """Compute the SoS statistics of one daily discharge series.

    Parameters
    ----------
    qt : numpy.ndarray of int
        Day of each value, days since 0001-01-01.
    q : numpy.ndarray of float
        Daily mean discharge (m3/s); NaN is missing.
    min_days_per_year : int
        Valid days a calendar year needs to contribute an annual maximum.

    Returns
    -------
    GaugeStats
        All-NaN when the series has no valid value.
    """
    qt = np.asarray(qt, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    ok = np.isfinite(q) & np.isfinite(qt)
    if not ok.any():
        return GaugeStats.empty()
    qv, dv = q[ok], qt[ok].astype(np.int64)
    month, _ = month_and_year(dv)

    counts = np.bincount(month, minlength=N_MONTHS)
    sums = np.bincount(month, weights=qv, minlength=N_MONTHS)
    with np.errstate(invalid="ignore", divide="ignore"):
        monthly = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)

    fdc = np.quantile(qv, 1.0 - np.asarray(EXCEEDANCE, dtype=np.float64) / 100.0)
    two_year, n_years = _two_year(qv, record_year(dv), min_days_per_year)
    return GaugeStats(
        mean_q=float(qv.mean()), min_q=float(qv.min()), max_q=float(qv.max()),
        monthly_q=monthly, flow_duration_q=fdc,
        two_year_return_q=two_year, n_days=int(qv.size), n_years=n_years,
    )


def annual_maxima(q: np.ndarray, year: np.ndarray, min_days_per_year: int) -> np.ndarray:
    """Maximum daily flow of each year (any integer label) with at least ``min_days_per_year`` values."""
    years, inverse, n = np.unique(year, return_inverse=True, return_counts=True)
    maxima = np.full(years.size, -np.inf)
    np.maximum.at(maxima, inverse, q)
    return maxima[n >= min_days_per_year]


def _two_year(q: np.ndarray, year: np.ndarray, min_days_per_year: int) -> tuple[float, int]:
    maxima = annual_maxima(q, year, min_days_per_year)
    if maxima.size == 0:
        return float("nan"), 0
    return float(np.median(maxima)), int(maxima.size)
