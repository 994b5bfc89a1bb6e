"""Synthetic reaches for the SIC4DVar tests, made with the method's own physics.

Each node is a trapezoid (bottom width ``b``, bank slope ``m``: width ``b + 2 m h`` at depth
``h``) on a sloping bed.  At every time all nodes carry the discharge ``Q(t)`` under the common
friction slope ``S(t)`` (steady flow, Manning-Strickler with the true K, hydraulic radius A/P):
each node's stage is its normal depth, found by bisection.  The reach slope observation is
``S(t)``, the node stages and widths are observed (optionally with noise), the reach width and
stage are the node means and ``d_x_area`` comes from them (as the framework computes it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from confluence_flpe.hydraulics import d_x_area_from_obs
from confluence_flpe.interface import Priors, ReachObs


@dataclass
class Twin:
    """A synthetic reach and its truth."""

    obs: ReachObs
    priors: Priors
    q: np.ndarray  # true discharge [nt] (m3/s)
    strickler: float
    bed: np.ndarray  # true bed elevation [nx] (m)
    bottom: np.ndarray  # bottom width [nx] (m)
    bank: np.ndarray  # bank slope m [nx]


def trapezoid_hydraulics(depth: np.ndarray, bottom: np.ndarray, bank: np.ndarray) -> tuple[np.ndarray, ...]:
    """Area (m2), wetted perimeter (m) and top width (m) of a trapezoid at ``depth`` (m)."""
    area = (bottom + bank * depth) * depth
    perim = bottom + 2 * depth * np.sqrt(1 + bank**2)
    return area, perim, bottom + 2 * bank * depth


def normal_depth(q: np.ndarray, slope: np.ndarray, strickler: float, bottom: np.ndarray,
                 bank: np.ndarray) -> np.ndarray:
    """Depth ``[nx, nt]`` where ``K A R^(2/3) S^(1/2) = Q`` at every node (bisection to 1e-10 m)."""
    lo = np.zeros((bottom.size, q.size))
    hi = np.full_like(lo, 100.0)
    b, m = bottom[:, None], bank[:, None]
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        area, perim, _ = trapezoid_hydraulics(mid, b, m)
        flow = strickler * area * (area / perim) ** (2 / 3) * np.sqrt(slope)[None, :]
        too_much = flow > q[None, :]
        hi = np.where(too_much, mid, hi)
        lo = np.where(too_much, lo, mid)
    return 0.5 * (lo + hi)


def twin_reach(nx: int = 30, nt: int = 50, strickler: float = 30.0, q_mean: float = 400.0,
               prior_factor: float = 1.0, wse_noise: float = 0.0, width_noise: float = 0.0,
               seed: int = 0, reach_id: int = 74100000011) -> Twin:
    """A reach of ``nx`` trapezoidal nodes observed ``nt`` times (see the module docstring).

    ``prior_factor`` multiplies the true mean flow to give the SoS ``mean_q``; ``wse_noise`` (m)
    and ``width_noise`` (relative) are 1-sigma Gaussian observation errors of the nodes.
    """
    rng = np.random.default_rng(seed)
    x = np.arange(nx) * 200.0  # m, upstream to downstream
    bottom = rng.uniform(40.0, 80.0, nx)
    bank = rng.uniform(4.0, 12.0, nx)
    bed = 100.0 - 1e-4 * x + rng.normal(0, 0.2, nx)
    q = q_mean * np.exp(rng.normal(0.0, 0.5, nt))
    q *= q_mean / q.mean()
    slope = 1e-4 * (q / q_mean) ** 0.1
    depth = normal_depth(q, slope, strickler, bottom, bank)
    _, _, width = trapezoid_hydraulics(depth, bottom[:, None], bank[:, None])
    wse = bed[:, None] + depth
    node_wse = wse + rng.normal(0.0, wse_noise, wse.shape) if wse_noise else wse
    node_width = width * (1 + rng.normal(0.0, width_noise, width.shape)) if width_noise else width
    reach_width, reach_wse = node_width.mean(axis=0), node_wse.mean(axis=0)
    time = np.arange(nt) * 86400.0 * 10
    obs = ReachObs(
        reach_id=reach_id, time=time, time_str=np.full(nt, "2020-01-01T00:00:00Z", dtype=object),
        width=reach_width, wse=reach_wse, slope=slope, d_x_area=d_x_area_from_obs(reach_width, reach_wse),
        node_id=reach_id // 10 * 10000 + (np.arange(nx) + 1) * 10 + 1, node_width=node_width, node_wse=node_wse,
        reach_length=float(nx * 200.0), facc=5000.0, prior_width=float(reach_width.mean()), dA_from_obs=True,
    )
    priors = Priors(reach_id=reach_id, mean_q=float(q_mean * prior_factor))
    return Twin(obs, priors, q, strickler, bed, bottom, bank)
