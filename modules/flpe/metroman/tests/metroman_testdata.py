"""A synthetic reach set with known MetroMan parameters (test helper, not production code).

Trapezoidal channels (bottom width ``b``, side slope ``z``), each carrying the same upstream
hydrograph plus a small lateral gain; the depth of each time solves the flow law of
:mod:`confluence_flpe_metroman.flowlaw` (Manning with ``n = na * (A/W)**x1``) for the
water-surface slope of that time, so the truth is exactly the model being inverted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from confluence_flpe.interface import Priors, ReachObs
from confluence_flpe_metroman.flowlaw import manning_q


@dataclass
class Truth:
    width: np.ndarray  # (R, T) m
    slope: np.ndarray  # (R, T) m/m
    d_x_area: np.ndarray  # (R, T) m2, relative to the median area
    q: np.ndarray  # (R, T) m3/s
    a0: np.ndarray  # (R,) m2 at the lowest observed stage
    na: np.ndarray  # (R,)
    x1: np.ndarray  # (R,)


def trapezoid_set(n_reaches: int = 3, n_times: int = 50, seed: int = 1, noise: bool = True, x1: float = -0.1) -> Truth:
    """Return a synthetic set with ``n_reaches`` <= 5 reaches and ``n_times`` times."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_times)
    q_up = 300.0 * np.exp(0.6 * np.sin(2 * np.pi * t / 37.0) + 0.25 * rng.standard_normal(n_times))
    R = n_reaches
    q = q_up[None, :] * (1.0 + 0.02 * np.arange(R))[:, None]
    b = np.array([60.0, 90.0, 45.0, 110.0, 70.0])[:R, None]
    z = np.array([8.0, 4.0, 12.0, 3.0, 6.0])[:R, None]
    na = np.array([0.028, 0.034, 0.031, 0.026, 0.033])[:R]
    x1s = np.full(R, x1)
    s0 = np.array([1.5e-4, 1.0e-4, 2.2e-4, 0.8e-4, 1.2e-4])[:R, None]
    phase = rng.uniform(0, 2 * np.pi, (R, 1))
    slope = s0 * (1.0 + 0.15 * np.sin(2 * np.pi * t / 23.0 + phase))
    lo = np.full(q.shape, 1e-3)
    hi = np.full(q.shape, 100.0)
    for _ in range(80):  # bisection on depth, vectorised over reaches and times
        y = 0.5 * (lo + hi)
        area = y * (b + z * y)
        width = b + 2 * z * y
        too_much = manning_q(area, na[:, None], x1s[:, None], 0.0, width, slope) > q
        hi = np.where(too_much, y, hi)
        lo = np.where(too_much, lo, y)
    y = 0.5 * (lo + hi)
    area = y * (b + z * y)
    width = b + 2 * z * y
    a0 = area.min(axis=1)
    dxa = area - np.median(area, axis=1, keepdims=True)
    if noise:
        width = width * (1 + 0.01 * rng.standard_normal(width.shape))
        slope = slope * (1 + 0.03 * rng.standard_normal(slope.shape))
        dxa = dxa + 0.01 * area.mean(axis=1, keepdims=True) * rng.standard_normal(dxa.shape)
    return Truth(width, slope, dxa, q, a0, na, x1s)


#: Five consecutive type-1 reach ids (the reference set) (upstream to downstream) used as a synthetic set.
IDS = [77449100091, 77449100081, 77449100071, 77449100061, 77449100051]
T0 = 7.5e8  # s since 2000-01-01


def as_inputs(truth: Truth, prior_factor: float = 1.0) -> list[tuple[ReachObs, Priors]]:
    """The synthetic set as (ReachObs, Priors) pairs; the mean-flow prior is ``prior_factor`` x truth."""
    R, T = truth.width.shape
    time = T0 + np.arange(T) * 21 * 86400.0
    out = []
    for r in range(R):
        obs = ReachObs(
            reach_id=IDS[r],
            time=time.copy(),
            time_str=np.full(T, "2023-01-01T00:00:00Z", dtype=object),
            width=truth.width[r].copy(),
            wse=100.0 - r + np.log(truth.q[r]),
            slope=truth.slope[r].copy(),
            d_x_area=truth.d_x_area[r].copy(),
        )
        out.append((obs, Priors(reach_id=IDS[r], mean_q=prior_factor * float(truth.q[r].mean()))))
    return out
