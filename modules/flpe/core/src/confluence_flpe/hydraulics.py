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


def d_x_area_u_from_obs(width: np.ndarray, wse: np.ndarray, width_u: np.ndarray | None,
                        wse_u: np.ndarray | None) -> np.ndarray | None:
    """1-sigma uncertainty (m2) of :func:`d_x_area_from_obs`, first order at each observation.

    ``sigma = sqrt((W sigma_H)^2 + ((H - H_ref) sigma_W)^2)`` with ``H_ref`` the median stage of
    the times that have both width and wse (the reference of ``d_x_area_from_obs``).  None when
    either uncertainty is absent.
    """
    if width_u is None or wse_u is None:
        return None
    w, h = np.asarray(width, dtype=np.float64), np.asarray(wse, dtype=np.float64)
    ok = np.isfinite(w) & np.isfinite(h)
    out = np.full(w.shape, np.nan)
    if np.count_nonzero(ok) < 2:
        return out
    h_ref = float(np.median(h[ok]))
    sw, sh = np.asarray(width_u, dtype=np.float64), np.asarray(wse_u, dtype=np.float64)
    out[ok] = np.hypot(w[ok] * sh[ok], (h[ok] - h_ref) * sw[ok])
    return out


def d_x_area_from_obs_2d(width: np.ndarray, wse: np.ndarray) -> np.ndarray:
    """:func:`d_x_area_from_obs` applied to each row of ``[nx, nt]`` node arrays (m2)."""
    width = np.atleast_2d(np.asarray(width, dtype=np.float64))
    wse = np.atleast_2d(np.asarray(wse, dtype=np.float64))
    return np.stack([d_x_area_from_obs(w, h) for w, h in zip(width, wse, strict=True)]) if width.size else width.copy()
