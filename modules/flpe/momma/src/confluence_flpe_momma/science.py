"""MOMMA science: pure numpy functions, arrays in, arrays out.

The Modified Optimized Manning Method Algorithm (Bjerklie et al. 2018,
doi:10.1016/j.jhydrol.2018.04.005; its bankfull relations from Bjerklie 2007;
its SWOT use in Frasson et al. 2021, doi:10.1029/2020WR028519), as the
Confluence MOMMA v3.3 (R code by Dudley and Bjerklie) computes it.  The
citation table and every deliberate departure are in ``docs/science.md``
(section MOMMA); equation numbers below are this module's, M1-M9.

For each observation of stage ``H`` (m), top width ``W`` (m) and slope ``S``
(m/m), with ``b = r / (1 + r)`` (r = 2, a parabolic channel)::

    (M1) Y = b (H - H0)                                   mean depth (m)
    (M2) n = nb ((Hmax - H0) / (H - H0))**x, in [0.01, 0.20]   roughness
    (M3) Q = W Y**(5/3) S**(1/2) / n                      Manning (m3/s)

with ``H0`` the zero-flow stage, ``Hmax`` the highest observed stage, ``nb``
the roughness at ``Hmax`` and ``x`` its exponent.  The law itself is
:class:`confluence_flpe.flowlaws.Momma` (one place for every step that
evaluates it).  The steps:

1. Screening (:func:`screen`): times with stage, width and a positive slope
   and width; fewer than :data:`MIN_OBS` (3) or a stage-width series that
   correlates negatively (Pearson r < 0) cannot be run.
2. Bankfull stage (:func:`bankfull_breakpoint`): with a stage range above
   1.5 m and at least 7 observations, the stage where width over
   ``H - min(H) + 1`` is least on the stage-width curve resampled at 100
   stages; kept when each side has at least 3 observations over 0.75 m of
   stage; else the highest observed stage.  ``Wb`` is the width there.
3. Zero-flow stage (:func:`zero_flow_stage`)::

       (M4) Yb95 = 0.10 Wb**0.43 S_mean**-0.28          (Bjerklie 2007, upper 95 % bankfull depth)
       (M5) H0 >= Hb - Yb95 / b                         (no deeper than that)
       (M6) H0 <= min(H) - 1 m                          (at least 1 m below the lowest stage)

   between these limits, ``H0`` is the stage of zero width of the in-channel
   stage-width relation of the parabolic channel, ``H`` linear in ``W**2``.
4. Bankfull roughness (:func:`bankfull_roughness`)::

       (M7) nb_slope = 0.094 S_mean**(1/6)              (Bray & Davar 1987)
       (M8) nb_prior = Yb**(2/3) S_mean**(1/2) Wb Yb / Qb, Yb = b (Hb - H0)
       (M9) nb0 = (nb_prior + nb_slope) / 2 (nb_slope without a bankfull-flow prior), in [0.01, 0.20]

5. Calibration (:func:`calibrate`): ``nb`` and ``x`` (x in [-1, 2]) such
   that the mean of (M3) over the observations equals the mean-flow prior;
   of the pairs that do, the one nearest MOMMA's starting pair (``nb0``,
   ``x = 1``), distances scaled by how well each is known
   (:data:`NB_LOG_SD`, :data:`X_SD`).  When no
   ``nb`` in [0.01, 0.20] can match the mean, the zero-flow stage moves as
   MOMMA v3.3 moves it (to the M5 limit when the flow is too small for the
   smallest roughness, half-way up to the lowest stage when too large for the
   largest) and the calibration is redone once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from confluence_flpe.flowlaws import MOMMA_N_BOUNDS, MOMMA_SHAPE_R, FlowObs
from confluence_flpe.flowlaws import Momma as MommaLaw

#: Fewest usable observations (MOMMA v3.3 ``min_nobs``).
MIN_OBS = 3
#: The bankfull breakpoint is searched with more than this stage range (m) ...
BREAK_MIN_RANGE = 1.5
#: ... and at least this many observations (``n.min``) ...
BREAK_MIN_OBS = 7
#: ... and kept when each side has this many observations (``n.min.seg``) over this stage range (m).
SEG_MIN_OBS, SEG_MIN_RANGE = 3, 0.75
#: Stages of the resampled stage-width curve of the breakpoint search.
BREAK_RESAMPLE = 100
#: Bjerklie (2007) upper-95 % bankfull depth, ``Yb95 = c Wb**p S**q`` (m).
BJERKLIE_YB95 = (0.10, 0.43, -0.28)
#: The zero-flow stage is at least this far below the lowest observed stage (m).
EZF_BELOW_MIN = 1.0
#: Bray & Davar (1987) roughness of a slope, ``n = c S**(1/6)``.
BRAY_DAVAR = 0.094
#: Roughness exponents searched in the calibration (MOMMA v3.3: -1 to 2 by 0.01).
X_GRID = np.round(np.arange(-1.0, 2.0 + 1e-9, 0.01), 2)
#: The calibration's two starting values (MOMMA v3.3's incumbent: nb0 of M9 and ``x.default``) and how
#: far each may move: nb0 is a roughness estimate good to about a factor of two (log sd ln 2); x a
#: quarter of its range [-1, 2].  Stated a priori, not fitted.
X_DEFAULT = 1.0
NB_LOG_SD = float(np.log(2.0))
X_SD = 0.75
#: Bjerklie (2007) bankfull Froude number and depth of the diagnostics: ``2.85 S**0.31``, ``0.08 Wb**0.34 S**-0.24``.
FROUDE_BANKFULL = (2.85, 0.31)
DEPTH_BANKFULL_DIAG = (0.08, 0.34, -0.24)
#: Gravity (m s-2).
G = 9.81

LAW = MommaLaw()


def depth_factor(r: float = MOMMA_SHAPE_R) -> float:
    """Mean over maximum depth of a channel of shape ``r``: ``b = r / (1 + r)`` (2/3 for a parabola)."""
    return r / (1.0 + r)


@dataclass
class Screen:
    """The usable observations of a reach, or why there are too few."""

    ok: np.ndarray  # bool [nt]
    corr: float  # Pearson r of stage and width (NaN when either is constant)
    reason: str = ""


def screen(h: np.ndarray, w: np.ndarray, s: np.ndarray) -> Screen:
    """Step 1: usable times and the stage-width correlation (MOMMA v3.3 screening).

    Parameters
    ----------
    h, w, s : numpy.ndarray
        Stage (m), width (m) and slope (m/m) ``[nt]``, NaN where unobserved.

    Returns
    -------
    Screen
        ``reason`` is non-empty when MOMMA cannot run: fewer than :data:`MIN_OBS` usable times, or
        stage and width negatively correlated (the stage-width relation of a channel is increasing).
    """
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(h) & np.isfinite(w) & np.isfinite(s) & (s > 0) & (w > 0)
    n = int(ok.sum())
    corr = float("nan")
    if n >= 2 and np.ptp(h[ok]) > 0 and np.ptp(w[ok]) > 0:
        corr = float(np.corrcoef(h[ok], w[ok])[0, 1])
    if n < MIN_OBS:
        return Screen(ok, corr, f"{n} observations with stage, width and a positive slope, MOMMA needs {MIN_OBS}")
    if corr < 0:
        return Screen(ok, corr, f"stage and width are negatively correlated (r = {corr:.2f})")
    return Screen(ok, corr)


def bankfull_breakpoint(h: np.ndarray, w: np.ndarray) -> tuple[float, float, bool]:
    """Step 2: bankfull stage (m), its width (m) and whether a breakpoint was found.

    The stage-width pairs sorted by stage are resampled at :data:`BREAK_RESAMPLE` stages; the
    breakpoint is the stage of least ``W / (H - min(H) + 1)`` (MOMMA's ``wd.ratio`` method: the
    width over depth falls while the flow stays in the channel and rises once it spreads over the
    floodplain).  It needs a stage range above :data:`BREAK_MIN_RANGE` and :data:`BREAK_MIN_OBS`
    observations, and is kept when each side holds :data:`SEG_MIN_OBS` observations over
    :data:`SEG_MIN_RANGE` of stage.  Otherwise the highest stage is bankfull.

    Parameters
    ----------
    h, w : numpy.ndarray
        Usable stages and widths (m).
    """
    order = np.argsort(h, kind="stable")
    hs, ws = h[order], w[order]
    top = (float(hs[-1]), float(ws[-1]), False)
    if np.ptp(hs) <= BREAK_MIN_RANGE or hs.size < BREAK_MIN_OBS:
        return top
    grid = np.linspace(hs[0], hs[-1], BREAK_RESAMPLE)
    wg = np.interp(grid, hs, ws)
    hb = float(grid[int(np.argmin(wg / (grid - hs[0] + 1.0)))])
    below, above = hs[hs <= hb], hs[hs > hb]
    if min(below.size, above.size) < SEG_MIN_OBS or min(np.ptp(below), np.ptp(above)) < SEG_MIN_RANGE:
        return top
    return hb, float(np.interp(hb, hs, ws)), True


def bankfull_depth_95(wb: float, s_mean: float) -> float:
    """(M4) Bjerklie (2007) upper-95 % bankfull depth ``0.10 Wb**0.43 S**-0.28`` (m)."""
    c, p, q = BJERKLIE_YB95
    return float(c * wb**p * s_mean**q)


def zero_flow_stage(h: np.ndarray, w: np.ndarray, hb: float, wb: float, s_mean: float, found: bool,
                    r: float = MOMMA_SHAPE_R) -> tuple[float, float]:
    """Step 3: the zero-flow stage ``H0`` (m) and its lowest allowed value (m), (M4)-(M6).

    ``H0`` is the intercept at zero width of ``H`` regressed on ``W**2`` (a parabolic channel's
    stage-width relation) on the in-channel observations: those below the bankfull breakpoint when
    there is one, else those at or below the median stage when more than 9, else all; then held
    between the (M5) limit ``Hb - Yb95 / b`` and (M6) ``min(H) - 1``.  With constant width there is
    no stage-width relation and ``H0`` is the (M5) limit.

    Parameters
    ----------
    h, w : numpy.ndarray
        Usable stages and widths (m).
    hb, wb : float
        Bankfull stage and width (m).
    s_mean : float
        Mean slope (m/m).
    found : bool
        Whether ``hb`` is a breakpoint (two segments) or the highest stage.
    """
    floor = hb - bankfull_depth_95(wb, s_mean) / depth_factor(r)
    if np.ptp(w) > 0:
        if found:
            use = h <= hb
        elif h.size > 9:
            use = h <= np.median(h)
        else:
            use = np.ones(h.size, dtype=bool)
        hu, wu = h[use], w[use]
        if hu.size >= 2 and np.ptp(wu) > 0:
            slope_, intercept = np.polyfit(wu**2, hu, 1)
            h0 = max(float(intercept), floor) if slope_ > 0 else floor
        else:
            h0 = floor
    else:
        h0 = floor
    return min(h0, float(h.min()) - EZF_BELOW_MIN), floor


def bankfull_roughness(wb: float, yb: float, s_mean: float, qb: float) -> tuple[float, float, float]:
    """Step 4: ``(nb0, nb_slope, nb_prior)``, (M7)-(M9); ``nb_prior`` NaN without a bankfull flow."""
    nb_slope = BRAY_DAVAR * s_mean ** (1.0 / 6.0)
    nb_prior = float("nan")
    if np.isfinite(qb) and qb > 0 and yb > 0:
        nb_prior = yb ** (2.0 / 3.0) * np.sqrt(s_mean) * wb * yb / qb
    nb0 = 0.5 * (nb_prior + nb_slope) if np.isfinite(nb_prior) else nb_slope
    return float(np.clip(nb0, *MOMMA_N_BOUNDS)), float(nb_slope), float(nb_prior)


@dataclass
class Calibration:
    """nb and x matched to the mean flow (NaN nb when no roughness in the bounds can match it)."""

    nb: float
    x: float
    matched: bool


def calibrate(obs: FlowObs, h0: float, hmax: float, mean_q: float, nb0: float) -> Calibration:
    """Step 5: the (nb, x) that match the mean-flow prior, nearest the starting pair (``nb0``, 1).

    For every ``x`` of :data:`X_GRID`, the ``nb`` whose law (M1)-(M3) averages to ``mean_q``
    (:func:`nb_for_mean`, all x at once); of those in the roughness bounds, the
    pair with the least ``(log(nb / nb0) / NB_LOG_SD)**2 + ((x - 1) / X_SD)**2``.  When none is in
    the bounds: the pair whose ``nb`` is nearest a bound, with ``nb`` set to that bound
    (``matched`` False).
    """
    lo, hi = MOMMA_N_BOUNDS
    nb_grid, reached = nb_for_mean(obs, h0, hmax, mean_q, X_GRID)
    feasible = reached & (nb_grid >= lo) & (nb_grid <= hi)
    if feasible.any():
        cost = (np.log(nb_grid / nb0) / NB_LOG_SD) ** 2 + ((X_GRID - X_DEFAULT) / X_SD) ** 2
        k = int(np.argmin(np.where(feasible, cost, np.inf)))
        return Calibration(float(nb_grid[k]), float(X_GRID[k]), True)
    # the mean is out of reach for every x: the pair whose nb would be least beyond a bound
    finite = np.isfinite(nb_grid)
    if finite.any():
        bound = np.where(nb_grid < lo, lo, hi)
        k = int(np.argmin(np.where(finite, np.abs(np.log(nb_grid / bound)), np.inf)))
        return Calibration(float(bound[k]), float(X_GRID[k]), False)
    return Calibration(float("nan"), float("nan"), False)


def nb_for_mean(obs: FlowObs, h0: float, hmax: float, mean_q: float, xs: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """For each x of ``xs``, the nb whose law (M1)-(M3) averages to ``mean_q``, and whether it can.

    The mean flow falls as nb grows (n is bounded, so only until every n is at its upper bound):
    bisection on ``log nb`` for every x at once, between the nb that puts every n at the lower
    bound and the one that puts every n at the upper bound.  Where ``mean_q`` lies beyond what the
    bounded roughness can give, ``reached`` is False and nb is the unbounded closed form (the
    law without bounds, ``mean(W Y^(5/3) S^(1/2) / g) / mean_q``) that says how far beyond.
    """
    lo_n, hi_n = MOMMA_N_BOUNDS
    depth = np.asarray(obs.wse, dtype=np.float64) - h0
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = obs.width * (depth_factor() * depth) ** (5 / 3) * np.sqrt(obs.slope)  # flow with n = 1
        ratio = (hmax - h0) / depth
    use = np.isfinite(unit) & np.isfinite(ratio) & (depth > 0)
    xs = np.asarray(xs, dtype=np.float64)
    if not use.any():
        return np.full(xs.shape, np.nan), np.zeros(xs.shape, dtype=bool)
    unit, g = unit[use], ratio[use][None, :] ** xs[:, None]  # n = nb g at every time, for every x
    closed = np.mean(unit[None, :] / g, axis=1) / mean_q

    def mean_of(log_nb: np.ndarray) -> np.ndarray:
        n = np.clip(np.exp(log_nb)[:, None] * g, lo_n, hi_n)
        return np.asarray(np.mean(unit[None, :] / n, axis=1))

    lo = np.log(lo_n / g.max(axis=1))  # every n at the lower bound: the largest mean
    hi = np.log(hi_n / g.min(axis=1))  # every n at the upper bound: the smallest mean
    reached = (mean_of(lo) >= mean_q) & (mean_of(hi) <= mean_q)
    for _ in range(60):  # halves a bracket of at most ~10 in log nb to ~1e-17
        mid = 0.5 * (lo + hi)
        too_much = mean_of(mid) > mean_q
        lo, hi = np.where(too_much, mid, lo), np.where(too_much, hi, mid)
    return np.where(reached, np.exp(0.5 * (lo + hi)), closed), reached


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
    zero_flow_floor: float
    bankfull_stage: float
    bankfull_found: bool
    bankfull_width: float
    bankfull_depth: float
    stage_max: float
    nb0: float
    nb_slope: float
    nb_prior: float
    mean_matched: bool
    width_stage_corr: float
    s_mean: float
    diag: dict[str, float] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, float]:
        """The flow-law parameters (:class:`confluence_flpe.flowlaws.Momma`)."""
        return {"B": self.zero_flow_stage, "H": self.stage_max, "nb": self.nb, "x": self.x}


def momma(h: np.ndarray, w: np.ndarray, s: np.ndarray, mean_q: float, qb: float = np.nan,
          r: float = MOMMA_SHAPE_R) -> MommaFit:
    """Estimate discharge of one reach with MOMMA (steps 1-5 of the module docstring).

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
        Discharge ``q`` ``[nt]`` (m3/s) with n, mean depth ``Y`` (m), velocity (m/s) and segment
        per time, the fitted parameters and diagnostics.

    Raises
    ------
    ValueError
        Saying why when MOMMA cannot run: no positive mean-flow prior, too few observations, or a
        stage-width series that correlates negatively.
    """
    if not (np.isfinite(mean_q) and mean_q > 0):
        raise ValueError("no positive mean-flow prior (mean_q)")
    h, w, s = (np.asarray(a, dtype=np.float64) for a in (h, w, s))
    scr = screen(h, w, s)
    if scr.reason:
        raise ValueError(scr.reason)
    ok = scr.ok
    hk, wk = h[ok], w[ok]
    s_mean = float(np.mean(s[ok]))
    hb, wb, found = bankfull_breakpoint(hk, wk)
    h0, floor = zero_flow_stage(hk, wk, hb, wb, s_mean, found, r)
    hmax = float(hk.max())
    obs = FlowObs(width=np.where(ok, w, np.nan), wse=np.where(ok, h, np.nan), slope=np.where(ok, s, np.nan),
                  d_x_area=np.zeros(h.size))
    b = depth_factor(r)
    nb0, nb_slope, nb_prior = bankfull_roughness(wb, b * (hb - h0), s_mean, qb)
    cal = calibrate(obs, h0, hmax, mean_q, nb0)
    if not cal.matched and np.isfinite(cal.nb):  # MOMMA v3.3: move the thalweg, calibrate again
        lo, hi = MOMMA_N_BOUNDS
        moved = floor if cal.nb == lo and h0 > floor else (0.5 * (h0 + float(hk.min())) if cal.nb == hi else h0)
        moved = min(moved, float(hk.min()) - EZF_BELOW_MIN) if cal.nb == lo else moved
        if moved != h0:
            h0 = moved
            nb0, nb_slope, nb_prior = bankfull_roughness(wb, b * (hb - h0), s_mean, qb)
            cal = calibrate(obs, h0, hmax, mean_q, nb0)
    p = {"B": h0, "H": hmax, "nb": cal.nb, "x": cal.x}
    q = LAW.q(p, obs)
    n = LAW.roughness(p, obs.wse)
    depth = b * (obs.wse - h0)
    depth = np.where(depth > 0, depth, np.nan)
    yb = b * (hb - h0)
    qb_ok = bool(np.isfinite(qb) and qb > 0)
    fr_c, fr_p = FROUDE_BANKFULL
    dd_c, dd_p, dd_q = DEPTH_BANKFULL_DIAG
    diag = {
        "vel_bkfl_Qb_prior": qb / (wb * yb) if qb_ok and yb > 0 else np.nan,
        "Froude_bkfl_diag_Smean": fr_c * s_mean**fr_p,
        "depth_bkfl_diag_Wb_Smean": dd_c * wb**dd_p * s_mean**dd_q,
    }
    return MommaFit(
        q=q, n=n, depth=depth, velocity=q / (obs.width * depth), seg=np.where(ok, np.where(h > hb, 2.0, 1.0), np.nan),
        nb=cal.nb, x=cal.x, zero_flow_stage=h0, zero_flow_floor=floor, bankfull_stage=hb, bankfull_found=found,
        bankfull_width=wb, bankfull_depth=yb, stage_max=hmax, nb0=nb0, nb_slope=nb_slope, nb_prior=nb_prior,
        mean_matched=cal.matched, width_stage_corr=scr.corr, s_mean=s_mean, diag=diag,
    )
