"""SAD science: pure numpy functions, a reach's observations and priors in, discharge out.

SWOT Assimilated Discharge (Andreadis, Brinkerhoff & Gleason 2020, doi:10.1029/2019WR026611;
the public implementations Sad.jl and SWOT-Confluence/sad give the structure).  Equation
numbers are this package's (S1-S14, the table in ``docs/science.md``, section SAD).

1. **Channel** (:func:`channel`): the reach's nodes ordered downstream to upstream, their
   chainage (SWORD reach length over the number of nodes), each node's Dingman section through
   its median observed width and stage (S4, S5), the bed slope ``S0`` (the median over times of
   the node profile's water-surface slope, as Sad.jl takes the mean observed slope), and for
   each time the water-surface elevation at the downstream node (the boundary of S1), from the
   reach's wse ``H_t`` (at the reach's centre ``xi_mid``) and slope ``S_t``::

       (S6) h_bc,t = H_t - S_t xi_mid        (S0 where S_t is not positive)
  Without node data the reach's wse, slope and width make a straight
   profile of :data:`SYNTHETIC_NODES` nodes.
2. **Prior ensemble and rejection** (:func:`rejection`): :data:`N_PROPOSALS` Latin-hypercube
   members of (mean flow, n, r, bed depth) from the priors (:mod:`.priors`); each member's
   likelihood against the observations: the median node WSE profile against the GVF profile of
   the member's median flow from the median boundary (S1-S5), and the reach's stage-width pairs
   against the member's section (S5)::

       (S12) -2 ln L = sum_k (H_k - h_k)^2 / s_H^2 + sum_t (ln W_t - ln w_t)^2 / s_W^2

   with ``s_H`` the structural error of a node WSE (:data:`MODEL_WSE_ERROR`) and ``s_W`` the
   width error (the file's ``width_u``, else none) plus the section's (:data:`WIDTH_ERROR`).  Members are accepted with
   probability ``(L / L_max)^(1/tau)`` (rejection sampling, ``tau = 1``; ``tau`` is raised just
   enough for :data:`N_MEMBERS` expected acceptances when fewer members are behavioural).
3. **Assimilation** (:func:`assimilate`): for every observation time, the state
   ``[ln Q_t, ln n, ln r, z0]`` of the accepted members, ``Q_t`` drawn around each member's mean
   flow with the seasonal ratio and day-to-day spread (:mod:`.priors`); the GVF profiles of all
   members and times at once (:func:`.gvf.profile`); then the LETKF analysis (S7-S11,
   :func:`.letkf.letkf`) on the node WSE and the reach slope (:func:`observations`).  ``Qa`` is
   the analysis ensemble's mean discharge, ``Q_u`` its standard deviation.
4. **Flow-law parameters** (:func:`flow_parameters`), as Sad.jl ``flow_parameters``::

       (S13) n = mean over times of the analysis ensemble's mean n
       (S14) A0 = mean_t [ (n Qa_t W_t^(2/3) S_t^(-1/2))^(3/5) - dA_t ]

   the flow area where ``d_x_area = 0`` of the Manning law
   (:class:`confluence_flpe.flowlaws.Manning`) that MOI and offline apply.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from confluence_flpe.interface import Priors, ReachObs

from . import gvf
from .letkf import letkf
from .priors import SadPriors, latin_hypercube, sad_priors

#: Fewest usable observation times (width, wse and slope finite).
MIN_OBS = 5
#: Proposal members of the rejection step, members kept for the filter (Sad.jl: 500-1000 samples).
N_PROPOSALS = 2000
N_MEMBERS = 100
#: Fewest members a time's analysis needs (Sad.jl ``min_ensemble_size``).
MIN_MEMBERS = 5
#: Fixed seed: the same inputs give the same results.
SEED = 1
#: SWORD's nominal node spacing (m), used when the reach length is unknown.
NODE_SPACING = 200.0
#: Nodes of the straight profile made from reach data when the file has no node data.
SYNTHETIC_NODES = 5
#: Structural (model) error of a node WSE (m) in the filter (SWOT-Confluence/sad ``sigma_obs``).
MODEL_WSE_ERROR = 0.10
#: Structural error (1 sigma) of the reach slope in the filter, relative to the bed slope.
SLOPE_ERROR = 0.10
#: Relative structural error (1 sigma) of a width given by the Dingman section.
WIDTH_ERROR = 0.05
#: Huber threshold of the filter (innovation standard deviations; the current Sad.jl's).
HUBER = 2.0
#: Smallest bed slope (m/m): the SWOT slope precision (1.7 cm/km) over ten.
MIN_SLOPE = 1.7e-6


@dataclass
class Channel:
    """A reach's nodes as SAD sees them (step 1); node arrays ``[nx, nt]``, downstream node first."""

    section: gvf.Section
    h: np.ndarray  # node wse (m), NaN where unobserved or the time is unusable
    s0: float  # bed slope (m/m)
    h_bc: np.ndarray  # [nt] wse at node 0 (m), NaN at unusable times
    usable: np.ndarray  # [nt] bool
    reach_h: np.ndarray  # [nt] reach wse (m) at usable times, else NaN
    reach_w: np.ndarray  # [nt] reach width (m) at usable times, else NaN
    xi_mid: float  # chainage of the reach's centre (m)
    from_nodes: bool


def _node_order(h: np.ndarray) -> np.ndarray:
    """Node indices downstream first: SWORD numbers nodes upstream, flipped if the WSE says otherwise."""
    idx = np.arange(h.shape[0])
    mean = np.array([np.nanmean(row) if np.isfinite(row).any() else np.nan for row in h])
    ok = np.isfinite(mean)
    if ok.sum() >= 2 and np.polyfit(idx[ok], mean[ok], 1)[0] < 0:
        return idx[::-1]
    return idx


def channel(obs: ReachObs) -> Channel:
    """Step 1: nodes, chainage, Dingman reference points, bed slope and boundary stages.

    Raises
    ------
    ValueError
        When fewer than :data:`MIN_OBS` times have width, wse and a slope.
    """
    usable = obs.valid.copy()
    if usable.sum() < MIN_OBS:
        raise ValueError(f"{int(usable.sum())} times with width, wse and slope, SAD needs {MIN_OBS}")
    length = obs.reach_length if np.isfinite(obs.reach_length) and obs.reach_length > 0 else float("nan")
    from_nodes = obs.node_wse is not None and obs.node_wse.shape[0] >= 2 and \
        int((np.isfinite(obs.node_wse[:, usable]).sum(axis=1) > 0).sum()) >= 2
    if from_nodes and obs.node_wse is not None:
        nx_all = obs.node_wse.shape[0]
        h_all = np.where(usable[None, :], obs.node_wse, np.nan)
        w_src = obs.node_width if obs.node_width is not None else np.full_like(h_all, np.nan)
        w_all = np.where(usable[None, :], w_src, np.nan)
        order = _node_order(h_all)
        h_all, w_all = h_all[order], w_all[order]
        spacing = length / nx_all if np.isfinite(length) else NODE_SPACING
        xi_all = (np.arange(nx_all) + 0.5) * spacing
        keep = np.isfinite(h_all).any(axis=1)
        h, w, xi = h_all[keep], w_all[keep], xi_all[keep]
        reach_len = spacing * nx_all
    else:
        reach_len = length if np.isfinite(length) else NODE_SPACING * 50
        xi = (np.arange(SYNTHETIC_NODES) + 0.5) * reach_len / SYNTHETIC_NODES
        s = np.where(usable, obs.slope, np.nan)
        h = np.where(usable, obs.wse, np.nan)[None, :] + s[None, :] * (xi[:, None] - reach_len / 2)
        w = np.repeat(np.where(usable, obs.width, np.nan)[None, :], SYNTHETIC_NODES, axis=0)
    reach_h = np.where(usable, obs.wse, np.nan)
    reach_w = np.where(usable, obs.width, np.nan)
    xi0 = float(xi[0])
    xi = xi - xi0
    xi_mid = reach_len / 2 - xi0
    s0 = _bed_slope(xi, h, obs.slope[usable])
    slope_t = np.where(np.isfinite(obs.slope) & (obs.slope > 0), obs.slope, s0)
    h_bc = np.where(usable, reach_h - slope_t * xi_mid, np.nan)
    h_ref = np.array([np.nanmedian(row) for row in h])
    w_med = float(np.nanmedian(reach_w))
    w_ref = np.array([np.nanmedian(row) if np.isfinite(row).any() else w_med for row in w])
    w_ref = np.where(np.isfinite(w_ref) & (w_ref > 0), w_ref, w_med)
    return Channel(gvf.Section(xi, w_ref, h_ref), h, s0, h_bc, usable, reach_h, reach_w, xi_mid, from_nodes)


def _bed_slope(xi: np.ndarray, h: np.ndarray, reach_slope: np.ndarray) -> float:
    """The bed slope ``S0`` (m/m): median over times of the node profile's fitted slope.

    Times with at least three nodes give a least-squares slope of wse on chainage; without
    them, the median positive reach slope.  Never below :data:`MIN_SLOPE`.
    """
    slopes = []
    for col in h.T:
        ok = np.isfinite(col)
        if ok.sum() >= 3 and np.ptp(xi[ok]) > 0:
            slopes.append(np.polyfit(xi[ok], col[ok], 1)[0])
    s = float(np.median(slopes)) if slopes else float("nan")
    if not (np.isfinite(s) and s > 0):
        pos = reach_slope[np.isfinite(reach_slope) & (reach_slope > 0)]
        s = float(np.median(pos)) if pos.size else MIN_SLOPE
    return max(s, MIN_SLOPE)


@dataclass
class Members:
    """Accepted prior members (step 2), ``[k]`` each."""

    qbar: np.ndarray  # mean flow (m3/s)
    n: np.ndarray
    r: np.ndarray
    z0: np.ndarray  # bed elevation at node 0 (m)
    tau: float  # rejection temperature used (1: plain rejection sampling)
    accepted: int


def _width_misfit(ch: Channel, r: np.ndarray, z_mid: np.ndarray) -> np.ndarray:
    """``[N, nt]`` log-width residuals of the reach's stage-width pairs against each member's section."""
    ok = np.isfinite(ch.reach_h) & np.isfinite(ch.reach_w) & (ch.reach_w > 0)
    h, w = ch.reach_h[ok], ch.reach_w[ok]
    ym_ref = float(np.median(h)) - z_mid[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        model = np.log(float(np.median(w))) + np.log((h[None, :] - z_mid[:, None]) / ym_ref) / r[:, None]
    return np.asarray(np.log(w)[None, :] - model)


def rejection(ch: Channel, pri: SadPriors, rng: np.random.Generator, width_u: np.ndarray | None = None,
              n_proposals: int = N_PROPOSALS, n_members: int = N_MEMBERS) -> Members:
    """Step 2: prior members (mean flow, n, r, bed) rejected against the observed profile (S12).

    Raises
    ------
    ValueError
        When no proposal gives a valid (wet, subcritical) profile.
    """
    u = latin_hypercube(rng, n_proposals, 4)
    qbar, n, r, depth = pri.qbar.ppf(u[0]), pri.n.ppf(u[1]), pri.r.ppf(u[2]), pri.depth.ppf(u[3])
    h_low = float(np.nanmin(ch.h_bc))
    z0 = h_low - depth
    # the median profile against the GVF profile of the median flow from the median boundary
    sec = ch.section
    q_med = qbar * np.exp(-0.5 * pri.daily_log_sd**2)
    prof, ok = gvf.profile(sec, q_med, n, r, z0, ch.s0, float(np.nanmedian(ch.h_bc)))
    res_h = prof - sec.h_ref[:, None]
    mse_h = np.mean(res_h**2, axis=0)
    # the reach's stage-width pairs against the member's section through the median pair
    res_w = _width_misfit(ch, r, z0 + ch.s0 * ch.xi_mid)
    ok &= np.all(np.isfinite(res_w), axis=1)
    mse_w = np.mean(res_w**2, axis=1)
    if not ok.any():
        raise ValueError("no prior member gives a wet, subcritical profile")
    var_h = MODEL_WSE_ERROR**2
    var_w = _median_rel(width_u, ch.reach_w) ** 2 + WIDTH_ERROR**2
    m2lnl = np.where(ok, sec.nx * mse_h / var_h + res_w.shape[1] * mse_w / var_w, np.inf)
    excess = m2lnl - np.min(m2lnl)
    tau = _temperature(excess, n_members)
    accept = ok & (rng.random(n_proposals) < np.exp(-0.5 * excess / tau))
    idx = np.flatnonzero(accept)
    if idx.size > n_members:
        idx = np.sort(rng.choice(idx, n_members, replace=False))
    return Members(qbar[idx], n[idx], r[idx], z0[idx], tau, int(accept.sum()))


def _median_rel(u: np.ndarray | None, x: np.ndarray) -> float:
    """Median relative uncertainty ``u / x`` (0 when unknown)."""
    if u is None:
        return 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.asarray(u, dtype=np.float64) / x
    rel = rel[np.isfinite(rel) & (rel > 0)]
    return float(np.median(rel)) if rel.size else 0.0


def _temperature(excess: np.ndarray, want: int) -> float:
    """Smallest ``tau >= 1`` with ``sum exp(-excess / (2 tau)) >= want`` (bisection in log tau)."""
    def expected(tau: float) -> float:
        return float(np.sum(np.exp(-0.5 * excess / tau)))

    finite = np.isfinite(excess)
    if expected(1.0) >= want or finite.sum() <= want:
        return 1.0 if finite.sum() > want else float("inf")
    lo, hi = 0.0, 1.0
    while expected(float(np.exp(hi))) < want and hi < 50:
        hi *= 2
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if expected(float(np.exp(mid))) < want else (lo, mid)
    return float(np.exp(hi))


@dataclass
class Analysis:
    """Step 3 per time: discharge mean and spread, n; NaN where a time was not analysed."""

    qa: np.ndarray
    q_u: np.ndarray
    n: np.ndarray
    r: np.ndarray
    z0: np.ndarray
    members: np.ndarray  # members used per time


def _months(time: np.ndarray) -> np.ndarray:
    """Calendar month index 0-11 of SWOT times (s since 2000-01-01); -1 where unknown."""
    t = np.asarray(time, dtype=np.float64)
    out = np.full(t.shape, -1, dtype=np.int64)
    ok = np.isfinite(t)
    if ok.any():
        days = np.datetime64("2000-01-01", "D") + (t[ok] // 86400).astype("timedelta64[D]")
        out[ok] = days.astype("datetime64[M]").astype(np.int64) % 12
    return out


@dataclass
class Observations:
    """What the filter assimilates at each time: node WSE and the reach slope, with their error variances."""

    d: np.ndarray  # [nx + 1, nt]: node wse (m), then the reach slope (m/m); NaN where none
    r_var: np.ndarray  # [nx + 1, nt]
    season: np.ndarray  # [nt] seasonal ratio of the discharge prior
    times: np.ndarray  # indices of the times to analyse, in time order


def observations(ch: Channel, pri: SadPriors, obs: ReachObs) -> Observations:
    """The filter's observations: node WSE (error ``MODEL_WSE_ERROR`` plus the node error ``wse_u sqrt(n)``
    of a reach wse averaged over ``n`` nodes) and the reach slope (error ``SLOPE_ERROR S0`` plus ``slope_u``)."""
    nx, nt = ch.h.shape
    nodes_t = np.isfinite(ch.h).sum(axis=0)
    wse_u = obs.wse_u if obs.wse_u is not None else np.zeros(nt)
    node_var = MODEL_WSE_ERROR**2 + np.where(np.isfinite(wse_u), wse_u, 0.0) ** 2 * nodes_t
    slope_u = obs.slope_u if obs.slope_u is not None else np.zeros(nt)
    slope_var = (SLOPE_ERROR * ch.s0) ** 2 + np.where(np.isfinite(slope_u), slope_u, 0.0) ** 2
    s_obs = np.where(ch.usable & np.isfinite(obs.slope) & (obs.slope > 0), obs.slope, np.nan)
    months = _months(obs.time)
    season = np.where(months >= 0, pri.monthly_ratio[np.clip(months, 0, 11)], 1.0)
    idx = np.flatnonzero(ch.usable & (nodes_t >= 2))
    order = np.argsort(np.where(np.isfinite(obs.time[idx]), obs.time[idx], np.inf), kind="stable")
    return Observations(np.vstack([ch.h, s_obs[None, :]]),
                        np.vstack([np.repeat(node_var[None, :], nx, axis=0), slope_var[None, :]]),
                        season, idx[order])


def forecast(ch: Channel, q: np.ndarray, n: np.ndarray, r: np.ndarray, z0: np.ndarray,
             h_bc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Predicted observations ``[nx + 1, *B]`` (the GVF node WSE, S1-S5, then their least-squares
    slope over the chainage) and which members are valid ``[*B]``."""
    prof, ok = gvf.profile(ch.section, q, n, r, z0, ch.s0, h_bc)
    xc = ch.section.xi - ch.section.xi.mean()
    slope = np.einsum("x,x...->...", xc, prof) / float(np.sum(xc**2))
    return np.concatenate([prof, slope[None]]), ok


def _draw_q(lnqbar: np.ndarray, season: float, sd: float, rng: np.random.Generator) -> np.ndarray:
    """A time's discharge prior around each member's mean flow (:mod:`.priors`), ln m3/s."""
    e = np.clip(rng.standard_normal(lnqbar.shape), -3.0, 3.0)
    return np.asarray(lnqbar + np.log(season) + sd * e - 0.5 * sd**2)


def assimilate(ch: Channel, pri: SadPriors, mem: Members, ob: Observations, rng: np.random.Generator) -> Analysis:
    """Step 3: each time's LETKF analysis (S7-S11) of ``[ln Q_t, ln n, ln r, z0]`` of the accepted members."""
    nt = ch.h.shape[1]
    lnq = _draw_q(np.repeat(np.log(mem.qbar)[None, :], nt, axis=0), 1.0, pri.daily_log_sd, rng) + \
        np.log(ob.season)[:, None]
    hx, ok = forecast(ch, np.exp(lnq), mem.n[None, :], mem.r[None, :], mem.z0[None, :], ch.h_bc[:, None])
    nan = np.full(nt, np.nan)
    out = Analysis(nan.copy(), nan.copy(), nan.copy(), nan.copy(), nan.copy(), np.zeros(nt, dtype=np.int64))
    for t in ob.times:
        use = ok[t]
        if use.sum() < MIN_MEMBERS:
            continue
        x = np.vstack([lnq[t, use], np.log(mem.n[use]), np.log(mem.r[use]), mem.z0[use]])
        xa = letkf(x, hx[:, t, use], ob.d[:, t], ob.r_var[:, t], huber=HUBER)
        qa = np.exp(xa[0])
        out.qa[t], out.q_u[t] = float(qa.mean()), float(qa.std(ddof=1))
        out.n[t], out.r[t], out.z0[t] = float(np.exp(xa[1]).mean()), float(np.exp(xa[2]).mean()), float(xa[3].mean())
        out.members[t] = int(use.sum())
    return out


def flow_parameters(qa: np.ndarray, n_t: np.ndarray, width: np.ndarray, slope: np.ndarray,
                    d_x_area: np.ndarray) -> tuple[float, float]:
    """Step 4: Manning's ``n`` (S13) and ``A0`` (m2, S14) from the analysis.

    ``A0`` is the mean over the times with a positive discharge, width and slope of the flow area
    Manning's law needs for the analysed discharge, less ``d_x_area``; it is kept at least 1 m2
    above ``-min(d_x_area)`` so the law is defined at every observed time (Sad.jl keeps it >= 0).
    """
    n = float(np.nanmean(n_t)) if np.isfinite(n_t).any() else float("nan")
    with np.errstate(invalid="ignore", divide="ignore"):
        area = (n * qa * width ** (2 / 3) / np.sqrt(slope)) ** 0.6
    ok = np.isfinite(area) & np.isfinite(d_x_area) & (slope > 0) & (qa > 0)
    if not ok.any():
        return float("nan"), n
    a0 = float(np.mean(area[ok] - d_x_area[ok]))
    da = d_x_area[np.isfinite(d_x_area)]
    return max(a0, 1.0 - float(da.min())), n


@dataclass
class SadFit:
    """Everything SAD estimates for one reach (SI units; NaN where not computed)."""

    q: np.ndarray
    q_u: np.ndarray
    a0: float
    n: float
    r: float
    z0: float
    s0: float
    tau: float
    accepted: int
    members: np.ndarray
    diag: dict[str, float] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, float | np.ndarray]:
        """The Manning law's parameters (:class:`confluence_flpe.flowlaws.Manning`, names of the file)."""
        return {"A0": self.a0, "n": self.n}


def sad(obs: ReachObs, pri: Priors, seed: int = SEED) -> SadFit:
    """Estimate a reach's discharge with SAD (steps 1-4 of the module docstring).

    Raises
    ------
    ValueError
        Saying why when SAD cannot run: too few usable times, no mean-flow prior, or no prior
        member with a valid profile.
    """
    ch = channel(obs)
    pri_s = sad_priors(pri, float(np.nanmedian(ch.reach_w)), ch.s0)
    rng = np.random.default_rng(seed)
    mem = rejection(ch, pri_s, rng, obs.width_u)
    if mem.qbar.size < MIN_MEMBERS:
        raise ValueError(f"{mem.qbar.size} prior members accepted, SAD needs {MIN_MEMBERS}")
    ob = observations(ch, pri_s, obs)
    ana = assimilate(ch, pri_s, mem, ob, rng)
    if not np.isfinite(ana.qa).any():
        raise ValueError("no observation time could be assimilated")
    a0, n = flow_parameters(ana.qa, ana.n, obs.width, obs.slope, obs.d_x_area)
    return SadFit(q=ana.qa, q_u=ana.q_u, a0=a0, n=n, r=float(np.nanmean(ana.r)), z0=float(np.nanmean(ana.z0)),
                  s0=ch.s0, tau=mem.tau, accepted=mem.accepted, members=ana.members)
