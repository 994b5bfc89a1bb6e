"""Pure functions of the offline product: arrays in, arrays out."""

from __future__ import annotations

import numpy as np


def d_x_area(width: np.ndarray, wse: np.ndarray, width_u: np.ndarray | None = None,
             wse_u: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Change of cross-sectional flow area from width and water-surface elevation.

    The area between two observed stages is the trapezoid of their widths,
    ``(W_i + W_j) / 2 * (H_j - H_i)``, accumulated over the observations sorted
    by stage (the width-stage integration of SWOT discharge algorithms, Durand
    et al. 2016, doi:10.1002/2015WR018434, and the SWOT RiverSP ``d_x_area``
    definition, JPL D-56413).  The result is relative to the area at the median
    observed stage (there ``dA = 0``), standing in for the prior database's
    reference stage of the SWOT product.

    The uncertainty is first-order propagation at each observation,
    ``sigma = sqrt((W sigma_H)^2 + ((H - H_ref) sigma_W)^2)``.

    Parameters
    ----------
    width : numpy.ndarray
        Reach width on ``nt`` (m); NaN where missing.
    wse : numpy.ndarray
        Reach water-surface elevation on ``nt`` (m); NaN where missing.
    width_u, wse_u : numpy.ndarray, optional
        Their 1-sigma uncertainties (m); without both the uncertainty is NaN.

    Returns
    -------
    dA : numpy.ndarray
        Area change (m2) on ``nt``; NaN where width or wse is missing (all NaN
        with fewer than two observations).
    dA_u : numpy.ndarray
        Its uncertainty (m2).
    """
    W = np.asarray(width, dtype=np.float64)
    H = np.asarray(wse, dtype=np.float64)
    ok = np.isfinite(W) & np.isfinite(H)
    dA = np.full(W.shape, np.nan)
    dA_u = np.full(W.shape, np.nan)
    if ok.sum() < 2:
        return dA, dA_u
    idx = np.flatnonzero(ok)
    order = idx[np.argsort(H[idx], kind="stable")]
    Hs, Ws = H[order], W[order]
    area = np.concatenate(([0.0], np.cumsum(0.5 * (Ws[1:] + Ws[:-1]) * np.diff(Hs))))
    h_ref = float(np.median(Hs))
    dA[order] = area - np.interp(h_ref, Hs, area)
    if width_u is not None and wse_u is not None:
        sw = np.asarray(width_u, dtype=np.float64)
        sh = np.asarray(wse_u, dtype=np.float64)
        dA_u[ok] = np.hypot(W[ok] * sh[ok], (H[ok] - h_ref) * sw[ok])
    return dA, dA_u


def median_series(series: list[np.ndarray], nt: int) -> np.ndarray:
    """Per-time median of several discharge series (m3/s), negatives as missing; NaN where none has a value.

    The consensus rule's combination step (contracts.md section 9) applied to
    the constrained series.
    """
    if not series:
        return np.full(nt, np.nan)
    stack = np.vstack([np.asarray(s, dtype=np.float64) for s in series])
    stack = np.where(stack >= 0, stack, np.nan)
    out = np.full(nt, np.nan)
    have = np.isfinite(stack).any(axis=0)
    if have.any():
        out[have] = np.nanmedian(stack[:, have], axis=0)
    return out


def yyyymmdd(time: np.ndarray) -> np.ndarray:
    """Dates ``YYYYMMDD`` (int32) of SWOT times (s since 2000-01-01 00:00 UTC); -999 where NaN."""
    t = np.asarray(time, dtype=np.float64)
    out = np.full(t.shape, -999, dtype=np.int32)
    ok = np.isfinite(t)
    if ok.any():
        days = np.datetime64("2000-01-01", "D") + np.floor(t[ok] / 86400.0).astype("timedelta64[D]")
        y = days.astype("datetime64[Y]").astype(np.int64) + 1970
        m = days.astype("datetime64[M]").astype(np.int64) % 12 + 1
        d = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
        out[ok] = (y * 10000 + m * 100 + d).astype(np.int32)
    return out
