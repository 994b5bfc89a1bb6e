"""True discharge and hydraulics of the demo world.

Discharge: each reach drains a local area whose daily specific runoff is a
basin climate signal (seasonal snowmelt, rain or arctic regime, plus storms
that decay exponentially) with a local perturbation.  Discharge is routed
without delay: ``Q[r] = lateral[r] + sum(Q[upstream of r])`` every day, so the
network is mass-consistent by construction.

Hydraulics: a power-law section, width ``W = Wb (Y / Db) ** b`` for depth Y,
flow area ``A = W Y / (b + 1)`` and hydraulic radius ~ ``A / W`` (wide
channel), with Manning's law ``Q = A R^(2/3) S^(1/2) / n``.  Depth then has a
closed form (see :func:`depth_from_q`).  The bankfull depth ``Db`` is chosen so
that Manning gives the bankfull discharge at ``Db``.  References: Manning
(1891); Dingman (2007), doi:10.1016/j.jhydrol.2006.09.021 (power-law sections);
Gleason & Smith (2014), doi:10.1073/pnas.1317606111 (at-many-stations
hydraulic geometry, b ~ 0.1-0.4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import Network

#: Regime parameters: mean specific discharge (m3/s/km2), peak day of year, peak width (days),
#: seasonal amplitude (fraction of the mean carried by the seasonal peak), storm rate (1/day).
REGIMES = {
    "snowmelt": dict(q_spec=0.011, peak_doy=125.0, width=28.0, season=0.55, storms=1 / 9.0, winter_low=0.0),
    "rain": dict(q_spec=0.013, peak_doy=40.0, width=55.0, season=0.40, storms=1 / 6.0, winter_low=0.0),
    "arctic": dict(q_spec=0.009, peak_doy=160.0, width=20.0, season=0.75, storms=1 / 14.0, winter_low=0.7),
}


@dataclass
class Hydraulics:
    """Per-reach channel parameters and daily true state (arrays [R] and [R, D])."""

    n: np.ndarray  # Manning n (s m^-1/3)
    b: np.ndarray  # width exponent (-)
    Wb: np.ndarray  # bankfull width (m)
    Db: np.ndarray  # bankfull depth (m)
    S0: np.ndarray  # bed slope (m/m)
    Qbf: np.ndarray  # bankfull discharge (m3/s)
    z_ref: np.ndarray  # reference WSE at the reach centre (m)
    Y_ref: np.ndarray  # reference depth (m): median of the daily depth
    W_ref: np.ndarray  # width at the reference depth (m)
    A0: np.ndarray  # flow area at the reference depth (m2)
    bed: np.ndarray  # bed elevation at the reach centre (m)
    node_width_factor: np.ndarray  # [K] node width / reach width (mean 1 per reach)
    # daily [R, D]
    Q: np.ndarray
    lateral: np.ndarray
    S: np.ndarray
    Y: np.ndarray
    W: np.ndarray
    A: np.ndarray
    H: np.ndarray  # WSE at the reach centre (m)


def area(Y: np.ndarray, Wb: np.ndarray, Db: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Flow area (m2) of a power-law section at depth ``Y`` (m): ``Wb Db/(b+1) (Y/Db)^(b+1)``."""
    A: np.ndarray = Wb * Db / (b + 1.0) * (Y / Db) ** (b + 1.0)
    return A


def width(Y: np.ndarray, Wb: np.ndarray, Db: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Top width (m) at depth ``Y`` (m): ``Wb (Y/Db)^b``."""
    W: np.ndarray = Wb * (Y / Db) ** b
    return W


def manning_q(Y: np.ndarray, Wb: np.ndarray, Db: np.ndarray, b: np.ndarray, n: np.ndarray,
              S: np.ndarray) -> np.ndarray:
    """Manning discharge (m3/s) at depth ``Y`` (m), slope ``S`` (m/m), with ``R = A / W``."""
    A = area(Y, Wb, Db, b)
    R = A / width(Y, Wb, Db, b)
    Q: np.ndarray = A * R ** (2.0 / 3.0) * np.sqrt(S) / n
    return Q


def depth_from_q(Q: np.ndarray, Wb: np.ndarray, Db: np.ndarray, b: np.ndarray, n: np.ndarray,
                 S: np.ndarray) -> np.ndarray:
    """Invert Manning's law for depth (m), exactly.

    With ``A = Wb Db^-b Y^(b+1)/(b+1)`` and ``R = Y/(b+1)``,
    ``Q n (b+1)^(5/3) Db^b / (Wb S^(1/2)) = Y^(b+5/3)``.
    """
    rhs = Q * n * (b + 1.0) ** (5.0 / 3.0) * Db**b / (Wb * np.sqrt(S))
    Y: np.ndarray = rhs ** (1.0 / (b + 5.0 / 3.0))
    return Y


def _runoff(regime: str, n_sub: int, doy: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Daily specific discharge (m3/s/km2) [n_sub, D] of ``n_sub`` sub-catchments of one basin."""
    p = REGIMES[regime]
    D = doy.size
    # seasonal peak (circular distance in days), its timing shifted a little per sub-catchment
    shift = rng.normal(0.0, 6.0, (n_sub, 1))
    dd = (doy[None, :] - p["peak_doy"] - shift + 182.5) % 365.0 - 182.5
    season = np.exp(-0.5 * (dd / p["width"]) ** 2)
    season /= season.mean(axis=1, keepdims=True)
    # storms: basin-wide event days, magnitudes varying per sub-catchment, exponential recession
    events = rng.random(D) < p["storms"]
    mag = rng.lognormal(0.0, 0.6, D) * events
    local = rng.lognormal(0.0, 0.35, (n_sub, D)) * mag[None, :]
    tau = rng.uniform(3.0, 7.0)
    kernel = np.exp(-np.arange(int(6 * tau)) / tau)
    storm = np.stack([np.convolve(row, kernel)[:D] for row in local])
    storm /= max(float(storm.mean()), 1e-9)
    base = 1.0 - p["season"]
    q = base * (0.6 + 0.4 * storm) + p["season"] * season
    if p["winter_low"] > 0:  # arctic winter recession: flow sinks under ice, Nov to April
        winter = np.exp(-0.5 * (((doy - 30.0 + 182.5) % 365.0 - 182.5) / 60.0) ** 2)
        q *= 1.0 - p["winter_low"] * winter[None, :]
    q /= q.mean(axis=1, keepdims=True)
    q *= p["q_spec"] * rng.lognormal(0.0, 0.1, (n_sub, 1))
    return q


def discharge(net: Network, doy: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray,
                                                                                   np.ndarray]:
    """Daily true discharge (m3/s) [R, D], lateral inflow [R, D] and flow accumulation (km2) [R].

    Headwater reaches drain 9 000 - 25 000 km2 (wide enough for SWOT); every
    other reach adds 50 - 400 km2 of lateral area.
    """
    R, D = net.n_reaches, doy.size
    headwater = (net.up < 0).all(axis=1)
    local_area = np.where(headwater, rng.uniform(9000.0, 25000.0, R), rng.uniform(50.0, 400.0, R))
    lateral = np.empty((R, D))
    for b, spec in enumerate(net.specs):
        members = np.flatnonzero(net.basin_index == b)
        lateral[members] = _runoff(spec.regime, members.size, doy, rng) * local_area[members, None]
    Q = lateral.copy()
    facc = local_area.copy()
    for r in net.topo_order():
        ups = net.up[r][net.up[r] >= 0]
        if ups.size:
            Q[r] += Q[ups].sum(axis=0)
            facc[r] += facc[ups].sum()
    return Q, lateral, facc


def hydraulics(net: Network, Q: np.ndarray, lateral: np.ndarray, rng: np.random.Generator) -> Hydraulics:
    """Channel parameters, daily depth/width/area/slope/WSE of every reach.

    The reference water surface (at the median daily depth) is continuous down
    the network: each reach's reference WSE at its downstream end equals its
    downstream neighbour's at its upstream end; the bed lies ``Y_ref`` below it.
    Dams (type 4) drop the surface by 6-12 m over their short reach; lakes
    (type 3) are wide and nearly flat.
    """
    R: int = Q.shape[0]
    rtype = net.rtype
    n = rng.uniform(0.025, 0.045, R)
    b = rng.uniform(0.18, 0.35, R)
    S0 = 10 ** rng.uniform(-4.3, -3.6, R)
    Qbf = np.percentile(Q, 95, axis=1) * rng.uniform(1.0, 1.3, R)
    Wb = rng.uniform(5.5, 7.5, R) * np.sqrt(Qbf)
    lake = rtype == 3
    dam = rtype == 4
    Wb[lake] *= 6.0
    S0[lake] = rng.uniform(1e-6, 3e-6, lake.sum())
    S0[dam] = rng.uniform(6.0, 12.0, dam.sum()) / net.length[dam]
    n[lake] = 0.02
    Db = (Qbf * n * (b + 1.0) ** (5.0 / 3.0) / (Wb * np.sqrt(S0))) ** 0.6

    # water-surface slope: bed slope + a small dynamic part (steeper on rising limbs)
    dq = np.gradient(Q, axis=1) / Q.mean(axis=1, keepdims=True)
    S = S0[:, None] * (1.0 + np.clip(0.5 * dq, -0.15, 0.15))
    S[lake] = S0[lake, None]
    Y = depth_from_q(Q, Wb[:, None], Db[:, None], b[:, None], n[:, None], S)
    W = width(Y, Wb[:, None], Db[:, None], b[:, None])
    A = area(Y, Wb[:, None], Db[:, None], b[:, None])
    Y_ref = np.median(Y, axis=1)
    W_ref = width(Y_ref, Wb, Db, b)
    A0 = area(Y_ref, Wb, Db, b)

    # continuous reference surface, from each basin's outlet upward
    z_ref = np.empty(R)
    base = {"snowmelt": 180.0, "rain": 300.0, "arctic": 30.0}
    for r in net.topo_order()[::-1]:
        dn = net.dn[r][net.dn[r] >= 0]
        if dn.size:
            z_dn_end = z_ref[dn[0]] + 0.5 * S0[dn[0]] * net.length[dn[0]]
        else:
            z_dn_end = base[net.specs[net.basin_index[r]].regime]
        z_ref[r] = z_dn_end + 0.5 * S0[r] * net.length[r]
    bed = z_ref - Y_ref
    H = bed[:, None] + Y

    # node widths vary around the reach width (mean exactly 1 per reach)
    f = rng.lognormal(0.0, 0.08, net.node_id.size)
    f /= (np.add.reduceat(f, net.node_start) / net.n_nodes)[net.node_reach]
    return Hydraulics(n=n, b=b, Wb=Wb, Db=Db, S0=S0, Qbf=Qbf, z_ref=z_ref, Y_ref=Y_ref, W_ref=W_ref,
                      A0=A0, bed=bed, node_width_factor=f, Q=Q, lateral=lateral, S=S, Y=Y, W=W, A=A, H=H)
