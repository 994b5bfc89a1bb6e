"""Small hydraulic helpers shared by the reader and the benchmark (pure numpy)."""

from __future__ import annotations

import numpy as np


def d_x_area_from_obs(width: np.ndarray, wse: np.ndarray) -> np.ndarray:
    """Change in flow area relative to the median stage, from widths and stages.

    Integrates width over stage with the trapezoidal rule, ordering the
    observations by stage, and subtracts the integral's value at the median
    stage: ``dA(h) = integral from median(h) to h of W dh``.  This is how SWOT
    computes ``d_x_area`` from the reach's width-stage pairs (Durand et al.
    2016, doi:10.1002/2015WR018434, section 2; the SWOT RiverSP product
    description, JPL D-56413), except that SWOT's reference is the SWORD
    prior stage and ours the median observed stage.

    Parameters
    ----------
    width : numpy.ndarray
        Widths ``[nt]`` (m), NaN where unobserved.
    wse : numpy.ndarray
        Water-surface elevations ``[nt]`` (m), NaN where unobserved.

    Returns
    -------
    numpy.ndarray
        ``dA`` ``[nt]`` (m2); NaN where width or wse is NaN, all NaN when fewer
        than two times have both.
    """
    width = np.asarray(width, dtype=np.float64)
    wse = np.asarray(wse, dtype=np.float64)
    out = np.full(width.shape, np.nan)
    ok = np.isfinite(width) & np.isfinite(wse)
    if np.count_nonzero(ok) < 2:
        return out
    h, w = wse[ok], width[ok]
    order = np.argsort(h, kind="stable")
    hs, ws = h[order], w[order]
    cum = np.concatenate([[0.0], np.cumsum(0.5 * (ws[1:] + ws[:-1]) * np.diff(hs))])
    ref = np.interp(np.median(hs), hs, cum)
    dA = np.empty_like(cum)
    dA[order] = cum - ref
    out[ok] = dA
    return out


def d_x_area_from_obs_2d(width: np.ndarray, wse: np.ndarray) -> np.ndarray:
    """:func:`d_x_area_from_obs` applied to each row of ``[nx, nt]`` node arrays (m2)."""
    width = np.atleast_2d(np.asarray(width, dtype=np.float64))
    wse = np.atleast_2d(np.asarray(wse, dtype=np.float64))
    return np.stack([d_x_area_from_obs(w, h) for w, h in zip(width, wse, strict=True)]) if width.size else width.copy()
