"""The consensus rule: screen, reject, weigh and combine the FLPE series in log space (pure numpy).

Steps, per reach (constants below; none was fitted to any river):

1. **Screen** (:func:`screen`): zero or negative discharge becomes missing; a series
   is dropped when its length differs from the reach's ``nt`` or it has no
   valid value (contracts.md section 9).
2. **Prior echo** (:func:`echo`): a series is an echo of the algorithm's
   mean-flow prior, not a measurement, when

   a. it is *flat*: its robust log-space spread (1.4826 MAD of ``ln q``) is at
      most :data:`FLAT_SD` (1 %), or its single value equals the prior mean
      to 1 %; or
   b. it varies far less than two independent witnesses say discharge
      varied: its spread is below :data:`ECHO_FRACTION` of the spread of
      ``ln W`` (width; the SWOT width noise ``width_u`` removed in
      quadrature) *and* below :data:`ECHO_FRACTION` of the median spread of
      the non-flat series of the reach.  The first witness is at-a-station
      hydraulic geometry: ``W = a Q^b``, depth ``d = c Q^f`` and velocity
      ``v = k Q^m`` with ``b + f + m = 1`` and all three exponents positive
      (Leopold & Maddock 1953, USGS Prof. Paper 252, doi:10.3133/pp252), so
      ``sd(ln Q) = sd(ln W) / b >= sd(ln W)``: in a channel discharge varies
      more than width in log space.  Width is used because this bound needs
      no unobserved quantity (a bound from WSE or ``d_x_area`` would need the
      unobserved depth or baseflow area).  The bound fails where a reach
      floods its banks (the width then jumps for a small change of flow,
      local ``b > 1``), and widths can be noisy; hence the second witness:
      the algorithms themselves, which each turn the observations into
      discharge through a flow law.  A prior echo varies less than both; a
      series that merely disagrees with the width on an overbank reach does
      not.  The factor 1/2 asks for a clear shortfall, not a small one.

   The test is relative to the observations: a river whose width hardly
   changes (a regulated or lake-fed river) lets a low-variability series
   through, which the old rule of contracts.md section 9 (coefficient of
   variation <= 0.3 dropped) did not.  Without observations only flat series
   are echoes.
3. **Rejection of a far algorithm** (:func:`far_mask`): with three or more
   series, Hampel's identifier on log discharge (Leys et al. 2013,
   doi:10.1016/j.jesp.2013.03.013; the median absolute deviation scaled by
   1.4826 to a normal sd): first on each algorithm's reach offset (the
   median over times of ``ln q - `` the per-time median of all series),
   then on each time's values.  A value is rejected when it departs from the
   median by more than :data:`HAMPEL_K` (3, "very conservative") scaled MADs
   *and* by more than a factor of 2 (:data:`MIN_DEPARTURE`): FLPE reach-mean
   errors of a few tens of percent are common (Durand et al. 2016,
   doi:10.1002/2015WR018434), so a disagreement within a factor 2 is not
   evidence of a wrong algorithm, and several algorithms echoing one prior
   (MAD near 0) cannot reject a real measurement.  With one or two series
   nothing is rejected: there is no majority.
4. **Combination**: per time, the inverse-variance weighted mean of ``ln q``
   (a weighted geometric mean).  The variance of algorithm ``i`` is
   ``STRUCTURAL_SD**2 + u_i**2`` where ``u_i = ln(1 + q_u / q)`` is its stated
   1-sigma uncertainty in log space, and :data:`STRUCTURAL_SD` = 0.4 is the
   reach-mean error common to SWOT flow laws (Durand et al. 2016; the MOI's
   ``flpe_sd``), which stated uncertainties (measurement and posterior
   spread) leave out; it also bounds the weight of an over-confident
   algorithm.  An algorithm that states no uncertainty gets the median of the
   stated ones of that reach (no information: typical); with none stated
   the weights are equal.

Each time records how many algorithms its value rests on (``n_algos``);
times resting on one algorithm are flagged.  See Durand et al. (2023),
doi:10.1029/2021WR031614, for the consensus of FLPE algorithms in the SWOT
workflow.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from confluence_flpe.interface import Priors, ReachObs

#: Scale of the median absolute deviation to a normal standard deviation.
MAD_SCALE = 1.4826
#: Robust log-space spread (about a 1 % variation) at or below which a series is flat.
FLAT_SD = 0.01
#: A series whose log spread is below this fraction of the width's and of the ensemble's is a prior echo.
ECHO_FRACTION = 0.5
#: Hampel identifier: scaled MADs beyond which a value is far (Leys et al. 2013: 3 = very conservative).
HAMPEL_K = 3.0
#: Log departure from the median below which nothing is rejected: a factor of 2.
MIN_DEPARTURE = math.log(2.0)
#: Log-space sd of the error every FLPE algorithm carries beyond its stated uncertainty (Durand et al. 2016).
STRUCTURAL_SD = 0.4

#: ``consensus_flag`` values: two or more algorithms, one algorithm, no estimate.
FLAG_SEVERAL, FLAG_SINGLE, FLAG_NONE = 0, 1, 2


@dataclass
class Consensus:
    """Result of :func:`consensus` for one reach.

    Attributes
    ----------
    q : numpy.ndarray
        Consensus discharge ``[nt]`` (m3/s), NaN where no algorithm is left.
    n_algos : numpy.ndarray
        Number of algorithms each time's value rests on ``[nt]`` (int32).
    used : list of str
        Algorithms that contribute at one time or more (sorted).
    dropped : dict of str to str
        The others, with why they were left out.
    weights : dict of str to float
        Each used algorithm's mean share of the weight at the times it contributes to.
    """

    q: np.ndarray
    n_algos: np.ndarray
    used: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)

    @property
    def flag(self) -> np.ndarray:
        """Per-time flag (int8): :data:`FLAG_SEVERAL`, :data:`FLAG_SINGLE` or :data:`FLAG_NONE`."""
        n = self.n_algos
        return np.where(n >= 2, FLAG_SEVERAL, np.where(n == 1, FLAG_SINGLE, FLAG_NONE)).astype(np.int8)


def screen(q: np.ndarray, nt: int) -> tuple[np.ndarray | None, str]:
    """Basic checks of one algorithm's series (contracts.md section 9).

    Parameters
    ----------
    q : numpy.ndarray
        Discharge ``[nt]`` (m3/s), NaN where missing.
    nt : int
        Number of observation times of the reach.

    Returns
    -------
    (series, reason)
        The series with zero and negative values set to NaN and ``""``, or
        None and why it was dropped.
    """
    q = np.asarray(q, dtype=np.float64).ravel()
    if q.shape != (nt,):
        return None, f"length {q.size}, the reach has {nt} times"
    q = np.where(q > 0, q, np.nan)  # NaN stays NaN; <= 0 cannot be logged
    if not np.isfinite(q).any():
        return None, "no valid value"
    return q, ""


def log_spread(x: np.ndarray) -> float:
    """Robust spread of ``ln x`` over its finite positive values: 1.4826 MAD; NaN with fewer than 2."""
    x = np.asarray(x, dtype=np.float64)
    lx = np.log(x[np.isfinite(x) & (x > 0)])
    if lx.size < 2:
        return float("nan")
    return float(MAD_SCALE * np.median(np.abs(lx - np.median(lx))))


def width_spread(width: np.ndarray, width_u: np.ndarray | None = None) -> float:
    """Log-space spread of the observed width with its measurement noise removed.

    Parameters
    ----------
    width : numpy.ndarray
        Reach width ``[nt]`` (m), NaN where missing.
    width_u : numpy.ndarray, optional
        Its 1-sigma uncertainty (m); the median relative variance
        ``(width_u / width)**2`` is removed from the variance of ``ln W``.

    Returns
    -------
    float
        ``sqrt(max(sd(ln W)**2 - noise, 0))``; NaN with fewer than two widths.
    """
    spread = log_spread(width)
    if not math.isfinite(spread) or width_u is None:
        return spread
    w, u = np.asarray(width, dtype=np.float64), np.asarray(width_u, dtype=np.float64)
    if u.shape != w.shape:
        return spread
    rel = (u / w)[np.isfinite(u) & np.isfinite(w) & (w > 0)]
    noise = float(np.median(rel**2)) if rel.size else 0.0
    return math.sqrt(max(spread**2 - noise, 0.0))


def echo(q: np.ndarray, width_sd: float = float("nan"), ensemble_sd: float = float("nan"),
         prior_q: float = float("nan")) -> tuple[str, str]:
    """Is ``q`` an echo of the algorithm's prior rather than a measurement? (Step 2 of the module doc.)

    Parameters
    ----------
    q : numpy.ndarray
        Screened discharge ``[nt]`` (m3/s, NaN where missing).
    width_sd : float
        :func:`width_spread` of the reach (NaN: no observation witness, only flat series are echoes).
    ensemble_sd : float
        Median :func:`log_spread` of the reach's non-flat series (NaN: not known).
    prior_q : float
        The reach's mean-flow prior (m3/s, NaN when unknown).

    Returns
    -------
    (kind, reason)
        ``kind`` is ``"flat"``, ``"low"`` (varies far less than the width and the other
        algorithms say) or ``""`` (kept).
    """
    valid = q[np.isfinite(q)]
    at_prior = math.isfinite(prior_q) and prior_q > 0 and bool(
        np.all(np.abs(np.log(valid / prior_q)) <= FLAT_SD))
    spread = log_spread(valid)
    if not math.isfinite(spread):  # a single value: an echo only if it is the prior
        return ("flat", f"its one value is the mean-flow prior {prior_q:.4g} m3/s") if at_prior else ("", "")
    if spread <= FLAT_SD:
        where = f"the mean-flow prior {prior_q:.4g} m3/s" if at_prior else f"{float(np.median(valid)):.4g} m3/s"
        return "flat", f"flat at {where} (log spread {spread:.2g} <= {FLAT_SD})"
    if spread < ECHO_FRACTION * width_sd and spread < ECHO_FRACTION * ensemble_sd:  # False with a NaN
        return "low", (f"log spread {spread:.3g} < {ECHO_FRACTION} x both the width's {width_sd:.3g} "
                       f"and the algorithms' median {ensemble_sd:.3g}")
    return "", ""


def _nanmedian(x: np.ndarray, axis: int) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices give NaN
        out: np.ndarray = np.nanmedian(x, axis=axis)
    return out


def _far(x: np.ndarray, axis: int) -> np.ndarray:
    """Hampel's test along ``axis`` (NaN ignored, never flagged); nothing with fewer than 3 values."""
    med = np.expand_dims(_nanmedian(x, axis), axis)
    dev = np.abs(x - med)
    mad = np.expand_dims(MAD_SCALE * _nanmedian(dev, axis), axis)
    enough = np.expand_dims(np.isfinite(x).sum(axis=axis) >= 3, axis)
    with np.errstate(invalid="ignore"):
        out: np.ndarray = enough & (dev > np.maximum(HAMPEL_K * mad, MIN_DEPARTURE))
    return out


def far_mask(logq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Far algorithms and far values of a stack of log discharges (step 3 of the module doc).

    Parameters
    ----------
    logq : numpy.ndarray
        ``ln q`` ``[n_algos, nt]``, NaN where missing.

    Returns
    -------
    (algo_far, value_far)
        ``[n_algos]``: the algorithm's reach offset is far; ``[n_algos, nt]``:
        the value is far from the others at its time (after far algorithms are removed).
    """
    med_t = _nanmedian(logq, 0)
    offset = _nanmedian(logq - med_t, 1)
    algo_far = _far(offset, 0)
    rest = np.where(algo_far[:, None], np.nan, logq)
    return algo_far, _far(rest, 0)


def log_u(q: np.ndarray, q_u: np.ndarray | None) -> np.ndarray:
    """Stated 1-sigma uncertainty in log space, ``ln(1 + q_u / q)`` ``[nt]``; NaN where not stated."""
    if q_u is None:
        return np.full(q.shape, np.nan)
    u = np.asarray(q_u, dtype=np.float64).ravel()
    if u.shape != q.shape:
        return np.full(q.shape, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: np.ndarray = np.where(np.isfinite(u) & (u >= 0), np.log1p(u / q), np.nan)
    return out


def consensus(series: Mapping[str, np.ndarray], nt: int, q_u: Mapping[str, np.ndarray] | None = None,
              obs: ReachObs | None = None, prior: Priors | None = None) -> Consensus:
    """Combine the FLPE series of one reach (the rule of the module docstring).

    Parameters
    ----------
    series : mapping of str to numpy.ndarray
        Algorithm name -> discharge ``[nt]`` (m3/s).
    nt : int
        Number of observation times of the reach.
    q_u : mapping of str to numpy.ndarray, optional
        Algorithm name -> 1-sigma uncertainty of its discharge ``[nt]`` (m3/s),
        for the algorithms that state one.
    obs : ReachObs, optional
        The reach's observations: the prior-echo yardstick (width spread).
        Without them only flat series are echoes.
    prior : Priors, optional
        The reach's priors (``mean_q`` names a flat series that is the prior).

    Returns
    -------
    Consensus
    """
    q_u = q_u or {}
    dropped: dict[str, str] = {}
    kept: dict[str, np.ndarray] = {}
    for name in sorted(series):
        q, reason = screen(series[name], nt)
        if q is None:
            dropped[name] = reason
        else:
            kept[name] = q
    width_sd = float("nan")
    if obs is not None and obs.width.shape == (nt,):
        width_sd = width_spread(obs.width, obs.width_u)
    prior_q = prior.mean_q if prior is not None else float("nan")
    flat = {name: echo(q, prior_q=prior_q) for name, q in kept.items()}
    spreads = np.asarray([log_spread(q) for name, q in kept.items() if not flat[name][0]], dtype=np.float64)
    ensemble_sd = float(np.nanmedian(spreads)) if np.isfinite(spreads).any() else float("nan")
    for name in list(kept):
        kind, reason = flat[name] if flat[name][0] else echo(kept[name], width_sd, ensemble_sd, prior_q)
        if kind:
            dropped[name] = f"prior echo: {reason}"
            del kept[name]
    n_algos = np.zeros(nt, dtype=np.int32)
    if not kept:
        return Consensus(np.full(nt, np.nan), n_algos, [], dropped, {})

    names = list(kept)
    lin = np.stack([kept[n] for n in names])
    logq = np.log(lin)
    algo_far, value_far = far_mask(logq)
    for name, far in zip(names, algo_far, strict=True):
        if far:
            dropped[name] = (f"far from the other algorithms: reach offset beyond {HAMPEL_K:g} scaled MADs "
                             "and a factor 2 from their median")
    logq = np.where(algo_far[:, None] | value_far, np.nan, logq)

    u = np.stack([log_u(kept[n], q_u.get(n)) for n in names])
    stated = u[np.isfinite(u) & np.isfinite(logq)]
    typical = float(np.median(stated)) if stated.size else 0.0
    u = np.where(np.isfinite(u), u, typical)
    w = np.where(np.isfinite(logq), 1.0 / (STRUCTURAL_SD**2 + u**2), 0.0)
    total = w.sum(axis=0)
    n_algos = np.isfinite(logq).sum(axis=0).astype(np.int32)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(total > 0, np.exp(np.where(w > 0, w * logq, 0.0).sum(axis=0) / total), np.nan)
        share = np.where(total > 0, w / total, np.nan)
    lone = np.where(np.isfinite(logq), lin, 0.0).sum(axis=0)
    q = np.where(n_algos == 1, lone, q)  # one algorithm: its own value, exactly
    contributes = np.asarray(np.isfinite(logq).sum(axis=1) > 0)
    used = [n for n, c in zip(names, contributes, strict=True) if c]
    for n, c, far in zip(names, contributes, algo_far, strict=True):
        if not c and not far:
            dropped[n] = "every value far from the other algorithms at its time"
    weights = {n: float(np.nanmean(share[k][np.isfinite(logq[k])])) for k, n in enumerate(names) if contributes[k]}
    return Consensus(q, n_algos, used, dropped, weights)
