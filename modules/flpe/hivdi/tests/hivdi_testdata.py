"""Synthetic reach sets made with HiVDI's own physics (the twin experiments of the tests and bench).

The truth is a channel of the model's form (a rectangle under banks that widen linearly, a straight
bed), a discharge series and a downstream stage held above normal depth by a control (so the
profiles are backwater curves); the observations are the solved node elevations and the section
widths there, with optional Gaussian or SWOT-like errors and missing nodes, laid out as the
workflow's readers give them (node ids numbered from downstream, as in SWORD).  HiVDI itself does
not see the truth's form: it builds its own effective channel from the observations."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from confluence_flpe.hydraulics import d_x_area_from_obs
from confluence_flpe.interface import Priors, ReachObs
from confluence_flpe_hivdi import backwater
from confluence_flpe_hivdi.backwater import Channel, Controls


@dataclass
class Twin:
    """A synthetic set: inputs as the plug-in sees them, and the truth."""

    reaches: list[tuple[ReachObs, Priors]]
    q: list[np.ndarray]  # per reach, true discharge (m3/s) on its times
    A0: list[float]  # per reach, true area where d_x_area = 0 (m2)
    alpha: float
    beta: float
    channel: Channel
    controls: Controls
    extra: dict[str, float] = field(default_factory=dict)


def normal_depth(q: np.ndarray, alpha: float, beta: float, width: float, slope: float) -> np.ndarray:
    """Depth (m) of uniform flow in a wide rectangular channel: ``Q = alpha h^beta W h^(5/3) S^(1/2)``."""
    return np.asarray((q / (alpha * width * np.sqrt(slope))) ** (1.0 / (5.0 / 3.0 + beta)))


#: SWOT-like 1-sigma errors (the Pepsi benchmark's, ``confluence_flpe.pepsi.NOISE``): node wse (m),
#: reach wse (m), reach slope (m/m), relative width of a node and of the reach.
SWOT_NOISE = {"node_wse": 0.30, "wse": 0.10, "slope": 1.7e-5, "width_rel": 0.15}


def make_twin(n_reaches: int = 1, nt: int = 40, nodes: int = 30, length: float = 8000.0, width: float = 80.0,
              bank: float = 0.0, bed_slope: float = 1e-4, alpha: float = 25.0, beta: float = 0.2,
              q_mean: float = 150.0, q_cv: float = 0.6, backwater_range: tuple[float, float] = (1.0, 1.6),
              noise: float = 0.0, swot: bool = False, gaps: float = 0.0, q_prior_factor: float = 1.0,
              a0_prior_factor: float = 1.0, n_prior_factor: float = 1.0, seed: int = 0) -> Twin:
    """A set of ``n_reaches`` reaches of ``nodes`` nodes each, observed ``nt`` times (see the module docstring).

    The ``*_prior_factor`` arguments put the SoS mean flow, the geoBAM A0 and n priors off the
    truth by that factor.  ``noise`` is a node-elevation error (m, Gaussian); ``swot`` adds the
    errors of :data:`SWOT_NOISE` instead: node wse and widths, and reach wse, width and slope
    observed on their own (as SWOT's pixel aggregates are); ``gaps`` is the fraction of node
    observations missing.  Everything is seeded.
    """
    rng = np.random.default_rng(seed)
    N = n_reaches * nodes
    dx = length / nodes
    x = (np.arange(N) + 0.5) * dx
    bed = 100.0 - bed_slope * x
    q = q_mean * np.exp(rng.normal(0.0, np.sqrt(np.log(1 + q_cv**2)), nt) - np.log(1 + q_cv**2) / 2)
    h_n = normal_depth(q, alpha, beta, width, bed_slope)
    h_out = h_n * rng.uniform(*backwater_range, nt)
    d_lo = 0.5 * float(np.min(h_n))  # the banks start below every observed stage
    reach = np.repeat(np.arange(n_reaches), nodes)
    s = np.tile((np.arange(nodes)) / (nodes - 1), n_reaches)
    z_lo = bed + d_lo
    ch = Channel(x=x, z_lo=z_lo, z1=z_lo, z2=z_lo.copy(), w1=np.full(N, width), rate12=np.full(N, 2 * bank),
                 rate23=np.full(N, 2 * bank), reach=reach, s=s, share=np.ones(n_reaches), h_ref=np.ones(n_reaches),
                 segment=np.zeros(N, dtype=int))
    c = Controls(log_q=np.log(q), z_out=(bed[-1] + h_out)[None, :], log_kref=np.full(n_reaches, np.log(alpha)),
                 beta=np.full(n_reaches, beta), log_depth=np.full(n_reaches, np.log(d_lo)),
                 tilt=np.zeros(n_reaches))
    prof = backwater.solve(ch, c)
    time = (np.arange(nt) * 10.0 + 3000.0) * 86400.0
    reaches, qs, a0s = [], [], []
    for r in range(n_reaches):
        sl = slice(r * nodes, (r + 1) * nodes)
        z_true, w_true = prof.z[sl], prof.width[sl]
        wse, wid = z_true.mean(axis=0), w_true.mean(axis=0)
        slope = -np.polyfit(x[sl], z_true, 1)[0]
        z, w = z_true.copy(), w_true.copy()
        if noise:
            z = z + rng.normal(0.0, noise, z.shape)
        if swot:
            z = z + rng.normal(0.0, SWOT_NOISE["node_wse"], z.shape)
            w = w * (1 + rng.normal(0.0, SWOT_NOISE["width_rel"], w.shape))
            wse = wse + rng.normal(0.0, SWOT_NOISE["wse"], nt)
            wid = wid * (1 + rng.normal(0.0, SWOT_NOISE["width_rel"], nt))
            slope = slope + rng.normal(0.0, SWOT_NOISE["slope"], nt)
        elif noise:
            wse, slope = z.mean(axis=0), -np.polyfit(x[sl], z, 1)[0]
        if gaps:
            missing = rng.random(z.shape) < gaps
            z[missing], w[missing] = np.nan, np.nan
        dA = d_x_area_from_obs(wid, wse)
        rid = 21402000011 + 10 * (n_reaches - 1 - r)  # reach ids grow upstream (SWORD)
        node_id = rid // 10 * 10000 + np.arange(nodes, 0, -1) * 10 + 1  # node 1 at the downstream end
        obs = ReachObs(reach_id=rid, time=time.copy(), time_str=np.full(nt, "2009-01-01T00:00:00Z", dtype=object),
                       width=wid, wse=wse, slope=slope, d_x_area=dA, dA_from_obs=True,
                       node_id=node_id[::-1], node_width=w[::-1].copy(), node_wse=z[::-1].copy(),
                       reach_length=length, facc=1000.0, prior_width=width)
        area = prof.area[sl].mean(axis=0)
        a0s.append(float(np.mean(area - dA)))
        qs.append(q.copy())
        h_mean = float(np.mean(area / w_true.mean(axis=0)))
        low_area = float(np.min(area))
        gb = {"logA0_hat": float(np.log(low_area * a0_prior_factor)), "logA0_sd": 1.0,
              "logn_hat": float(np.log(n_prior_factor / (alpha * h_mean**beta))), "logn_sd": 0.3}
        pri = Priors(reach_id=rid, mean_q=float(np.mean(q)) * q_prior_factor, gb=gb)
        reaches.append((obs, pri))
    return Twin(reaches, qs, a0s, alpha, beta, ch, c)
