"""A synthetic reach made with SAD's own physics (the twin experiment's truth).

Dingman sections (r = 2.5, reference width 150 m at a 6 m thalweg depth), Manning's n = 0.03,
a 1e-4 bed slope, 30 nodes over 6 km; 50 times ten days apart with a seasonal discharge around
500 m3/s; each time's profile is the gradually varied flow (:func:`confluence_flpe_sad.gvf.profile`,
10 m steps) from the normal depth at the downstream node.  Node WSE and widths are the profile and
its section widths; the reach's wse and width are the node means, its slope the least-squares
slope, ``d_x_area`` is computed from them as for a SWOT file without one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from confluence_flpe.hydraulics import d_x_area_from_obs
from confluence_flpe.interface import ReachObs
from confluence_flpe_sad import gvf

REACH_ID = 77449100071
TRUE_N, TRUE_R, TRUE_S0, TRUE_Z0 = 0.03, 2.5, 1e-4, 100.0
WB, YMB, MEAN_Q, LENGTH = 150.0, 6.0, 500.0, 6000.0


@dataclass
class Twin:
    obs: ReachObs
    q: np.ndarray  # true discharge (m3/s)


def dingman_normal_depth(q: np.ndarray, n: float, r: float, s0: float) -> np.ndarray:
    """Thalweg depth (m) where Sf = S0 on the twin's section (fixed point of S3, S5)."""
    k = float(gvf.shape_factor(r))
    ym = np.full(np.shape(q), YMB)
    for _ in range(300):
        w = gvf.width(ym, WB, YMB, r)
        ym = k * (n * q / (w * np.sqrt(s0))) ** 0.6
    return ym


def make_twin(nt: int = 50, nx: int = 30, seed: int = 0) -> Twin:
    rng = np.random.default_rng(seed)
    q = MEAN_Q * np.exp(0.6 * np.sin(2 * np.pi * np.arange(nt) / 36.5) + 0.2 * rng.standard_normal(nt))
    xi = (np.arange(nx) + 0.5) * LENGTH / nx
    xr = xi - xi[0]
    bed = TRUE_Z0 + TRUE_S0 * xr
    sec = gvf.Section(xr, np.full(nx, WB), bed + YMB)
    h_bc = bed[0] + dingman_normal_depth(q, TRUE_N, TRUE_R, TRUE_S0)
    wse, ok = gvf.profile(sec, q, TRUE_N, TRUE_R, TRUE_Z0, TRUE_S0, h_bc, max_step=10.0)
    assert ok.all()
    wid = gvf.width(wse - bed[:, None], WB, YMB, TRUE_R)
    h, w = wse.mean(axis=0), wid.mean(axis=0)
    slope = np.polyfit(xi, wse, 1)[0]
    time = 8.0e8 + np.arange(nt) * 10 * 86400.0
    obs = ReachObs(reach_id=REACH_ID, time=time, time_str=np.full(nt, "2025-05-08T00:00:00Z", dtype=object),
                   width=w, wse=h, slope=slope, d_x_area=d_x_area_from_obs(w, h), dA_from_obs=True,
                   node_id=REACH_ID // 10 * 10000 + np.arange(1, nx + 1) * 10 + 1, node_width=wid, node_wse=wse,
                   reach_length=LENGTH)
    return Twin(obs, q)


def with_swot_noise(twin: Twin, wse_sd: float = 0.10, width_rel: float = 0.05, seed: int = 100) -> Twin:
    """The twin observed with errors: Gaussian node WSE (``wse_sd``, m) and relative node width
    (``width_rel``) errors; the reach wse, width and slope remade from the noisy nodes (node means and
    least-squares slope), ``d_x_area`` from them, and their 1-sigma errors in ``wse_u``, ``width_u``,
    ``slope_u`` (those of a mean and of a least-squares slope over the nodes)."""
    o = twin.obs
    assert o.node_wse is not None and o.node_width is not None
    rng = np.random.default_rng(seed)
    nx = o.node_wse.shape[0]
    xi = (np.arange(nx) + 0.5) * LENGTH / nx
    wse = o.node_wse + rng.normal(0.0, wse_sd, o.node_wse.shape)
    wid = o.node_width * (1.0 + rng.normal(0.0, width_rel, o.node_width.shape))
    h, w = wse.mean(axis=0), wid.mean(axis=0)
    obs = ReachObs(reach_id=o.reach_id, time=o.time, time_str=o.time_str, width=w, wse=h,
                   slope=np.polyfit(xi, wse, 1)[0], d_x_area=d_x_area_from_obs(w, h), dA_from_obs=True,
                   node_id=o.node_id, node_width=wid, node_wse=wse, reach_length=LENGTH,
                   wse_u=np.full(o.nt, wse_sd / np.sqrt(nx)), width_u=width_rel * w / np.sqrt(nx),
                   slope_u=np.full(o.nt, wse_sd / np.sqrt(np.sum((xi - xi.mean()) ** 2))))
    return Twin(obs, twin.q)


def scores(q: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    """nRMSE, relative bias of the mean and Pearson r over the times with an estimate."""
    ok = np.isfinite(q)
    nrmse = float(np.sqrt(np.mean((q[ok] - truth[ok]) ** 2)) / truth[ok].mean())
    return nrmse, float(q[ok].mean() / truth[ok].mean() - 1), float(np.corrcoef(q[ok], truth[ok])[0, 1])
