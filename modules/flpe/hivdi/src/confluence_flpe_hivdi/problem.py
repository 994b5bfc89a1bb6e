"""From a reach set's observations and SoS priors to the inverse problem (pure: no files).

Builds, for a set of reaches ordered upstream to downstream (a single reach is a set of one):

- the set's time axis: every reach's valid times, times closer than ``time_tolerance`` being one
  pass (:func:`set_times`);
- the effective channel (:class:`~.backwater.Channel`, H1-H2): a model node at every SWORD node,
  on the reach's straight median water-surface profile, each reach one effective section shape
  (its width-stage curve, :func:`width_levels`);
- the observations: node water-surface elevations with their error (H7);
- the background (priors) of every control (H8-H10), which is also the first guess.

Decisions (documented in docs/science.md, section HiVDI):

- **Valid time** of a reach: finite width (> 0), wse, slope and time.
- **Node order.** Nodes are sorted by id; SWORD numbers them from the downstream end, but some
  inputs (the Pepsi cross-sections) number them from upstream, so when the nodes' median
  elevations fall with the id, the id order is taken as upstream to downstream.
- **Node spacing**: the SWORD reach length over the number of nodes (``node_spacing`` metres
  when SWORD gives none).
- **One section shape per reach**: the node widths (15 % noise each on SWOT) only enter through
  the reach width; a node's section is the reach's, at the node's own median stage.
- **Times with fewer than two observed nodes** (and reaches with fewer than two nodes) are
  observed through two pseudo-nodes at the reach's ends, from the reach's wse and slope.
- **Outlier nodes**: more than 5 errors from the time's straight profile are not used.
- **Stretches**: consecutive reaches whose median water surfaces miss each other by more than
  ``max_junction_gap`` at the junction are separate stretches, each with its own downstream
  elevation per time (default 0: every reach is its own stretch).
- **Lateral inflow**: reach r carries ``share_r`` times the set's reference discharge, with
  ``share_r`` proportional to its SWORD flow accumulation (1 when one is missing).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from confluence_core.errors import NotEnoughDataError
from confluence_flpe.interface import Priors, ReachObs

from .backwater import Channel, Controls
from .config import HivdiConfig

#: Moody & Troutman (2002): mean depth (m) = 0.27 Q^0.39 at the mean flow Q (m3/s).
_MT_DEPTH = (0.27, 0.39)


@dataclass
class ReachGeometry:
    """One reach's part of the channel and of the observations.

    Attributes
    ----------
    n : int
        Model nodes of the reach.
    x : ndarray [n]
        Node positions from the reach's upstream end (m).
    z_line : ndarray [n]
        The median-stage profile (straight line) at the nodes (m).
    delta_lo : float
        Median minus lowest observed reach wse (m).
    levels : ndarray [3]
        The three levels of the width-stage curve (H1), relative to the median stage (m).
    widths : ndarray [3]
        Their widths (m, non-decreasing).
    z_obs : ndarray [n, nt]
        Node elevations used as observations (NaN elsewhere), reach time index.
    sigma_z : float
        Their 1-sigma error (m), independent between times (H7).
    pseudo : ndarray of bool [nt]
        Times observed through the two pseudo-nodes.
    sigma_node : float
        1-sigma error (m) shared by all times of a node (H7; 0 until estimated).
    """

    n: int
    x: np.ndarray
    z_line: np.ndarray
    delta_lo: float
    levels: np.ndarray
    widths: np.ndarray
    z_obs: np.ndarray
    sigma_z: float
    pseudo: np.ndarray
    sigma_node: float = 0.0

    @property
    def z_lo(self) -> np.ndarray:
        return self.z_line - self.delta_lo

    @property
    def rates(self) -> tuple[float, float]:
        """Widening rates between levels 1-2 and 2-3 (m/m)."""
        dz = np.diff(self.levels)
        dw = np.diff(self.widths)
        r = np.where(dz > 0, dw / np.where(dz > 0, dz, 1.0), 0.0)
        return float(r[0]), float(r[1])

    @property
    def area_lo_to_median(self) -> float:
        """Flow area between the lowest and the median observed stage (m2)."""
        (z1, z2), (r12, r23) = self.levels[:2], self.rates
        zs = np.array([-self.delta_lo, 0.0])
        u, v = np.clip(zs, z1, z2) - z1, np.maximum(zs - z2, 0.0)
        a = self.widths[0] * zs + r12 * (0.5 * u * u + (z2 - z1) * v) + 0.5 * r23 * v * v
        return float(a[1] - a[0])


@dataclass
class Background:
    """Priors of the controls (H8-H10): means and 1-sigma scales (ln where the control is)."""

    log_q: np.ndarray  # [T]
    sigma_log_qbar: float
    sigma_log_q: float
    z_out: np.ndarray  # [S, T]
    sigma_bc: float
    log_kref: np.ndarray  # [R]
    sigma_log_kref: np.ndarray  # [R]
    beta: np.ndarray  # [R]
    sigma_beta: float
    log_depth: np.ndarray  # [R]
    sigma_log_depth: np.ndarray  # [R]
    sigma_tilt: float

    def first_guess(self) -> Controls:
        """The background itself (tilt 0)."""
        return Controls(self.log_q.copy(), self.z_out.copy(), self.log_kref.copy(), self.beta.copy(),
                        self.log_depth.copy(), np.zeros_like(self.log_depth))


@dataclass
class Problem:
    """A set's inverse problem.

    Attributes
    ----------
    channel : Channel
    times : ndarray [T]
        Representative time of each set time (s since 2000-01-01).
    time_index : list of ndarray
        Per reach, ``[nt_r]`` set time of each reach time (-1: not valid).
    nodes : list of slice
        Per reach, its nodes in the channel.
    obs_node, obs_time : ndarray of int [M]
        Channel node and set time of each observation.
    obs_z, obs_sigma : ndarray [M]
        Observed elevation (m) and its error independent between times (m), grouped by node.
    node_offset : ndarray [N]
        Estimated error shared by all times of a node (m, H7; 0 until estimated).
    background : Background
    geometry : list of ReachGeometry
    """

    channel: Channel
    times: np.ndarray
    time_index: list[np.ndarray]
    nodes: list[slice]
    obs_node: np.ndarray
    obs_time: np.ndarray
    obs_z: np.ndarray
    obs_sigma: np.ndarray
    node_offset: np.ndarray
    background: Background
    geometry: list[ReachGeometry]

    @property
    def nt(self) -> int:
        return int(self.times.shape[0])


def valid_times(obs: ReachObs) -> np.ndarray:
    """Times HiVDI uses: finite width (> 0), wse, slope and time."""
    with np.errstate(invalid="ignore"):
        return np.asarray(obs.valid & (obs.width > 0) & np.isfinite(obs.time))


def set_times(times: Sequence[np.ndarray], valid: Sequence[np.ndarray],
              tolerance: float) -> tuple[np.ndarray, list[np.ndarray]]:
    """The set's time axis: valid times of every reach, those within ``tolerance`` s one pass.

    Returns
    -------
    (ndarray [T], list of ndarray [nt_r])
        The mean time of each pass and, per reach, the pass of each of its times (-1: not valid).
    """
    pairs = [(float(t), r, k) for r, (tr, ok) in enumerate(zip(times, valid, strict=True))
             for k, t in enumerate(np.asarray(tr, dtype=np.float64)) if ok[k]]
    pairs.sort()
    index = [np.full(np.size(t), -1, dtype=np.int64) for t in times]
    reps: list[list[float]] = []
    last = -np.inf
    for t, r, k in pairs:
        if t - last > tolerance:
            reps.append([])
        reps[-1].append(t)
        last = t
        index[r][k] = len(reps) - 1
    return np.asarray([np.mean(v) for v in reps], dtype=np.float64), index


def node_order(obs: ReachObs, valid: np.ndarray) -> np.ndarray | None:
    """Node indices upstream to downstream (see the module docstring), None without node data."""
    z = obs.node_wse
    if z is None or obs.node_width is None or z.ndim != 2 or z.shape[1] != obs.nt or z.shape[0] < 1 \
            or obs.node_width.shape != z.shape or not np.isfinite(z[:, valid]).any():
        return None
    ids = obs.node_id if obs.node_id is not None and obs.node_id.shape == (z.shape[0],) else np.arange(z.shape[0])
    order = np.argsort(ids, kind="stable")
    zv = z[order][:, valid]
    have = np.isfinite(zv).any(axis=1)
    if np.count_nonzero(have) >= 2:
        med = np.array([np.median(row[np.isfinite(row)]) for row in zv[have]])
        if np.polyfit(np.flatnonzero(have).astype(float), med, 1)[0] < 0:
            return np.asarray(order)  # ids increase downstream
    return np.asarray(order[::-1])  # SWORD: ids increase upstream


def _line_residuals(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Residuals of each column of ``z`` [n, nt] about its least-squares line in ``x`` (NaN where unfit)."""
    ok = np.isfinite(z)
    cnt = ok.sum(axis=0)
    xs = np.where(ok, x[:, None], 0.0)
    zs = np.where(ok, z, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        xm, zm = xs.sum(axis=0) / cnt, zs.sum(axis=0) / cnt
        sxx = (np.where(ok, (x[:, None] - xm) ** 2, 0.0)).sum(axis=0)
        sxz = (np.where(ok, (x[:, None] - xm) * (z - zm), 0.0)).sum(axis=0)
        slope = np.where(sxx > 0, sxz / sxx, 0.0)
        res = z - (zm + slope * (x[:, None] - xm))
    return np.where(ok & (cnt >= 3), res, np.nan)


def _robust_sd(values: np.ndarray) -> float:
    v = values[np.isfinite(values)]
    return float(1.4826 * np.median(np.abs(v - np.median(v)))) if v.size >= 5 else float("nan")


def reach_geometry(obs: ReachObs, valid: np.ndarray, cfg: HivdiConfig) -> ReachGeometry:
    """The reach's nodes, effective sections and observations (see the module docstring)."""
    wse, width, slope = obs.wse[valid], obs.width[valid], obs.slope[valid]
    wse_med = float(np.median(wse))
    order = node_order(obs, valid)
    order = order if order is not None and order.size >= 2 else None
    n = order.size if order is not None else max(3, round(_length(obs, 0, cfg) / cfg.node_spacing))
    length = _length(obs, n, cfg)
    x = (np.arange(n) + 0.5) * length / n
    z_obs = np.full((n, obs.nt), np.nan)
    line = wse_med + float(np.median(slope)) * (length / 2 - x)
    sigma = float("nan")
    if order is not None and obs.node_wse is not None:  # node_order returns an order only with node_wse
        zn = np.where(valid[None, :], obs.node_wse[order], np.nan)
        res = _line_residuals(x, zn)
        sigma = _robust_sd(res)
        if np.isfinite(sigma):
            zn = np.where(np.abs(np.nan_to_num(res)) > 5 * max(sigma, cfg.sigma_z_floor), np.nan, zn)
        z_obs = zn
        offset = _nanmedian_rows(zn - obs.wse[None, :])
        have = np.isfinite(offset)
        if np.count_nonzero(have) >= 2:
            line = np.asarray(np.polyval(np.polyfit(x[have], wse_med + offset[have], 1), x), dtype=np.float64)
    pseudo = valid & (np.isfinite(z_obs).sum(axis=0) < 2)
    if pseudo.any():
        z_obs[:, pseudo] = np.nan
        for j in (0, n - 1):
            z_obs[j, pseudo] = obs.wse[pseudo] + obs.slope[pseudo] * (length / 2 - x[j])
    if not np.isfinite(sigma):
        wse_u = obs.wse_u[valid] if obs.wse_u is not None else np.zeros(0)
        sigma = float(np.nanmedian(wse_u)) if np.isfinite(wse_u).any() else 0.1
    levels, widths = width_levels(wse - wse_med, width)
    return ReachGeometry(n, x, line, float(wse_med - np.min(wse)), levels, widths, z_obs,
                         max(sigma, cfg.sigma_z_floor), pseudo)


def width_levels(stage: np.ndarray, width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Three levels of the width-stage curve (H1): the medians of the lowest, middle and highest third.

    Stages and widths of each third of the observations sorted by stage; the widths are made
    non-decreasing with stage (a wider channel at a lower stage would not be an effective section).
    """
    order = np.argsort(stage, kind="stable")
    parts = np.array_split(order, 3) if order.size >= 3 else [order] * 3
    levels = np.array([np.median(stage[p]) for p in parts])
    widths = np.maximum.accumulate(np.array([np.median(width[p]) for p in parts]))
    return levels, widths


def _nanmedian_rows(a: np.ndarray) -> np.ndarray:
    out = np.full(a.shape[0], np.nan)
    for i, row in enumerate(a):
        v = row[np.isfinite(row)]
        if v.size:
            out[i] = np.median(v)
    return out


def _length(obs: ReachObs, n: int, cfg: HivdiConfig) -> float:
    """Reach length (m): SWORD's, else ``node_spacing`` per node (10 km when there are no nodes)."""
    if np.isfinite(obs.reach_length) and obs.reach_length > 0:
        return float(obs.reach_length)
    return cfg.node_spacing * n if n else 10_000.0


def shares(obs: Sequence[ReachObs]) -> np.ndarray:
    """Discharge share of each reach: flow accumulation over its geometric mean (1 when one is missing)."""
    facc = np.asarray([o.facc for o in obs], dtype=np.float64)
    if not np.all(np.isfinite(facc) & (facc > 0)):
        return np.ones(len(obs))
    return np.asarray(facc / np.exp(np.mean(np.log(facc))))


def _gb(pri: Priors, name: str) -> float:
    v = pri.gb.get(name, float("nan"))
    return float(v) if v is not None and np.isfinite(v) else float("nan")


def build(reaches: Sequence[tuple[ReachObs, Priors]], cfg: HivdiConfig) -> Problem:
    """The inverse problem of a reach set (upstream to downstream).

    Raises
    ------
    NotEnoughDataError
        When a reach has fewer than ``min_obs`` valid times, or no reach has an SoS mean flow.
    """
    obs = [o for o, _ in reaches]
    pri = [p for _, p in reaches]
    valid = [valid_times(o) for o in obs]
    for o, v in zip(obs, valid, strict=True):
        if np.count_nonzero(v) < cfg.min_obs:
            raise NotEnoughDataError(f"reach {o.reach_id}: {np.count_nonzero(v)} valid times, "
                                     f"HiVDI needs {cfg.min_obs}")
    share = shares(obs)
    levels = [np.log(p.mean_q / s) for p, s in zip(pri, share, strict=True) if np.isfinite(p.mean_q) and p.mean_q > 0]
    if not levels:
        raise NotEnoughDataError("no SoS mean_q prior (the inflow prior of HiVDI)")
    level = float(np.mean(levels))
    times, index = set_times([o.time for o in obs], valid, cfg.time_tolerance)
    geo = [reach_geometry(o, v, cfg) for o, v in zip(obs, valid, strict=True)]
    low = [_low_area_prior(o, p, v, g, float(np.exp(level)) * s, cfg)
           for o, p, v, g, s in zip(obs, pri, valid, geo, share, strict=True)]
    h_ref = np.asarray([(a + g.area_lo_to_median) / float(np.interp(0.0, g.levels, g.widths))
                        for (a, _), g in zip(low, geo, strict=True)])
    channel, nodes = _channel(geo, share, h_ref, cfg.max_junction_gap)
    obs_node, obs_time, obs_z, obs_sigma = _observations(geo, nodes, index)
    bg = _background(obs, pri, valid, index, geo, low, level, channel, cfg)
    return Problem(channel, times, index, nodes, obs_node, obs_time, obs_z, obs_sigma, np.zeros(channel.n), bg, geo)


def junction_gaps(geo: Sequence[ReachGeometry]) -> np.ndarray:
    """Mismatch (m) of the median-stage lines of consecutive reaches at their junction ``[R - 1]``."""
    out = []
    for up, dn in itertools.pairwise(geo):
        end_up = up.z_line[-1] + (up.z_line[-1] - up.z_line[0]) / max(up.x[-1] - up.x[0], 1e-9) * up.x[0]
        start_dn = dn.z_line[0] - (dn.z_line[-1] - dn.z_line[0]) / max(dn.x[-1] - dn.x[0], 1e-9) * dn.x[0]
        out.append(end_up - start_dn)
    return np.asarray(out, dtype=np.float64)


def _channel(geo: Sequence[ReachGeometry], share: np.ndarray, h_ref: np.ndarray,
             max_gap: float) -> tuple[Channel, list[slice]]:
    """Chain the reaches' nodes upstream to downstream, cut where the surfaces do not join."""
    offset, x, nodes = 0.0, [], []
    start = 0
    for g in geo:
        x.append(offset + g.x)
        offset += g.x[-1] + g.x[0]  # the reach's length: its nodes sit at (k + 1/2) dx
        nodes.append(slice(start, start + g.n))
        start += g.n

    def per_node(f: Callable[[ReachGeometry], np.ndarray | float]) -> np.ndarray:
        return np.concatenate([np.broadcast_to(f(g), (g.n,)) for g in geo]).astype(np.float64)

    ch = Channel(
        x=np.concatenate(x), z_lo=per_node(lambda g: g.z_lo),
        z1=per_node(lambda g: np.maximum(g.z_line + g.levels[0], g.z_lo)),
        z2=per_node(lambda g: np.maximum(g.z_line + g.levels[1], g.z_lo)),
        w1=per_node(lambda g: float(g.widths[0])), rate12=per_node(lambda g: g.rates[0]),
        rate23=per_node(lambda g: g.rates[1]),
        reach=np.concatenate([np.full(g.n, r) for r, g in enumerate(geo)]),
        s=per_node(lambda g: (g.x - g.x[0]) / (g.x[-1] - g.x[0]) if g.n > 1 else 0.5),
        share=np.asarray(share, dtype=np.float64), h_ref=h_ref,
        segment=np.repeat(np.r_[0, np.cumsum(np.abs(junction_gaps(geo)) > max_gap)], [g.n for g in geo]),
    )
    return ch, nodes


def _observations(geo: Sequence[ReachGeometry], nodes: Sequence[slice],
                  index: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    node, time, z, sigma = [], [], [], []
    for g, sl, idx in zip(geo, nodes, index, strict=True):
        i, k = np.nonzero(np.isfinite(g.z_obs) & (idx >= 0)[None, :])
        node.append(sl.start + i)
        time.append(idx[k])
        z.append(g.z_obs[i, k])
        sigma.append(np.full(i.size, g.sigma_z))
    return (np.concatenate(node), np.concatenate(time), np.concatenate(z), np.concatenate(sigma))


def _background(obs: Sequence[ReachObs], pri: Sequence[Priors], valid: Sequence[np.ndarray],
                index: Sequence[np.ndarray], geo: Sequence[ReachGeometry], low: Sequence[tuple[float, float]],
                level: float, ch: Channel, cfg: HivdiConfig) -> Background:
    """Priors (H8-H10) and the downstream elevations' first guess."""
    R, T = len(obs), int(max((int(i.max()) for i in index), default=-1)) + 1
    log_kref, sd_kref, log_depth, sd_depth = (np.empty(R) for _ in range(4))
    log_shape, count = np.zeros(T), np.zeros(T)
    for r, (o, p, v, idx, g) in enumerate(zip(obs, pri, valid, index, geo, strict=True)):
        logn, sd_n = _gb(p, "logn_hat"), _gb(p, "logn_sd")
        log_kref[r] = -logn if np.isfinite(logn) else -np.log(cfg.n_default)
        sd_kref[r] = sd_n if np.isfinite(sd_n) and sd_n > 0 else cfg.sigma_log_n_default
        a_lo, sd_depth[r] = low[r]
        log_depth[r] = np.log(a_lo / float(g.widths[0]))
        shape = _low_froude_shape(o, v, a_lo, cfg.beta_prior)
        k = np.flatnonzero(v & np.isfinite(shape))
        np.add.at(log_shape, idx[k], np.log(shape[k]))
        np.add.at(count, idx[k], 1.0)
    log_shape = np.where(count > 0, log_shape / np.maximum(count, 1), 0.0)
    log_shape -= np.log(np.mean(np.exp(log_shape)))
    # each stretch's median profile at its outlet, moved by the pass's mean stage anomaly
    seg_of_reach = ch.segment[[sl.stop - 1 for sl in _slices(geo)]]
    anomaly = _mean_anomaly(obs, valid, index, T)
    z_out = np.empty((ch.n_segments, T))
    for seg in range(ch.n_segments):
        mine = np.flatnonzero(seg_of_reach == seg).tolist()
        own = _mean_anomaly([obs[r] for r in mine], [valid[r] for r in mine], [index[r] for r in mine], T,
                            fallback=anomaly)
        z_out[seg] = geo[mine[-1]].z_line[-1] + own
    return Background(
        log_q=level + log_shape, sigma_log_qbar=max(p.mean_q_log_sd(cfg.sigma_log_qbar) for p in pri),
        sigma_log_q=cfg.sigma_log_q,
        z_out=z_out, sigma_bc=cfg.sigma_bc, log_kref=log_kref, sigma_log_kref=sd_kref,
        beta=np.full(R, cfg.beta_prior), sigma_beta=cfg.sigma_beta, log_depth=log_depth,
        sigma_log_depth=sd_depth, sigma_tilt=cfg.sigma_tilt,
    )


def _mean_anomaly(obs: Sequence[ReachObs], valid: Sequence[np.ndarray], index: Sequence[np.ndarray],
                  T: int, fallback: np.ndarray | None = None) -> np.ndarray:
    """Per set time, the mean over the reaches seen of their wse minus their median wse (m).

    Times none of them saw take ``fallback`` (else 0).
    """
    total, count = np.zeros(T), np.zeros(T)
    for o, v, idx in zip(obs, valid, index, strict=True):
        np.add.at(total, idx[v], o.wse[v] - np.median(o.wse[v]))
        np.add.at(count, idx[v], 1.0)
    other = np.zeros(T) if fallback is None else fallback
    return np.where(count > 0, total / np.maximum(count, 1), other)


def _slices(geo: Sequence[ReachGeometry]) -> list[slice]:
    ends = np.cumsum([g.n for g in geo])
    return [slice(int(e - g.n), int(e)) for e, g in zip(ends, geo, strict=True)]


def _low_area_prior(o: ReachObs, p: Priors, v: np.ndarray, g: ReachGeometry, mean_q: float,
                    cfg: HivdiConfig) -> tuple[float, float]:
    """Flow area at the lowest observed stage (m2) and the sd of its ln (H10).

    geoBAM's ``logA0_hat`` (BAM's A0 is the area at the lowest observed stage) with ``logA0_sd``;
    without it, the Moody & Troutman (2002) mean depth ``0.27 Q^0.39`` at the reach's mean flow
    (the SoS ``mean_q``, else the set's) times the median width, less the area between the
    median and the lowest stage.
    """
    loga, sd = _gb(p, "logA0_hat"), _gb(p, "logA0_sd")
    if np.isfinite(loga):
        return float(np.exp(loga)), sd if np.isfinite(sd) and sd > 0 else cfg.sigma_log_a0_default
    q = p.mean_q if np.isfinite(p.mean_q) and p.mean_q > 0 else mean_q
    full = float(np.median(o.width[v])) * _MT_DEPTH[0] * q ** _MT_DEPTH[1]
    return max(full - g.area_lo_to_median, 0.3 * full), cfg.sigma_log_a0_default


def _low_froude_shape(o: ReachObs, v: np.ndarray, a_lo: float, beta: float) -> np.ndarray:
    """The low-Froude discharge of each time over its mean (H8), NaN where undefined.

    ``K (A/W)^beta A^(5/3) W^(-2/3)`` with ``A = a_lo + dA - min(dA)``: the HiVDI law at a constant
    slope, so the shape carries the stage and width information and not the slope's.
    """
    da = np.where(v, o.d_x_area, np.nan)
    if not np.isfinite(da).any():
        return np.full(o.nt, np.nan)
    area = a_lo + da - np.nanmin(da)
    w = np.where(v, o.width, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = (area / w) ** beta * area ** (5 / 3) * w ** (-2 / 3)
    q = np.where(np.isfinite(q) & (q > 0), q, np.nan)
    return np.asarray(q / np.nanmean(q)) if np.isfinite(q).any() else q
