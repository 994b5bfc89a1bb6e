"""MetroMan's flow law and priors: pure functions, arrays in, arrays out.

Flow law (Manning's equation with a depth-variable roughness)::

    Q = 1/n * A**(5/3) * W**(-2/3) * S**(1/2)
    A = A0 + dA'                    (dA' = d_x_area - min over the valid times)
    n = na * (A / W)**x1            (A / W = hydraulic depth h, m)

so that ``log Q = -log na + (5/3 - x1) log A + (x1 - 2/3) log W + 1/2 log S``.
``A0`` (m2) is the unobserved flow area at the lowest observed stage of the
reach, ``na`` the roughness at a hydraulic depth of 1 m and ``x1`` the
exponent of the roughness-depth power law (``x1 = 0`` is constant ``n``).

References
----------
Durand, M., Neal, J., Rodríguez, E., Andreadis, K. M., Smith, L. C., Yoon, Y. (2014).
Estimating reach-averaged discharge for the River Severn from measurements of river water
surface elevation and slope. J. Hydrology 511, 92-104. doi:10.1016/j.jhydrol.2013.12.050
(MetroMan).  The power-law roughness ``n = na (A/W)**x1`` is the MetroMan law of the SWOT
RiverSP product (``dschg_m``, parameters ninf = na, p = x1, Abar); see docs/science.md.

"""

from __future__ import annotations

import numpy as np


def manning_log_q(
    log_a0: np.ndarray,
    log_na: np.ndarray,
    x1: np.ndarray,
    dA: np.ndarray,
    log_w: np.ndarray,
    half_log_s_minus: np.ndarray,
) -> np.ndarray:
    """Natural log of Manning discharge with variable roughness, broadcast over reaches and times.

    Parameters
    ----------
    log_a0 : ndarray, shape (..., R, 1)
        log of A0 (m2), area at the lowest observed stage.
    log_na : ndarray, shape (..., R, 1)
        log of the roughness coefficient at 1 m hydraulic depth (s m^-1/3).
    x1 : ndarray, shape (..., R, 1)
        Exponent of the roughness-depth power law (dimensionless).
    dA : ndarray, shape (R, T)
        Area above the lowest observed stage (m2), >= 0 where valid.
    log_w : ndarray, shape (R, T)
        log of width (m).
    half_log_s_minus : ndarray, shape (R, T)
        ``0.5 * log(S) - 2/3 * log(W)`` (precomputed, S in m/m).

    Returns
    -------
    ndarray, shape (..., R, T)
        log Q (Q in m3/s).  See the module docstring for the flow law.
    """
    log_a = np.log(np.exp(log_a0) + dA)
    return np.asarray(-log_na + (5.0 / 3.0 - x1) * log_a + x1 * log_w + half_log_s_minus)


def manning_q(
    a0: np.ndarray | float,
    na: np.ndarray | float,
    x1: np.ndarray | float,
    dA: np.ndarray,
    width: np.ndarray,
    slope: np.ndarray,
) -> np.ndarray:
    """Manning discharge (m3/s) with roughness ``n = na * (A/W)**x1`` (the forward model).

    Parameters
    ----------
    a0 : float or ndarray
        Area at the lowest observed stage (m2).
    na : float or ndarray
        Roughness at 1 m hydraulic depth (s m^-1/3).
    x1 : float or ndarray
        Roughness-depth exponent (dimensionless).
    dA : ndarray
        Area above the lowest observed stage (m2).
    width : ndarray
        Water-surface width (m).
    slope : ndarray
        Water-surface slope (m/m), positive.

    Returns
    -------
    ndarray
        Discharge (m3/s); Durand et al. (2014), doi:10.1016/j.jhydrol.2013.12.050.
    """
    area = np.asarray(a0) + np.asarray(dA)
    n = np.asarray(na) * (area / width) ** np.asarray(x1)
    return np.asarray(area ** (5.0 / 3.0) * width ** (-2.0 / 3.0) * np.sqrt(slope) / n)


def a0_prior_median(
    mean_q: np.ndarray,
    dA: np.ndarray,
    width: np.ndarray,
    slope: np.ndarray,
    valid: np.ndarray,
    na: float,
    x1: float,
    n_bisect: int = 60,
) -> np.ndarray:
    """Prior median of A0 (m2): the A0 whose Manning flow, averaged over time, is the mean-flow prior.

    Solves ``mean_t Q(A0, na, x1; dA, W, S) = mean_q`` per reach by bisection on
    ``log A0`` (``Q`` rises with ``A0`` for ``x1 < 5/3``), with the prior roughness
    ``na`` and exponent ``x1``, so the priors of the flow-law parameters are
    centred on the SoS mean flow instead of pulling against it.  The root is
    bracketed by a mean hydraulic depth of 1 mm and of 1 km (``A0`` in
    ``[1e-3, 1e3] * mean W``); the lower end is returned when even a vanishing
    ``A0`` gives more than ``mean_q`` (only the area change is needed to carry it).

    Parameters
    ----------
    mean_q : ndarray, shape (R,)
        SoS mean flow (m3/s), finite and positive.
    dA : ndarray, shape (R, T)
        Area above the lowest observed stage (m2), >= 0.
    width, slope : ndarray, shape (R, T)
        Width (m) and slope (m/m), positive where ``valid``.
    valid : ndarray of bool, shape (R, T)
        Times used in the time mean.
    na : float
        Prior median roughness at 1 m hydraulic depth (s m^-1/3).
    x1 : float
        Prior mean roughness-depth exponent (dimensionless).
    n_bisect : int
        Bisection steps (60 halve the log bracket to ~1e-17).

    Returns
    -------
    ndarray, shape (R,)
        Prior median of A0 (m2).
    """
    w = np.where(valid, width, 1.0)
    s = np.where(valid, slope, 1.0)
    d = np.where(valid, dA, 0.0)
    mean_w = (w * valid).sum(axis=1) / valid.sum(axis=1)
    lo = np.log(1e-3 * mean_w)
    hi = np.log(1e3 * mean_w)
    target = np.asarray(mean_q, float)
    for _ in range(n_bisect):
        mid = 0.5 * (lo + hi)
        q = manning_q(np.exp(mid)[:, None], na, x1, d, w, s)
        too_much = (q * valid).sum(axis=1) / valid.sum(axis=1) > target
        hi = np.where(too_much, mid, hi)
        lo = np.where(too_much, lo, mid)
    return np.asarray(np.exp(0.5 * (lo + hi)))


def observation_log_sd(
    width: np.ndarray,
    slope: np.ndarray,
    width_u: np.ndarray | None,
    slope_u: np.ndarray | None,
    sigma_model: float,
) -> np.ndarray:
    """Relative (log-space) 1-sigma error of Manning Q from flow-law and measurement errors.

    First-order propagation through ``Q ~ W**(-2/3) S**(1/2)``:
    ``sd^2 = sigma_model^2 + (2/3 W_u/W)^2 + (1/2 S_u/S)^2``, where absent or
    non-finite uncertainties count as zero and each relative term is capped
    at 1 (a slope near zero must not dominate).

    Parameters
    ----------
    width, slope : ndarray, shape (R, T)
        Width (m) and slope (m/m).
    width_u, slope_u : ndarray or None, shape (R, T)
        Their 1-sigma uncertainties (m, m/m).
    sigma_model : float
        Flow-law (structural) error of log Q (dimensionless).

    Returns
    -------
    ndarray, shape (R, T)
        Standard deviation of log Q (dimensionless).
    """
    var = np.full(np.shape(width), sigma_model**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        for u, x, k in ((width_u, width, 2.0 / 3.0), (slope_u, slope, 0.5)):
            if u is not None:
                rel = k * np.asarray(u) / np.asarray(x)
                var += np.where(np.isfinite(rel), np.minimum(np.abs(rel), 1.0) ** 2, 0.0)
    return np.asarray(np.sqrt(var))
