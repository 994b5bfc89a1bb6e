"""The consensus rule (contracts.md section 9): pure numpy."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

#: Series whose coefficient of variation is at most this are dropped (the prior echoed back).
CV_MIN = 0.3


def screen(q: np.ndarray, nt: int, cv_min: float = CV_MIN) -> tuple[np.ndarray | None, str]:
    """Apply the consensus screening to one algorithm's discharge series.

    Parameters
    ----------
    q : numpy.ndarray
        Discharge ``[nt]`` (m3/s), NaN where missing.
    nt : int
        Number of observation times of the reach.
    cv_min : float
        A series with coefficient of variation (sample standard deviation /
        mean over its valid values) ``<= cv_min`` is dropped.

    Returns
    -------
    (series, reason)
        The series with negative values set to NaN and ``""``, or None and
        why it was dropped.
    """
    q = np.asarray(q, dtype=np.float64).ravel()
    if q.shape != (nt,):
        return None, f"length {q.size}, the reach has {nt} times"
    q = np.where(q < 0, np.nan, q)
    valid = q[np.isfinite(q)]
    if valid.size == 0:
        return None, "no valid value"
    mean = valid.mean()
    cv = valid.std(ddof=1) / mean if valid.size > 1 and mean > 0 else 0.0
    if not cv > cv_min:
        return None, f"coefficient of variation {cv:.3g} <= {cv_min}"
    return q, ""


def consensus(series: Mapping[str, np.ndarray], nt: int, cv_min: float = CV_MIN
              ) -> tuple[np.ndarray, list[str], dict[str, str]]:
    """Per-time median of the series that pass :func:`screen`.

    Parameters
    ----------
    series : mapping of str to numpy.ndarray
        Algorithm name -> discharge ``[nt]`` (m3/s).
    nt : int
        Number of observation times of the reach.

    Returns
    -------
    (q, used, dropped)
        Consensus discharge ``[nt]`` (m3/s; NaN where no kept series has a
        value), the names of the kept series (sorted) and, for the others, why
        they were dropped.
    """
    kept: dict[str, np.ndarray] = {}
    dropped: dict[str, str] = {}
    for name in sorted(series):
        q, reason = screen(series[name], nt, cv_min)
        if q is None:
            dropped[name] = reason
        else:
            kept[name] = q
    if not kept:
        return np.full(nt, np.nan), [], dropped
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN times give NaN
        q = np.nanmedian(np.stack(list(kept.values())), axis=0)
    return q, list(kept), dropped
