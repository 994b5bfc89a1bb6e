"""The Local Ensemble Transform Kalman Filter analysis (Hunt et al. 2007), as SAD uses it.

Andreadis et al. (2020), doi:10.1029/2019WR026611, section 2.2, equations S7-S11 of
``docs/science.md`` (Hunt, Kostelich & Szunyogh 2007, doi:10.1016/j.physd.2006.11.008)::

    (S7)  xa_mean = xb_mean + Xb wa_mean
    (S8)  wa_mean = Pa Db^T R^-1 (d - db_mean)
    (S9)  Pa = [(k - 1) I / rho + Db^T R^-1 Db]^-1
    (S10) Wa = [(k - 1) Pa]^(1/2)                    symmetric square root
    (S11) Xa = Xb Wa

``Xb`` and ``Db`` are the deviations of the ``k`` members from their mean in state and in
observation space, ``R`` the (diagonal) observation-error covariance and ``rho >= 1`` the
multiplicative inflation of Hunt et al. (1.05 as Sad.jl).  A reach is one local patch (SAD's
state is the reach's discharge), so the analysis is global within it.  Observations may be
down-weighted Huber-style (innovation beyond ``huber`` standard deviations: its variance times
``(z / huber)^2``), as the current Sad.jl does against outlying SWOT nodes.
"""

from __future__ import annotations

import numpy as np

#: Multiplicative covariance inflation (Sad.jl's default).
INFLATION = 1.05


def letkf(x: np.ndarray, hx: np.ndarray, d: np.ndarray, r_var: np.ndarray, rho: float = INFLATION,
          huber: float | None = None) -> np.ndarray:
    """Analysis ensemble (S7-S11) of one local patch.

    Parameters
    ----------
    x : numpy.ndarray
        ``[m, k]`` state ensemble (``m`` variables, ``k`` members).
    hx : numpy.ndarray
        ``[p, k]`` the members' predicted observations.
    d : numpy.ndarray
        ``[p]`` observations; NaN ones are not used.
    r_var : numpy.ndarray
        ``[p]`` observation-error variances (diagonal ``R``).
    rho : float
        Multiplicative inflation (1: none).
    huber : float, optional
        Huber threshold (innovation standard deviations); None: every observation at its ``R``.

    Returns
    -------
    numpy.ndarray
        ``[m, k]`` analysis ensemble; the forecast when no observation is usable.
    """
    x = np.asarray(x, dtype=np.float64)
    hx = np.asarray(hx, dtype=np.float64)
    k = x.shape[1]
    use = np.isfinite(d) & np.all(np.isfinite(hx), axis=1) & np.isfinite(r_var) & (r_var > 0)
    if not use.any() or k < 2:
        return x.copy()
    d, hx, r_var = np.asarray(d, dtype=np.float64)[use], hx[use], np.asarray(r_var, dtype=np.float64)[use]
    xm = x.mean(axis=1, keepdims=True)
    ym = hx.mean(axis=1)
    xb, db = x - xm, hx - ym[:, None]
    innov = d - ym
    if huber is not None and np.isfinite(huber):
        z = np.abs(innov) / np.sqrt(db.var(axis=1, ddof=1) + r_var)
        r_var = r_var * np.maximum(1.0, z / huber) ** 2
    # (S9)-(S10) through the eigen-decomposition of the small [p, p] matrix S S^T, S = R^-1/2 Db:
    # Db^T R^-1 Db = S^T S has the eigenvalues s^2 of S S^T on the span of V = S^T U / s, zero elsewhere
    sig = np.sqrt(r_var)
    s_mat = db / sig[:, None]
    s2, u = np.linalg.eigh(s_mat @ s_mat.T)
    keep = s2 > 1e-12 * max(float(s2.max()), 1e-300)
    s2, u = s2[keep], u[:, keep]
    v = (s_mat.T @ u) / np.sqrt(s2)  # [k, q] orthonormal
    c = (k - 1) / rho
    y_t = s_mat.T @ (innov / sig)  # Db^T R^-1 (d - db_mean)
    wa_mean = y_t / c + v @ ((1.0 / (c + s2) - 1.0 / c) * (v.T @ y_t))  # (S8) with Pa of (S9)
    xv = xb @ v
    # (S7), (S11) with Wa = (k-1)^(1/2) Pa^(1/2) of (S10)
    xa = xm + xb @ wa_mean[:, None] + np.sqrt(k - 1) * (
        xb / np.sqrt(c) + (xv * (1.0 / np.sqrt(c + s2) - 1.0 / np.sqrt(c))) @ v.T)
    return np.asarray(xa)
