"""Fit a reach set: align times, choose the reaches that enter the joint fit, fall back to single reaches.

Pure functions over :class:`~confluence_flpe.interface.ReachObs` / ``Priors`` (no files).

Rules (documented decisions):

- **Time axis of a set.**  When every reach has the same number of times and their observed
  times agree within ``time_tolerance`` index by index (the usual case: a MetroMan set is built
  from reaches on the same orbits, contracts.md section 4), the set's axis is that index
  (``nt`` as in every reach file).  Otherwise the set's axis is the union of the reaches'
  observed times, times closer than ``time_tolerance`` being one pass.
- **Valid time** of a reach: finite positive width and slope, finite wse and ``d_x_area``.
- **Joint fit.**  Reaches with at least ``min_obs`` valid times and at least one SoS mean flow
  among them enter the joint (mass-conservation) fit; while the fitted reaches share fewer
  than ``min_obs`` valid times, the reach with the fewest valid times is moved out.
- **Single-reach fallback.**  A reach left alone (a set of one, or moved out above) is fitted
  by itself (no mass conservation: priors and its own mean-flow prior only).
- A reach with fewer than ``min_obs`` valid times, or alone without a mean-flow prior, gets a
  flagged result (``valid = False``, the reason).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from confluence_flpe.interface import FlpeResult, Priors, ReachObs

from .config import MetroManConfig
from .mcmc import Posterior, build_problem, sample_posterior

log = logging.getLogger("confluence-flpe.metroman")


@dataclass(frozen=True)
class SetAxis:
    """The common time axis of a set.

    Attributes
    ----------
    time : ndarray, shape (T,)
        Representative time of each set time (s since 2000-01-01, NaN if never observed).
    index : list of ndarray
        Per reach, ``[nt_r]`` position of each of its times on the set axis (-1: unobserved).
    """

    time: np.ndarray
    index: list[np.ndarray]

    @property
    def nt(self) -> int:
        return int(self.time.shape[0])

    def to_set(self, r: int, values: np.ndarray) -> np.ndarray:
        """Place reach ``r``'s ``[nt_r]`` values on the set axis (NaN elsewhere)."""
        out = np.full(self.nt, np.nan)
        idx = self.index[r]
        ok = idx >= 0
        out[idx[ok]] = np.asarray(values, dtype=np.float64)[ok]
        return out

    def to_reach(self, r: int, values: np.ndarray) -> np.ndarray:
        """Take reach ``r``'s ``[nt_r]`` values from a set-axis array (NaN where unobserved)."""
        idx = self.index[r]
        return np.where(idx >= 0, np.asarray(values, dtype=np.float64)[np.maximum(idx, 0)], np.nan)


def align_times(times: Sequence[np.ndarray], tolerance: float = 3600.0) -> SetAxis:
    """Common time axis of a set of reaches (see the module docstring).

    Parameters
    ----------
    times : sequence of ndarray
        Each reach's observation times (s since 2000-01-01), NaN where unobserved.
    tolerance : float
        Times closer than this (s) are one pass.

    Returns
    -------
    SetAxis
    """
    times = [np.asarray(t, dtype=np.float64).ravel() for t in times]
    if times and len({t.size for t in times}) == 1:
        stack = np.vstack(times)
        fin = np.isfinite(stack)
        seen = fin.any(axis=0)
        spread = np.where(fin, stack, -np.inf).max(axis=0) - np.where(fin, stack, np.inf).min(axis=0)
        if np.all(~seen | (spread <= tolerance)):
            rep = np.where(fin, stack, 0.0).sum(axis=0) / np.maximum(fin.sum(axis=0), 1)
            return SetAxis(np.where(seen, rep, np.nan), [np.arange(stack.shape[1]) for _ in times])
    allt = np.concatenate([t[np.isfinite(t)] for t in times]) if times else np.zeros(0)
    order = np.sort(allt)
    starts = np.concatenate([[True], np.diff(order) > tolerance]) if order.size else np.zeros(0, bool)
    cluster = np.cumsum(starts) - 1
    n_clusters = int(starts.sum())
    rep = np.bincount(cluster, weights=order, minlength=n_clusters) / np.maximum(
        np.bincount(cluster, minlength=n_clusters), 1
    )
    first = order[starts]
    index = []
    for t in times:
        idx = np.full(t.size, -1)
        ok = np.isfinite(t)
        idx[ok] = np.searchsorted(first, t[ok], side="right") - 1
        index.append(idx)
    return SetAxis(rep, index)


def valid_times(obs: ReachObs) -> np.ndarray:
    """Times usable by MetroMan: finite width, wse, slope and d_x_area, positive width and slope."""
    with np.errstate(invalid="ignore"):
        return np.asarray(obs.valid & np.isfinite(obs.d_x_area) & (obs.width > 0) & (obs.slope > 0))


def choose_joint(valid: np.ndarray, eligible: np.ndarray, min_obs: int) -> np.ndarray:
    """Indices of the reaches of the joint fit (possibly one or none).

    Parameters
    ----------
    valid : ndarray of bool, shape (R, T)
        Valid times on the set axis.
    eligible : ndarray of bool, shape (R,)
        Reaches that may enter (enough valid times).
    min_obs : int
        Fewest common valid times of a joint fit.

    Returns
    -------
    ndarray of int
        Reach indices, upstream to downstream.
    """
    members = list(np.flatnonzero(eligible))
    counts = valid.sum(axis=1)
    while len(members) > 1 and valid[members].all(axis=0).sum() < min_obs:
        worst = max(members, key=lambda r: (-counts[r], r))
        members.remove(worst)
    return np.asarray(members, dtype=int)


def lowest_area_change(obs: ReachObs) -> float:
    """The least ``d_x_area`` (m2) of the reach's usable times: MetroMan's ``A0`` is the area there,
    so ``Abar = A0 - lowest`` is the area where ``d_x_area = 0`` (the flow law's reference)."""
    return float(np.min(obs.d_x_area[valid_times(obs)]))


def _to_set(axis: SetAxis, arrays: Sequence[np.ndarray]) -> np.ndarray:
    """``[R, T_set]`` of per-reach series on the set's time axis."""
    return np.vstack([axis.to_set(r, a) for r, a in enumerate(arrays)])


def _to_set_optional(axis: SetAxis, arrays: Sequence[np.ndarray | None]) -> np.ndarray | None:
    """:func:`_to_set`, or None when a reach lacks the series (an optional uncertainty)."""
    present = [a for a in arrays if a is not None]
    return _to_set(axis, present) if len(present) == len(arrays) else None


def fit(reaches: Sequence[tuple[ReachObs, Priors]], cfg: MetroManConfig) -> tuple[list[FlpeResult], SetAxis]:
    """MetroMan on one reach set (upstream to downstream): one result per reach.

    Parameters
    ----------
    reaches : sequence of (ReachObs, Priors)
        The set, upstream to downstream.
    cfg : MetroManConfig

    Returns
    -------
    results : list of FlpeResult
        ``q`` (m3/s) and ``q_u`` (relative, dimensionless) on each reach's own times;
        ``params`` ``A0hat`` (m2), ``nahat`` (s m^-1/3), ``x1hat``; ``extra`` posterior sds,
        acceptance rate and ``n_fit`` (reaches in the fit that produced it: 1 = single-reach).
    axis : SetAxis
        The set's common time axis.
    """
    obs = [o for o, _ in reaches]
    axis = align_times([o.time for o in obs], cfg.time_tolerance)
    R = len(obs)
    valid = (np.vstack([axis.to_set(r, valid_times(o)) == 1 for r, o in enumerate(obs)]) if R
             else np.zeros((0, 0), dtype=bool))
    mean_q = np.asarray([p.mean_q for _, p in reaches], dtype=np.float64)
    qbar_sd = np.asarray([p.mean_q_log_sd(cfg.sigma_log_qbar) for _, p in reaches], dtype=np.float64)
    has_q = np.isfinite(mean_q) & (mean_q > 0)
    counts = valid.sum(axis=1)
    results: list[FlpeResult | None] = [None] * R

    for r in range(R):
        if counts[r] < cfg.min_obs:
            results[r] = FlpeResult.invalid(
                obs[r].reach_id, obs[r].nt, f"{counts[r]} valid times, MetroMan needs {cfg.min_obs}"
            )
    joint = choose_joint(valid, counts >= cfg.min_obs, cfg.min_obs) if R else np.zeros(0, int)
    fits: list[np.ndarray] = []
    if joint.size > 1 and has_q[joint].any():
        fits.append(joint)
    for r in np.flatnonzero(counts >= cfg.min_obs).tolist():
        if not any(r in f for f in fits):
            if has_q[r]:
                fits.append(np.asarray([r]))
            else:
                results[r] = FlpeResult.invalid(obs[r].reach_id, obs[r].nt, "no SoS mean flow prior")

    for members in fits:
        post = _fit_members(obs, members, valid, mean_q, axis, cfg, qbar_sd)
        for k, r in enumerate(members):
            results[r] = FlpeResult(
                reach_id=obs[r].reach_id,
                q=axis.to_reach(r, post.q[k]),
                q_u=axis.to_reach(r, post.q_u[k]),
                params={"A0hat": float(post.a0[k]), "nahat": float(post.na[k]), "x1hat": float(post.x1[k]),
                        "Abar": float(post.a0[k]) - lowest_area_change(obs[r])},
                extra={
                    "A0_sd": float(post.a0_sd[k]),
                    "na_sd": float(post.na_sd[k]),
                    "x1_sd": float(post.x1_sd[k]),
                    "acceptance": float(post.acceptance[k]),
                    "n_fit": float(members.size),
                },
            )
        log.info(
            "MetroMan fit of %s (%s): acceptance %s",
            [obs[r].reach_id for r in members],
            "single reach" if members.size == 1 else f"{members.size} reaches",
            np.round(post.acceptance, 2).tolist(),
        )
    return [r for r in results if r is not None], axis


def _fit_members(
    obs: Sequence[ReachObs],
    members: np.ndarray,
    valid: np.ndarray,
    mean_q: np.ndarray,
    axis: SetAxis,
    cfg: MetroManConfig,
    qbar_sd: np.ndarray | None = None,
) -> Posterior:
    """Sample the posterior of the reaches ``members`` (joint when more than one)."""
    sel = [obs[r] for r in members]
    sub_axis = SetAxis(axis.time, [axis.index[r] for r in members])
    mask = valid[members]
    width = np.where(mask, _to_set(sub_axis, [o.width for o in sel]), np.nan)
    slope = _to_set(sub_axis, [o.slope for o in sel])
    dxa = _to_set(sub_axis, [o.d_x_area for o in sel])
    width_u = _to_set_optional(sub_axis, [o.width_u for o in sel])
    slope_u = _to_set_optional(sub_axis, [o.slope_u for o in sel])
    facc = np.asarray([o.facc for o in sel], dtype=np.float64)
    lengths = np.asarray([o.reach_length for o in sel], dtype=np.float64)
    problem = build_problem(width, slope, dxa, mean_q[members], cfg, width_u, slope_u, facc,
                            time=sub_axis.time, reach_length=lengths,
                            qbar_sd=None if qbar_sd is None else qbar_sd[members])
    rng = np.random.default_rng([cfg.seed, *(int(o.reach_id) for o in sel)])
    return sample_posterior(problem, cfg, rng)
