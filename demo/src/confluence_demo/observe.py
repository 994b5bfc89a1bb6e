"""SWOT observations of the demo world: pass schedule, measurement errors, planted bad data.

Schedule: the 21-day repeat orbit has 584 passes per cycle; pass ``p`` of
cycle ``c`` flies at ``START + (c-1) 21 d + (p-1) 21 d / 584`` (cycles from 1).
Every reach of a basin is seen by the basin's three passes per cycle.

Errors (SWOT science requirements and early validation, e.g. Biancamaria et
al. 2016, doi:10.1007/s10712-015-9346-y; Durand et al. 2023,
doi:10.1029/2021WR031614): node WSE ~10 cm (more for narrow rivers), node
width 10-15 %, an along-reach WSE tilt giving reach slopes an error
~1.7e-5; reach WSE and slope are a least-squares line through the valid
nodes, reach width their mean (error ~ node error / sqrt(n)).

Planted bad observations (truth kept): ``ice`` (arctic basin in winter,
``ice_clim_f`` 2, WSE raised, width cut), ``dark`` (``dark_frac`` > 0.6,
width biased low), ``xovr`` (``xovr_cal_q`` 2, WSE offset of 0.5-3 m),
``outlier`` (WSE +-3-8 m or width x2.5-3.5, no flag); node-only outliers too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from .hydrology import Hydraulics
from .network import Network

#: Start of cycle 1 (the SWOT science orbit began on 2023-07-21).
START = dt.datetime(2023, 7, 21, 0, 0, 0)
#: SWOT time epoch: ``time`` is seconds since 2000-01-01T00:00:00 UTC (leap seconds ignored).
EPOCH = dt.datetime(2000, 1, 1)
REPEAT_DAYS = 21
PASSES_PER_CYCLE = 584
PASSES_PER_BASIN = 3
#: Ground speed used for along-track time offsets (m/s).
GROUND_SPEED = 7000.0

BAD_KINDS = {0: "none", 1: "ice", 2: "dark", 3: "xovr", 4: "outlier"}
ICE, DARK, XOVR, OUTLIER = 1, 2, 3, 4

#: Bits of reach_q_b / node_q_b used by the demo world (a subset of the product's bitwise
#: quality flag; the summary flags reach_q / node_q carry the same information).
QB_XOVR_SUSPECT = 1 << 3
QB_PARTIAL = 1 << 15
QB_DARK_DEGRADED = 1 << 18
QB_ICE_DEGRADED = 1 << 19
QB_XOVR_DEGRADED = 1 << 20


@dataclass(frozen=True)
class Rates:
    """Planted-bad probabilities per reach observation (ice is set by season, not by rate)."""

    dark: float = 0.012
    xovr: float = 0.008
    outlier: float = 0.012
    node_outlier: float = 0.004
    node_missing: float = 0.03
    gap: float = 0.04
    ice: bool = True


DEMO_RATES = Rates()
BENCH_RATES = Rates(dark=0.004, xovr=0.003, outlier=0.004, node_outlier=0.001, gap=0.02, ice=False)


@dataclass
class Schedule:
    """Overpasses of each basin: arrays aligned per basin overpass."""

    basin: np.ndarray  # basin index
    cycle: np.ndarray
    pass_: np.ndarray
    time: np.ndarray  # s since EPOCH at the pass reference point
    passes_of_basin: dict[int, list[int]]
    n_days: int


def seconds(d: dt.datetime) -> float:
    """Seconds since the SWOT epoch (2000-01-01T00:00:00)."""
    return (d - EPOCH).total_seconds()


def time_str(t: np.ndarray) -> np.ndarray:
    """``YYYY-MM-DDThh:mm:ssZ`` of SWOT times (s since 2000-01-01); NaN -> ``no_data``."""
    t = np.asarray(t, dtype=np.float64)
    out = np.full(t.shape, "no_data", dtype=object)
    ok = np.isfinite(t)
    stamps = np.datetime64("2000-01-01T00:00:00", "s") + np.floor(t[ok]).astype("timedelta64[s]")
    out[ok] = np.char.add(np.datetime_as_string(stamps, unit="s").astype(str), "Z")
    return out


def make_schedule(net: Network, n_passes: int, rng: np.random.Generator) -> Schedule:
    """Pick three passes per basin and list the first ``n_passes`` overpasses of each basin.

    Basins on one continent draw their passes from a shared pool (so granules
    hold several basins); the three passes of a basin are a week apart.
    """
    n_cycles = -(-n_passes // PASSES_PER_BASIN) + 1
    pools: dict[str, list[int]] = {}
    for cont in sorted({s.continent for s in net.specs}):
        first = int(rng.integers(1, PASSES_PER_CYCLE // 3))
        pools[cont] = [first + k * (PASSES_PER_CYCLE // 3) + j * 17 for k in range(3) for j in range(3)]
    basin, cycle, pass_, time = [], [], [], []
    passes_of_basin = {}
    t0 = seconds(START)
    for b, spec in enumerate(net.specs):
        pool = pools[spec.continent]
        pick = [pool[3 * k + int(rng.integers(0, 3))] for k in range(3)]
        passes_of_basin[b] = pick
        c = np.repeat(np.arange(1, n_cycles + 1), len(pick))
        p = np.tile(pick, n_cycles)
        t = t0 + (c - 1) * REPEAT_DAYS * 86400.0 + (p - 1) * REPEAT_DAYS * 86400.0 / PASSES_PER_CYCLE + 60.0
        order = np.argsort(t, kind="stable")[:n_passes]
        basin.append(np.full(order.size, b))
        cycle.append(c[order])
        pass_.append(p[order])
        time.append(t[order])
    all_t = np.concatenate(time)
    n_days = max(365, int(np.ceil((all_t.max() - t0) / 86400.0)) + 1)
    return Schedule(np.concatenate(basin), np.concatenate(cycle), np.concatenate(pass_),
                    np.concatenate(time), passes_of_basin, n_days)


@dataclass
class Observations:
    """Reach observations (arrays [M]) and node observations (arrays [L]), truth beside values."""

    # reach observations
    r: np.ndarray  # reach index
    cycle: np.ndarray
    pass_: np.ndarray
    version: np.ndarray  # "PGA2" or "D"
    time: np.ndarray  # s since 2000-01-01
    day: np.ndarray  # day index into the daily truth
    values: dict[str, np.ndarray]  # reach fields of the product (NaN = fill)
    true: dict[str, np.ndarray]  # q, wse, width, slope, area, d_x_area
    bad_kind: np.ndarray  # int8, 0 none
    xtrk_outside: np.ndarray  # bool: |xtrk_dist| outside 10-60 km
    # node observations
    node_obs: np.ndarray  # reach-observation index of each node observation
    node: np.ndarray  # node index
    node_values: dict[str, np.ndarray]
    node_true: dict[str, np.ndarray]  # wse, width
    node_observed: np.ndarray  # bool
    node_bad_kind: np.ndarray  # int8


def observe(net: Network, hyd: Hydraulics, sched: Schedule, rng: np.random.Generator,
            rates: Rates) -> Observations:
    """Simulate every reach and node observation of the schedule."""
    # ---------------- reach observations: every reach of a basin at each of its overpasses
    per_basin = [np.flatnonzero(net.basin_index == b) for b in range(len(net.specs))]
    ov_idx = np.arange(sched.basin.size)
    r_list, ov_list = [], []
    for b, members in enumerate(per_basin):
        ovs = ov_idx[sched.basin == b]
        r_list.append(np.tile(members, ovs.size))
        ov_list.append(np.repeat(ovs, members.size))
    r = np.concatenate(r_list)
    ov = np.concatenate(ov_list)
    M = r.size
    basin_north_min = np.array([net.node_north[np.isin(net.node_reach, m)].min() for m in per_basin])
    basin_east_mean = np.array([net.east[m].mean() for m in per_basin])
    cycle = sched.cycle[ov]
    pass_ = sched.pass_[ov]
    last_pga2 = round(int(sched.cycle.max()) * 2 / 3)
    version = np.where(cycle > last_pga2, "D", "PGA2").astype(object)
    b_of = net.basin_index[r]
    t_r = sched.time[ov] + (net.north[r] - basin_north_min[b_of]) / GROUND_SPEED
    day = np.minimum(((t_r - seconds(START)) // 86400).astype(np.int64), hyd.Q.shape[1] - 1)
    date = np.datetime64(START.date()) + day.astype("timedelta64[D]")
    month = (date.astype("datetime64[M]").astype(np.int64) % 12) + 1
    mday = (date - date.astype("datetime64[M]")).astype(np.int64) + 1

    # cross-track distance: a signed offset per (basin, pass) and the reach's east position
    xtrk_base = {}
    for b, passes in sched.passes_of_basin.items():
        for p in passes:
            xtrk_base[(b, p)] = rng.choice([-1.0, 1.0]) * rng.uniform(18e3, 48e3)
    base = np.array([xtrk_base[(b, p)] for b, p in zip(b_of, pass_, strict=True)])
    xtrk_r = base + 0.5 * (net.east[r] - basin_east_mean[b_of])

    # ---------------- planted bad kinds per reach observation
    kind = np.zeros(M, dtype=np.int8)
    regime = np.array([net.specs[b].regime for b in b_of])
    arctic = regime == "arctic"
    in_winter = (month == 12) & (mday >= 10) | np.isin(month, [1, 2]) | (month == 3) & (mday <= 20)
    shoulder = np.isin(month, [11, 4]) | (month == 12) & (mday < 10) | (month == 3) & (mday > 20)
    if rates.ice:
        kind[arctic & in_winter] = ICE
    u = rng.random(M)
    free = kind == 0
    kind[free & (u < rates.dark)] = DARK
    kind[free & (u >= rates.dark) & (u < rates.dark + rates.xovr)] = XOVR
    kind[free & (u >= rates.dark + rates.xovr) & (u < rates.dark + rates.xovr + rates.outlier)] = OUTLIER

    # ---------------- node observations
    nn = net.n_nodes[r]
    L = int(nn.sum())
    node_obs = np.repeat(np.arange(M), nn)
    first = np.concatenate([[0], np.cumsum(nn)[:-1]])
    within = np.arange(L) - first[node_obs]
    node = net.node_start[r][node_obs] + within
    rn = r[node_obs]
    dn = day[node_obs]
    centre = net.dist_out[rn] - net.length[rn] / 2.0
    dx = net.node_dist_out[node] - centre
    H_true = hyd.H[rn, dn] + hyd.S[rn, dn] * dx
    W_true = hyd.W[rn, dn] * hyd.node_width_factor[node]

    # observed nodes: random drop-outs and contiguous gaps on a few passes
    observed = rng.random(L) >= rates.node_missing
    gap = rng.random(M) < rates.gap
    gap_len = np.rint(nn * rng.uniform(0.2, 0.45, M)).astype(np.int64)
    gap_start = (rng.random(M) * (nn - gap_len + 1)).astype(np.int64)
    in_gap = gap[node_obs] & (within >= gap_start[node_obs]) & (within < (gap_start + gap_len)[node_obs])
    observed &= ~in_gap

    # measurement errors
    sig_h = np.clip(0.1 * np.sqrt(150.0 / W_true), 0.05, 0.25)
    tilt = rng.normal(0.0, 1.5e-5, M)
    wse = H_true + rng.normal(0.0, 1.0, L) * sig_h + tilt[node_obs] * dx
    sig_w = rng.uniform(0.10, 0.15, L)
    wid = W_true * (1.0 + sig_w * rng.normal(0.0, 1.0, L))
    wid = np.maximum(wid, 0.2 * W_true)
    dark_frac = rng.beta(1.2, 25.0, L)
    n_pix = np.maximum(10, np.rint(W_true * net.node_length[node] / rng.uniform(300.0, 600.0, L)))

    # corruption of planted kinds (all nodes of the observation)
    nk = kind[node_obs]
    ice_h = rng.uniform(0.3, 1.5, M)[node_obs]
    ice_w = rng.uniform(0.3, 0.8, M)[node_obs]
    wse = np.where(nk == ICE, wse + ice_h + rng.normal(0, 0.2, L), wse)
    wid = np.where(nk == ICE, wid * ice_w, wid)
    dark_w = rng.uniform(0.4, 0.7, M)[node_obs]
    wid = np.where(nk == DARK, wid * dark_w, wid)
    dark_frac = np.where(nk == DARK, rng.uniform(0.62, 0.95, L), dark_frac)
    xo = (rng.choice([-1.0, 1.0], M) * rng.uniform(0.5, 3.0, M))[node_obs]
    wse = np.where(nk == XOVR, wse + xo, wse)
    out_wse = rng.random(M) < 0.5
    out_h = (rng.choice([-1.0, 1.0], M) * rng.uniform(3.0, 8.0, M))[node_obs]
    out_f = rng.uniform(2.5, 3.5, M)[node_obs]
    is_out = nk == OUTLIER
    wse = np.where(is_out & out_wse[node_obs], wse + out_h, wse)
    wid = np.where(is_out & ~out_wse[node_obs], wid * out_f, wid)

    node_kind = nk.copy()
    node_only = (nk == 0) & observed & (rng.random(L) < rates.node_outlier)
    node_kind[node_only] = OUTLIER
    pick_h = rng.random(L) < 0.5
    wse = np.where(node_only & pick_h, wse + rng.choice([-1.0, 1.0], L) * rng.uniform(3.0, 8.0, L), wse)
    wid = np.where(node_only & ~pick_h, wid * 3.0, wid)
    node_kind[~observed] = 0  # a node without a value cannot be bad

    # ---------------- reach values from the valid nodes (node-only outliers are rejected by the
    # reach fit, as the product's robust fit would)
    used = observed & ~node_only
    w = used.astype(np.float64)
    n_used = np.bincount(node_obs, weights=w, minlength=M)

    def ssum(v: np.ndarray) -> np.ndarray:
        return np.bincount(node_obs, weights=np.where(used, v, 0.0), minlength=M)

    sx, sh, sxx, sxh = ssum(dx), ssum(wse), ssum(dx * dx), ssum(dx * wse)
    with np.errstate(invalid="ignore", divide="ignore"):
        den = n_used * sxx - sx * sx
        slope = (n_used * sxh - sx * sh) / den
        wse_r = (sh - slope * sx) / n_used
        width_r = ssum(wid) / n_used
        width_u = np.sqrt(ssum((sig_w * wid) ** 2)) / n_used
        wse_u = np.sqrt(ssum(sig_h**2)) / n_used
        slope_u = np.sqrt(1.5e-5**2 + (ssum(sig_h**2) / n_used) / np.maximum(sxx - sx * sx / n_used, 1e-9))
        dark_r = ssum(dark_frac * wid) / ssum(wid)
    too_few = n_used < 2
    for arr in (slope, wse_r, width_r, width_u, wse_u, slope_u, dark_r):
        arr[too_few] = np.nan
    obs_frac = n_used / nn

    # truth per reach observation
    q_true = hyd.Q[r, day]
    true = {
        "q": q_true, "wse": hyd.H[r, day], "width": hyd.W[r, day], "slope": hyd.S[r, day],
        "area": hyd.A[r, day], "d_x_area": hyd.A[r, day] - hyd.A0[r],
    }
    # d_x_area from the observed width and WSE against the reference (median) state
    W_ref, H_ref = hyd.W_ref[r], hyd.z_ref[r]
    dA = 0.5 * (width_r + W_ref) * (wse_r - H_ref)
    dA_u = np.sqrt((0.5 * (width_r + W_ref) * wse_u) ** 2 + (0.5 * (wse_r - H_ref) * width_u) ** 2)
    slope2 = true["slope"] + 0.6 * (slope - true["slope"])

    ice_clim = np.zeros(M, dtype=np.int64)
    ice_clim[arctic & shoulder] = 1
    ice_clim[kind == ICE] = 2
    if not rates.ice:
        ice_clim[:] = 0
    ice_dyn = np.where(kind == ICE, np.where(rng.random(M) < 0.8, 2, 1), 0)
    xovr_q = np.where(rng.random(M) < 0.15, 1, 0)
    xovr_q[kind == XOVR] = 2
    partial = (obs_frac < 0.8).astype(np.int64)
    reach_q = np.where((partial == 1) | (xovr_q == 1) | (rng.random(M) < 0.05), 1, 0)
    reach_q[kind == ICE] = 2
    reach_q[kind == XOVR] = 2
    reach_q[kind == DARK] = 3
    qb = (np.where(partial == 1, QB_PARTIAL, 0) | np.where(xovr_q == 1, QB_XOVR_SUSPECT, 0)
          | np.where(kind == DARK, QB_DARK_DEGRADED, 0) | np.where(kind == ICE, QB_ICE_DEGRADED, 0)
          | np.where(kind == XOVR, QB_XOVR_DEGRADED, 0))

    values = {
        "wse": wse_r, "wse_u": wse_u, "slope": slope, "slope_u": slope_u, "slope2": slope2,
        "slope2_u": 0.6 * slope_u, "width": width_r, "width_u": width_u, "d_x_area": dA,
        "d_x_area_u": dA_u, "dark_frac": dark_r, "ice_clim_f": ice_clim, "ice_dyn_f": ice_dyn,
        "partial_f": partial, "n_good_nod": n_used.astype(np.int64), "obs_frac_n": obs_frac,
        "xovr_cal_q": xovr_q, "xtrk_dist": xtrk_r, "reach_q": reach_q, "reach_q_b": qb,
    }

    # node fields (unobserved nodes are fill)
    t_node = sched.time[ov][node_obs] + (net.node_north[node] - basin_north_min[b_of][node_obs]) / GROUND_SPEED
    nan = np.nan
    node_q = reach_q[node_obs].copy()
    node_q[sig_h > 0.15] = np.maximum(node_q[sig_h > 0.15], 1)
    node_values = {
        "time": np.where(observed, t_node, nan),
        "wse": np.where(observed, wse, nan), "wse_u": np.where(observed, sig_h, nan),
        "width": np.where(observed, wid, nan), "width_u": np.where(observed, sig_w * wid, nan),
        "dark_frac": np.where(observed, dark_frac, nan),
        "n_good_pix": np.where(observed, n_pix, nan),
        "node_q": np.where(observed, node_q, 3),
        "node_q_b": np.where(observed, qb[node_obs], 1 << 28),
        "ice_clim_f": ice_clim[node_obs], "ice_dyn_f": ice_dyn[node_obs],
        "partial_f": partial[node_obs], "xovr_cal_q": xovr_q[node_obs],
        "xtrk_dist": base[node_obs] + 0.5 * (net.node_east[node] - basin_east_mean[b_of][node_obs]),
    }
    node_true = {"wse": H_true, "width": W_true}
    xtrk_outside = (np.abs(xtrk_r) < 10e3) | (np.abs(xtrk_r) > 60e3)
    return Observations(
        r=r, cycle=cycle, pass_=pass_, version=version, time=t_r, day=day, values=values, true=true,
        bad_kind=kind, xtrk_outside=xtrk_outside, node_obs=node_obs, node=node, node_values=node_values,
        node_true=node_true, node_observed=observed, node_bad_kind=node_kind.astype(np.int8),
    )
