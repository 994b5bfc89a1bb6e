"""MOMMA science: pure numpy functions, arrays in, arrays out.

The Modified Optimized Manning Method Algorithm (Bjerklie et al. 2018,
"Satellite remote sensing estimation of river discharge: Application to the
Yukon River Alaska", J. Hydrology 561:1000-1018, doi:10.1016/j.jhydrol.2018.04.005;
its SWOT use: Frasson et al. 2021, doi:10.1029/2020WR028519, and Durand et al.
2023, doi:10.1029/2021WR031614) computes discharge with Manning's equation
from the observed stage ``H``, top width ``W`` and slope ``S``::

    Q = (1 / n) * W * Y**(5/3) * S**(1/2)

where the mean depth ``Y`` comes from the stage above the elevation of zero
flow ``H0`` (EZF) for a channel of shape parameter ``r`` (``W ~ D**(1/r)``,
``r = 2`` a parabola, Dingman 2007, doi:10.1016/j.jhydrol.2006.09.021)::

    Y = r / (1 + r) * (H - H0)

and Manning's n grows as the flow gets shallower::

    n = nb * (1 + x / Y)

Steps (each a function below):

1. :func:`bankfull_breakpoint`: the bankfull stage is the breakpoint of the
   stage-width relation, where the width starts to grow much faster with
   stage (the water leaves the channel); without one, the highest observed
   stage stands in for it.
2. :func:`zero_flow_stage`: the EZF is where the in-channel stage-width
   relation of the shape-``r`` channel (``W**r`` linear in ``H``) reaches zero
   width.  When that extrapolation is implausible (width does not grow with
   stage, or the depth it implies differs by more than a factor
   :data:`EZF_DEPTH_FACTOR` from the empirical depth of the mean flow,
   :func:`empirical_depth`), the EZF is set from that empirical depth.
3. :func:`fit_n`: for each ``x`` of a grid, ``nb`` is solved in closed form so
   that the mean of the estimated discharge equals the mean-flow prior (SoS
   ``mean_q``); ``x`` is then the grid value whose discharge at bankfull best
   matches the bankfull-flow prior (SoS ``two_year_return_q``, the ~1.5-2 year
   flood being the usual bankfull flow, Leopold et al. 1964).  When the
   observations hold no bankfull breakpoint or there is no bankfull prior,
   ``x = 0`` (constant n matched to the mean flow).
4. Above bankfull only the main channel is taken to convey flow: width
   ``Wb`` and depth ``Yb + (H - Hb)``.

The two empirical hydraulic-geometry relations (Moody & Troutman 2002,
doi:10.1002/esp.403: ``W = 7.2 Q**0.50``, ``Y = 0.27 Q**0.39``, SI units) are
used only as a plausibility check and fallback for the EZF and as
diagnostics; nothing here is fitted to any test river.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Channel shape parameter r (2: parabolic); mean depth Y = r / (1 + r) * max depth.
SHAPE_R = 2.0
#: Grid of the n-depth parameter x (m).
X_GRID = np.round(np.arange(0.0, 5.0 + 1e-9, 0.05), 2)
#: The EZF extrapolation is accepted when its depth is within this factor of the empirical depth.
EZF_DEPTH_FACTOR = 4.0
#: A bankfull breakpoint needs the width to grow this many times faster above it than below.
BREAK_SLOPE_RATIO = 2.0
#: ... and the two-segment fit to remove at least this fraction of the straight line's residual.
BREAK_SSE_GAIN = 0.3
#: Fewest observations on each side of a breakpoint.
BREAK_MIN_SIDE = 3
#: Moody & Troutman (2002) hydraulic geometry: width and mean depth of discharge Q (SI).
HG_WIDTH = (7.2, 0.50)
HG_DEPTH = (0.27, 0.39)
#: Gravity (m/s2), for the Froude number.
G = 9.81


def depth_factor(r: float = SHAPE_R) -> float:
    """Mean depth over maximum depth of a channel of shape parameter ``r``: ``r / (1 + r)``."""
    return r / (1.0 + r)


def empirical_depth(q: float) -> float:
    """Mean depth (m) of discharge ``q`` (m3/s) by Moody & Troutman (2002): ``0.27 q**0.39``."""
    return HG_DEPTH[0] * q ** HG_DEPTH[1] if np.isfinite(q) and q > 0 else np.nan


def empirical_width(q: float) -> float:
    """Top width (m) of discharge ``q`` (m3/s) by Moody & Troutman (2002): ``7.2 q**0.5``."""
    return HG_WIDTH[0] * q ** HG_WIDTH[1] if np.isfinite(q) and q > 0 else np.nan


def bankfull_breakpoint(h: np.ndarray, w: np.ndarray) -> tuple[float, float, bool]:
    """Bankfull stage as the breakpoint of the stage-width relation.

    Fits ``W = a + b1 H + b2 max(H - c, 0)`` for every observed stage ``c``
    that leaves :data:`BREAK_MIN_SIDE` points on each side (batched least
    squares) and keeps the best ``c``.  It is a bankfull breakpoint when the
    upper slope ``b1 + b2`` is at least :data:`BREAK_SLOPE_RATIO` times the
    lower slope (and positive) and the fit removes at least
    :data:`BREAK_SSE_GAIN` of a straight line's squared residual.

    Parameters
    ----------
    h, w : numpy.ndarray
        Finite stages (m) and widths (m) of the valid times.

    Returns
    -------
    (stage, width, found) : (float, float, bool)
        Bankfull stage (m) and width (m).  Without a breakpoint: the highest
        observed stage and its width, ``found`` False.
    """
    top = int(np.argmax(h))
    fallback = (float(h[top]), float(w[top]), False)
    h_ref = float(np.mean(h))
    hc = h - h_ref  # centred stages keep the normal equations well conditioned
    hs = np.unique(hc)
    cands = hs[BREAK_MIN_SIDE - 1 : hs.size - BREAK_MIN_SIDE]
    if cands.size == 0 or np.ptp(hc) <= 0:
        return fallback
    ones = np.ones_like(hc)
    coef0, *_ = np.linalg.lstsq(np.column_stack([ones, hc]), w, rcond=None)
    sse0 = float(np.sum((w - coef0[0] - coef0[1] * hc) ** 2))
    X = np.stack([np.broadcast_to(ones, (cands.size, hc.size)),
                  np.broadcast_to(hc, (cands.size, hc.size)),
                  np.maximum(hc[None, :] - cands[:, None], 0.0)], axis=2)  # [nc, n, 3]
    XtX = np.einsum("cni,cnj->cij", X, X)
    Xty = np.einsum("cni,n->ci", X, w)
    try:
        coef = np.linalg.solve(XtX, Xty[..., None])[..., 0]
    except np.linalg.LinAlgError:
        return fallback
    sse = np.sum((w[None, :] - np.einsum("cni,ci->cn", X, coef)) ** 2, axis=1)
    best = int(np.nanargmin(sse))
    c, (a, b1, b2) = float(cands[best]), coef[best]
    upper = b1 + b2
    if upper > 0 and upper >= BREAK_SLOPE_RATIO * max(b1, 0.0) and sse[best] <= (1 - BREAK_SSE_GAIN) * sse0:
        return c + h_ref, float(a + b1 * c), True
    return fallback


def zero_flow_stage(h: np.ndarray, w: np.ndarray, mean_q: float, r: float = SHAPE_R) -> tuple[float, bool]:
    """Elevation of zero flow (EZF, m): the stage-width relation extrapolated to zero width.

    For a channel whose width grows as depth to the power ``1/r``,
    ``W**r = k (H - H0)`` is linear in ``H``; the least-squares line's
    intercept with ``W = 0`` is ``H0``.  It is accepted when the slope ``k`` is
    positive, ``H0`` is below the lowest stage and the maximum depth it gives
    at the median stage is within :data:`EZF_DEPTH_FACTOR` of the empirical
    maximum depth of the mean flow (``empirical_depth(mean_q) / depth_factor(r)``).
    Otherwise ``H0 = median(H) - empirical maximum depth``.

    Parameters
    ----------
    h, w : numpy.ndarray
        In-channel (at or below bankfull) stages and widths (m).
    mean_q : float
        Mean-flow prior (m3/s).
    r : float
        Channel shape parameter.

    Returns
    -------
    (h0, extrapolated) : (float, bool)
        EZF (m) and whether it came from the extrapolation (False: the fallback).
    """
    d_emp = empirical_depth(mean_q) / depth_factor(r)
    h_med = float(np.median(h))
    if h.size >= 3 and np.ptp(h) > 0:
        k, c = np.polyfit(h, w**r, 1)
        if k > 0:
            h0 = -c / k
            depth = h_med - h0
            plausible = not np.isfinite(d_emp) or d_emp / EZF_DEPTH_FACTOR <= depth <= d_emp * EZF_DEPTH_FACTOR
            if h0 < h.min() and plausible:
                return float(h0), True
    return float(h_med - d_emp), False


@dataclass
class Geometry:
    """Per-time effective width (m), mean depth (m) and segment (1 in channel, 2 above bankfull)."""

    width: np.ndarray
    depth: np.ndarray
    seg: np.ndarray


def geometry(h: np.ndarray, w: np.ndarray, h0: float, hb: float, wb: float, overbank: bool,
             r: float = SHAPE_R) -> Geometry:
    """Effective width and mean depth of each time.

    In the channel ``Y = r/(1+r) (H - H0)`` with the observed width.  Above a
    detected bankfull stage (``overbank``) the main channel alone conveys
    flow: width ``wb`` and depth ``Yb + (H - hb)``.  Depths at or below zero are NaN.
    """
    b = depth_factor(r)
    depth = b * (h - h0)
    width = np.asarray(w, dtype=np.float64).copy()
    seg = np.where(np.isfinite(h), 1.0, np.nan)
    if overbank:
        above = h > hb
        depth = np.where(above, b * (hb - h0) + (h - hb), depth)
        width = np.where(above, wb, width)
        seg = np.where(above, 2.0, seg)
    depth = np.where(depth > 0, depth, np.nan)
    return Geometry(width, depth, seg)


def manning_q(width: np.ndarray | float, depth: np.ndarray | float, slope: np.ndarray | float,
              n: np.ndarray | float) -> np.ndarray:
    """Manning discharge (m3/s) of a wide channel: ``W Y**(5/3) S**(1/2) / n`` (NaN where S <= 0)."""
    s = np.where(slope > 0, slope, np.nan)
    return width * depth ** (5.0 / 3.0) * np.sqrt(s) / n


def variable_n(nb: float | np.ndarray, x: float | np.ndarray, depth: np.ndarray | float) -> np.ndarray:
    """Depth-variable Manning's n: ``nb (1 + x / Y)`` (Y in m, x in m)."""
    return np.asarray(nb * (1.0 + x / depth))


@dataclass
class NFit:
    """Result of :func:`fit_n`: nb, x and the bankfull discharge they give."""

    nb: float
    x: float
    q_bankfull: float
    matched_bankfull: bool


def fit_n(width: np.ndarray, depth: np.ndarray, slope: np.ndarray, mean_q: float,
          yb: float, wb: float, s_mean: float, qb: float, use_bankfull: bool) -> NFit:
    """Grid search of ``x`` with ``nb`` matched to the mean-flow prior.

    For each ``x`` in :data:`X_GRID`, ``nb`` makes the mean estimated discharge
    over the valid times equal ``mean_q``:
    ``nb = mean(W Y**(5/3) S**(1/2) / (1 + x/Y)) / mean_q``.  With
    ``use_bankfull`` and a finite ``qb``, ``x`` minimises
    ``|log(Q(Yb) / qb)|`` where ``Q(Yb)`` is the discharge at the bankfull
    depth ``yb`` (m), width ``wb`` (m) and mean slope ``s_mean``; else ``x = 0``.

    Parameters
    ----------
    width, depth, slope : numpy.ndarray
        Effective widths (m), mean depths (m) and slopes (m/m) of the times to use.
    mean_q, qb : float
        Mean-flow and bankfull-flow priors (m3/s).
    """
    grid = X_GRID if use_bankfull and np.isfinite(qb) and qb > 0 else np.zeros(1)
    base = manning_q(width, depth, slope, 1.0)  # discharge with n = 1
    ok = np.isfinite(base)
    conv = base[ok][None, :] / (1.0 + grid[:, None] / depth[ok][None, :])  # [nx, nt]
    nb = conv.mean(axis=1) / mean_q
    qbf = manning_q(np.float64(wb), np.float64(yb), np.float64(s_mean), variable_n(nb, grid, np.float64(yb)))
    k = int(np.nanargmin(np.abs(np.log(qbf / qb)))) if grid.size > 1 else 0
    return NFit(float(nb[k]), float(grid[k]), float(qbf[k]), grid.size > 1)


@dataclass
class MommaFit:
    """Everything MOMMA estimates for one reach (SI units; NaN where not computed)."""

    q: np.ndarray
    n: np.ndarray
    depth: np.ndarray
    velocity: np.ndarray
    seg: np.ndarray
    nb: float
    x: float
    zero_flow_stage: float
    ezf_extrapolated: bool
    bankfull_stage: float
    bankfull_found: bool
    bankfull_width: float
    bankfull_depth: float
    qb_prior: float
    yb_prior: float
    nb_qb_prior: float
    diag: dict[str, float] = field(default_factory=dict)


def momma(h: np.ndarray, w: np.ndarray, s: np.ndarray, mean_q: float, qb: float = np.nan,
          r: float = SHAPE_R) -> MommaFit:
    """Estimate discharge of one reach with MOMMA.

    Parameters
    ----------
    h : numpy.ndarray
        Water-surface elevation (stage) ``[nt]`` (m), NaN where unobserved.
    w : numpy.ndarray
        Top width ``[nt]`` (m).
    s : numpy.ndarray
        Water-surface slope ``[nt]`` (m/m); times with ``S <= 0`` get NaN discharge.
    mean_q : float
        Mean-flow prior (m3/s), e.g. SoS ``model/mean_q``; must be finite and > 0.
    qb : float, optional
        Bankfull-flow prior (m3/s), e.g. SoS ``model/two_year_return_q``.
    r : float
        Channel shape parameter (2: parabolic).

    Returns
    -------
    MommaFit
        Discharge ``q`` ``[nt]`` (m3/s) with n, mean depth ``Y`` (m), velocity
        (m/s) and segment per time, the fitted parameters and diagnostics.

    Raises
    ------
    ValueError
        When ``mean_q`` is not a positive number or fewer than 3 times have
        finite stage and width and a positive slope.
    """
    if not (np.isfinite(mean_q) and mean_q > 0):
        raise ValueError("no positive mean-flow prior (mean_q)")
    h, w, s = (np.asarray(a, dtype=np.float64) for a in (h, w, s))
    ok = np.isfinite(h) & np.isfinite(w) & np.isfinite(s) & (s > 0) & (w > 0)
    if np.count_nonzero(ok) < 3:
        raise ValueError(f"{np.count_nonzero(ok)} times with stage, width and a positive slope, MOMMA needs 3")
    hb, wb, found = bankfull_breakpoint(h[ok], w[ok])
    inch = h[ok] <= hb
    h0, extrapolated = zero_flow_stage(h[ok][inch], w[ok][inch], mean_q, r)
    hh = np.where(ok, h, np.nan)
    geo = geometry(hh, np.where(ok, w, np.nan), h0, hb, wb, found, r)
    yb = depth_factor(r) * (hb - h0)
    s_mean = float(np.mean(s[ok]))
    fit = fit_n(geo.width[ok], geo.depth[ok], s[ok], mean_q, yb, wb, s_mean, qb, found)
    n = variable_n(fit.nb, fit.x, geo.depth)
    q = manning_q(geo.width, geo.depth, np.where(ok, s, np.nan), n)
    area = geo.width * geo.depth
    vel = q / area
    qb_ok = np.isfinite(qb) and qb > 0
    yb_prior = empirical_depth(qb) if qb_ok else np.nan
    nb_qb = float(wb * yb ** (5 / 3) * np.sqrt(s_mean) / qb) if qb_ok else np.nan
    vel_bf = fit.q_bankfull / (wb * yb) if yb > 0 else np.nan
    diag = {
        "vel_bkfl_Qb_prior": qb / (wb * yb) if qb_ok and yb > 0 else np.nan,
        "Froude_bkfl_diag_Smean": vel_bf / np.sqrt(G * yb) if yb > 0 else np.nan,
        "width_bkfl_empirical": empirical_width(qb) if qb_ok else np.nan,
        "depth_bkfl_diag_Wb_Smean": float((qb * fit.nb / (wb * np.sqrt(s_mean))) ** 0.6) if qb_ok else np.nan,
    }
    return MommaFit(
        q=q, n=n, depth=geo.depth, velocity=vel, seg=geo.seg, nb=fit.nb, x=fit.x,
        zero_flow_stage=h0, ezf_extrapolated=extrapolated, bankfull_stage=hb, bankfull_found=found,
        bankfull_width=wb, bankfull_depth=yb, qb_prior=qb if qb_ok else np.nan, yb_prior=yb_prior,
        nb_qb_prior=nb_qb, diag=diag,
    )
