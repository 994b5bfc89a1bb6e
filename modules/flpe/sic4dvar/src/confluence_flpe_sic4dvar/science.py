"""SIC4DVar science (low-cost version): pure numpy functions, arrays in, arrays out.

SIC4DVar (Oubanas et al. 2018, doi:10.1002/2017WR021735) estimates discharge
from SWOT observations of a river: the bathymetry of each node from its
stage-width pairs, a bed offset (the unobserved flow area below the lowest
observed stage) and a Strickler coefficient K, and the discharge of a steady
flow through those sections.  The public SWOT-Confluence implementation runs
it as a chain of two algorithms, both followed here (facts of that code's
structure; citation table and departures in ``docs/science.md``, section
SIC4DVar; equation numbers are this package's, S1-S4 in :mod:`.bathymetry`):

**algo31 (low-cost), discharge Qalgo31** (:func:`algo31`)

(S5) Steady gradually varied flow, friction only (Manning-Strickler; the
     velocity head neglected).  The water-surface drop over the nodes equals
     the friction loss::

         dZ(t) = integral over x of Q^2 / (K^2 A^2 R^(4/3)) dx,   R = A / P

     so, with the node conveyance ``C = A R^(2/3)`` and the drop
     ``dZ = S L`` (the reach slope S over the nodes' length L: the public
     code's ``use_reach_slope`` option; SWORD nodes are equally spaced, so L
     cancels and only the node order matters)::

         Q(t) = K sqrt(S(t) L / integral of C(x, t)^-2 dx)  =  K Qt(t; a)

     the integral by the trapezoidal rule over the nodes (:func:`reduced_discharge`).
(S6) Node sections (S1-S4) at the node's observed stage ``z_n(t)``, with a
     bed at depth ``d_n = a / w0_n`` below its lowest observed stage: every
     node has the same unobserved area ``a = d W0`` (``W0`` the mean lowest
     width, ``d`` the bed offset of a node of that width; the public code
     scales the offset by ``W0 / w0_n`` in the same way)::

         A_n = A1_n(z_n) + a,   P_n = P1_n(z_n) + 2 a / w0_n

     A time is estimated when its slope is positive and at least half of
     the nodes with a section are observed; the others' stages are
     interpolated along the reach (:func:`node_data`).

(S7) Bed offset and K are unknown: a grid of ``d`` in [0.05, 20.05] m (at
     most the mean lowest width) and ``K`` in [10, 60] m^(1/3)/s, each with a
     near-flat beta density (shape 2.1, mode mid-range), weighted by the
     mean-flow prior: a beta density of the mean flow ``Qbar = K mean_t Qt``
     on [Qp / 5, 5 Qp] with mean ``Qp`` (the SoS ``mean_q``) and shape 10::

         w(d, K) = p_d(d) p_K(K) p_Q(Qbar(d, K))
         Qalgo31(t) = sum w K Qt(t; d) / sum w            (posterior mean)

     (the discharge is calibrated to the mean-flow prior through ``p_Q``);
     a posterior spread ``Qalgo31_u`` comes with it.  Where part of the grid
     gives no positive flow area at a time, the moments are taken over the
     rest when it holds at least half the weight.  Flows below 1 m3/s are
     raised to 1 m3/s.  When no (d, K) gives a mean flow inside [Qp/5, 5 Qp]
     the reach is flagged.
(S8) No SoS mean flow: ``Qp = 0.01 m3/s per km2`` of SWORD flow accumulation
     (the public code's fallback, 10 facc / 1000).

**algo5, flow-law parameters A0 and n and Qalgo5** (:func:`fit_manning`)

(S9) Manning's law of the SWOT product on the reach observations,
     ``Q = (A0 + dA)^(5/3) W^(-2/3) S^(1/2) / n`` (``confluence_flpe.flowlaws``
     ``manning``), fitted to Qalgo31 (least squares of log Q, A0 in
     [-min dA + 0.01, max(100 max W, 10 |lower bound|)], n in [0.001, 1]);
     ``Qalgo5`` is the law with the fitted A0 and n, so A0 is the flow area
     where the reach's ``d_x_area`` is 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from confluence_flpe.flowlaws import FlowObs, Manning

from .bathymetry import Section, build_section

#: Fewest times with a discharge estimate (and fewest valid reach times for the plug-in).
MIN_OBS = 5
#: The mean-flow prior's range is [Qp / QP_FACTOR, Qp * QP_FACTOR] (public ``algo_bounds[0]``).
QP_FACTOR = 5.0
#: Beta shape of the mean-flow density (public ``shape03``), mean-based parametrisation.
Q_SHAPE = 10.0
#: Bed offset range (m below the lowest observed stage) and its grid size (public: -20.05 to -0.05 m by 0.25 m).
DEPTH_RANGE = (0.05, 20.05)
N_DEPTH = 81
#: Strickler K range (m^(1/3) s^-1) and its grid size (public: 10-60 by 6.25).
K_RANGE = (10.0, 60.0)
N_K = 51
#: Beta shape of the bed-offset and K densities (public ``shape13``, ``shape23``), mode mid-range.
PARAM_SHAPE = 2.1
#: Smallest discharge returned (m3/s; public ``local_QM1``).
Q_FLOOR = 1.0
#: Fraction of a reach's usable nodes that must be observed at a time for that time to be estimated.
MIN_NODE_FRACTION = 0.5
#: A time where part of the (d, K) grid gives no flow area (a stage filled below a node's lowest observed
#: stage, shallow beds) is estimated from the rest of the posterior when it holds at least this weight.
MIN_POSTERIOR_MASS = 0.5
#: Mean-flow prior per km2 of flow accumulation when the SoS has none (m3/s/km2; public ``facc * 10 / 1000``).
FACC_RUNOFF = 0.01
#: Bounds of Manning's n in the algo5 fit (public).
N_BOUNDS = (0.001, 1.0)

LAW = Manning()


@dataclass
class NodeData:
    """The usable nodes of a reach: sections and stages, in node order.

    ``index`` (int ``[nu]``) are the nodes' rows in the reach file (the along-reach position in
    node spacings), ``sections`` their :class:`~.bathymetry.Section`, ``z`` the stages ``[nu, nt]``
    (observed, gaps filled along the reach), ``ok`` the times ``[nt]`` that can be estimated.
    """

    index: np.ndarray
    sections: list[Section]
    z: np.ndarray
    ok: np.ndarray
    n_nodes: int

    @property
    def w0(self) -> np.ndarray:
        """Lowest observed width of each usable node (m)."""
        return np.asarray([s.w0 for s in self.sections])


def node_data(node_wse: np.ndarray, node_width: np.ndarray, slope: np.ndarray,
              min_fraction: float = MIN_NODE_FRACTION) -> NodeData | None:
    """Sections of the usable nodes and their stages at every estimable time (S1-S4, S6).

    Parameters
    ----------
    node_wse, node_width : numpy.ndarray
        Node water-surface elevation and width ``[nx, nt]`` (m), NaN where unobserved.
    slope : numpy.ndarray
        Reach slope ``[nt]`` (m/m).
    min_fraction : float
        A time is estimated when its slope is positive and at least this fraction of the
        usable nodes is observed; the other usable nodes' stages are interpolated along the
        reach (node index), held constant past the observed ends.

    Returns
    -------
    NodeData or None
        None when no node has a section (:data:`~.bathymetry.MIN_STAGES` distinct stages).
    """
    h = np.atleast_2d(np.asarray(node_wse, dtype=np.float64))
    w = np.atleast_2d(np.asarray(node_width, dtype=np.float64))
    sections, index = [], []
    for n in range(h.shape[0]):
        sec = build_section(h[n], w[n])
        if sec is not None:
            sections.append(sec)
            index.append(n)
    if not sections:
        return None
    idx = np.asarray(index)
    z = h[idx]
    seen = np.isfinite(z)
    s = np.asarray(slope, dtype=np.float64)
    ok = (np.isfinite(s) & (s > 0)) & (seen.sum(axis=0) >= max(1.0, min_fraction * idx.size))
    filled = np.full(z.shape, np.nan)
    for t in np.flatnonzero(ok):
        col = seen[:, t]
        filled[:, t] = z[:, t] if col.all() else np.interp(idx, idx[col], z[col, t])
    return NodeData(index=idx, sections=sections, z=filled, ok=ok, n_nodes=h.shape[0])


def trapezoid_weights(x: np.ndarray) -> np.ndarray:
    """Weights of the trapezoidal rule on abscissas ``x`` (normalised to sum 1; 1 for a single point)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 1:
        return np.ones(1)
    dx = np.diff(x)
    wt = np.r_[dx, 0.0] / 2 + np.r_[0.0, dx] / 2
    return np.asarray(wt / wt.sum())


def reduced_discharge(nodes: NodeData, slope: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """``Qt(t; a)`` of (S5)-(S6): discharge per unit Strickler K (m^(8/3)), ``[na, nt]``.

    Parameters
    ----------
    nodes : NodeData
    slope : numpy.ndarray
        Reach slope ``[nt]`` (m/m).
    areas : numpy.ndarray
        Unobserved areas ``a`` ``[na]`` (m2), the same at every node.

    Returns
    -------
    numpy.ndarray
        ``sqrt(S / mean_x(C^-2))`` with ``C = A (A/P)^(2/3)``; NaN at times that cannot be
        estimated and where a node's flow area or perimeter is not positive.
    """
    a = np.asarray(areas, dtype=np.float64)[:, None, None]
    hyd = [sec.hydraulics(nodes.z[k]) for k, sec in enumerate(nodes.sections)]
    a1 = np.stack([x[0] for x in hyd])[None]  # [1, nu, nt]
    p1 = np.stack([x[1] for x in hyd])[None]
    area = a1 + a
    perim = p1 + 2.0 * a / nodes.w0[None, :, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        good = (area > 0) & (perim > 0)
        conv = np.where(good, area * (np.where(good, area, 1.0) / np.where(good, perim, 1.0)) ** (2 / 3), np.nan)
        inv = np.einsum("n,ant->at", trapezoid_weights(nodes.index), conv**-2.0)
        s = np.where(nodes.ok, np.asarray(slope, dtype=np.float64), np.nan)
        return np.asarray(np.sqrt(s[None, :] / inv))


def beta_density(u: np.ndarray, a: float, b: float) -> np.ndarray:
    """Beta(a, b) density at ``u`` (unnormalised: only ratios matter); 0 outside (0, 1)."""
    u = np.asarray(u, dtype=np.float64)
    inside = (u > 0) & (u < 1)
    uc = np.where(inside, u, 0.5)
    return np.where(inside, np.exp((a - 1) * np.log(uc) + (b - 1) * np.log1p(-uc)), 0.0)


def parameter_density(n: int, shape: float = PARAM_SHAPE) -> np.ndarray:
    """Density of a parameter on a uniform grid of ``n`` values over its range (S7).

    Mode-based beta of mode 0.5 and shape ``shape`` (``a = b = 0.5 (shape - 2) + 1``) at
    ``u = 0 .. 1``; the two end values take their neighbour's density (as the public tables).
    """
    u = np.linspace(0.0, 1.0, n)
    a = 0.5 * (shape - 2.0) + 1.0
    p = beta_density(u, a, a)
    if n > 2:
        p[0], p[-1] = p[1], p[-2]
    return p


def mean_flow_density(qbar: np.ndarray, q_prior: float) -> np.ndarray:
    """The mean-flow prior of (S7): beta on [Qp/5, 5 Qp] with mean Qp and shape 10, at ``qbar``."""
    lo, hi = q_prior / QP_FACTOR, q_prior * QP_FACTOR
    mean = (q_prior - lo) / (hi - lo)
    return beta_density((np.asarray(qbar) - lo) / (hi - lo), mean * Q_SHAPE, (1 - mean) * Q_SHAPE)


@dataclass
class Algo31:
    """The result of :func:`algo31` for one reach."""

    q: np.ndarray  # [nt] m3/s, NaN where not estimated
    q_u: np.ndarray  # [nt] m3/s, posterior 1-sigma over the (d, K) grid
    depth: float  # posterior mean bed offset d (m) of a node of the mean lowest width
    area: float  # posterior mean unobserved area a = d W0 (m2)
    strickler: float  # posterior mean K (m^(1/3) s^-1)
    nodes: NodeData | None = None
    reason: str = ""

    @property
    def valid(self) -> bool:
        return not self.reason

    def bed_depths(self) -> np.ndarray:
        """Posterior bed depth of each usable node below its lowest observed stage (m), ``a / w0``."""
        if self.nodes is None:
            return np.zeros(0)
        return np.asarray(self.area / self.nodes.w0)


def _failed(nt: int, reason: str, nodes: NodeData | None = None) -> Algo31:
    nan = np.full(nt, np.nan)
    return Algo31(nan, nan.copy(), np.nan, np.nan, np.nan, nodes, reason)


def algo31(node_wse: np.ndarray, node_width: np.ndarray, slope: np.ndarray, q_prior: float,
           min_obs: int = MIN_OBS) -> Algo31:
    """SIC4DVar's low-cost discharge (S5-S7) of one reach.

    Parameters
    ----------
    node_wse, node_width : numpy.ndarray
        Node stages and widths ``[nx, nt]`` (m), NaN where unobserved.
    slope : numpy.ndarray
        Reach slope ``[nt]`` (m/m).
    q_prior : float
        Mean-flow prior ``Qp`` (m3/s).
    min_obs : int
        Fewest estimable times.

    Returns
    -------
    Algo31
        ``reason`` says why a reach could not be estimated ("" when it was).
    """
    nt = int(np.size(slope))
    if not (np.isfinite(q_prior) and q_prior > 0):
        return _failed(nt, "no mean-flow prior (SoS mean_q, or SWORD facc)")
    nodes = node_data(node_wse, node_width, slope)
    if nodes is None:
        return _failed(nt, "no node has two distinct observed stages with a width: no cross-section")
    if np.count_nonzero(nodes.ok) < min_obs:
        return _failed(nt, f"{np.count_nonzero(nodes.ok)} times with a positive slope and observed nodes, "
                           f"SIC4DVar needs {min_obs}", nodes)
    w_mean = float(np.mean(nodes.w0))
    depths = np.linspace(DEPTH_RANGE[0], min(DEPTH_RANGE[1], max(w_mean, 2 * DEPTH_RANGE[0])), N_DEPTH)
    areas = depths * w_mean
    ks = np.linspace(*K_RANGE, N_K)
    qt = reduced_discharge(nodes, slope, areas)  # [nd, nt]
    common = np.isfinite(qt).all(axis=0)
    if np.count_nonzero(common) < min_obs:
        return _failed(nt, f"{np.count_nonzero(common)} times with a positive flow area, SIC4DVar needs {min_obs}",
                       nodes)
    qbar = qt[:, common].mean(axis=1)  # [nd]
    weight = (parameter_density(N_DEPTH)[:, None] * parameter_density(N_K)[None, :]
              * mean_flow_density(qbar[:, None] * ks[None, :], q_prior))  # [nd, nK]
    total = weight.sum()
    if not total > 0:
        return _failed(nt, f"no bed offset and Strickler K in range give a mean flow within "
                           f"[{q_prior / QP_FACTOR:.4g}, {q_prior * QP_FACTOR:.4g}] m3/s", nodes)
    weight /= total
    w_depth, w_k = weight.sum(axis=1), weight.sum(axis=0)
    k_mean = float(w_k @ ks)
    # posterior moments at each time over the bed offsets whose flow area is positive then
    finite = np.isfinite(qt)
    qt0 = np.where(finite, qt, 0.0)
    mass = w_depth @ finite  # [nt] posterior weight with a defined discharge (1 at the common times)
    estimable = mass >= MIN_POSTERIOR_MASS
    with np.errstate(invalid="ignore", divide="ignore"):
        first = (weight @ ks) @ qt0 / mass  # [nt] sum w K Qt
        second = (weight @ ks**2) @ qt0**2 / mass  # [nt] sum w K^2 Qt^2
    q = np.where(estimable, np.maximum(first, Q_FLOOR), np.nan)
    q_u = np.where(estimable, np.sqrt(np.maximum(second - first**2, 0.0)), np.nan)
    return Algo31(q=q, q_u=q_u, depth=float(w_depth @ depths), area=float(w_depth @ areas),
                  strickler=k_mean, nodes=nodes)


@dataclass
class ManningFit:
    """The result of :func:`fit_manning`: Manning's law parameters and its discharge."""

    a0: float  # m2, flow area where d_x_area = 0
    n: float  # s m^(-1/3)
    q: np.ndarray  # [nt] m3/s, the law with (a0, n)
    n_used: int = 0
    reason: str = ""
    extra: dict[str, float] = field(default_factory=dict)


def _law_terms(a0: np.ndarray, d_x_area: np.ndarray, width: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """``n Q`` of Manning's law (m3/s * s m^-1/3) for each ``a0`` ``[na]`` at each time: ``[na, nt]``."""
    area = a0[:, None] + d_x_area[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = width ** (-2 / 3) * np.sqrt(slope)
        return np.asarray(np.where(area > 0, np.where(area > 0, area, 1.0) ** (5 / 3), np.nan) * scale[None, :])


def fit_manning(q: np.ndarray, d_x_area: np.ndarray, width: np.ndarray, slope: np.ndarray,
                min_obs: int = MIN_OBS, grid: int = 200, refine: int = 60) -> ManningFit:
    """algo5 (S9): A0 and n of Manning's law fitted to the discharge ``q`` of the same times.

    Least squares of the log discharge (relative errors, see docs/science.md): for each A0 the
    best n is closed-form (``log n`` = mean log-residual, clipped to :data:`N_BOUNDS`); A0 is
    searched on a log-spaced grid of ``A0 + min dA`` then refined by golden section.

    Parameters
    ----------
    q : numpy.ndarray
        Discharge to fit ``[nt]`` (m3/s; Qalgo31).
    d_x_area, width, slope : numpy.ndarray
        Reach area change (m2), width (m), slope (m/m) ``[nt]``.
    min_obs : int
        Fewest times with all four finite and positive (dA finite).

    Returns
    -------
    ManningFit
        NaN parameters and ``reason`` when fewer than ``min_obs`` times can be used.
    """
    q, dA, w, s = (np.asarray(x, dtype=np.float64) for x in (q, d_x_area, width, slope))
    ok = np.isfinite(q) & (q > 0) & np.isfinite(dA) & np.isfinite(w) & (w > 0) & np.isfinite(s) & (s > 0)
    nt = q.size
    if np.count_nonzero(ok) < min_obs:
        used = int(np.count_nonzero(ok))
        return ManningFit(np.nan, np.nan, np.full(nt, np.nan), used,
                          f"{used} times with Qalgo31, d_x_area, width and slope, algo5 needs {min_obs}")
    lq, dAo, wo, so = np.log(q[ok]), dA[ok], w[ok], s[ok]
    base = -float(np.min(dAo))
    low = base + 0.01
    high = max(100.0 * float(np.max(wo)), 10.0 * abs(low))
    log_n_bounds = np.log(N_BOUNDS)

    def cost(a0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lf = np.log(_law_terms(a0, dAo, wo, so))
        log_n = np.clip(np.mean(lf - lq[None, :], axis=1), *log_n_bounds)
        return np.sum((lf - log_n[:, None] - lq[None, :]) ** 2, axis=1), log_n

    # candidate areas: base + offsets log-spaced from 0.01 m2 up to the upper bound
    offsets = np.geomspace(0.01, max(high - base, 0.02), grid)
    c, _ = cost(base + offsets)
    j = int(np.nanargmin(c))
    lo, hi = np.log(offsets[max(j - 1, 0)]), np.log(offsets[min(j + 1, grid - 1)])
    golden = (np.sqrt(5.0) - 1) / 2
    x1, x2 = hi - golden * (hi - lo), lo + golden * (hi - lo)
    f1, f2 = (float(cost(np.asarray([base + np.exp(x)]))[0][0]) for x in (x1, x2))
    for _ in range(refine):
        if f1 <= f2:
            hi, x2, f2 = x2, x1, f1
            x1 = hi - golden * (hi - lo)
            f1 = float(cost(np.asarray([base + np.exp(x1)]))[0][0])
        else:
            lo, x1, f1 = x1, x2, f2
            x2 = lo + golden * (hi - lo)
            f2 = float(cost(np.asarray([base + np.exp(x2)]))[0][0])
    best = np.asarray([base + np.exp(0.5 * (lo + hi))])
    c_best, log_n = cost(best)
    if not np.isfinite(c_best[0]) or c_best[0] > c[j]:  # the grid point was better (flat or one-sided cost)
        best = np.asarray([base + offsets[j]])
        c_best, log_n = cost(best)
    a0, n = float(best[0]), float(np.exp(log_n[0]))
    q5 = LAW.q({"a0": a0, "n": n}, FlowObs(width=w, wse=np.full(nt, np.nan), slope=s, d_x_area=dA))
    rms = float(np.sqrt(c_best[0] / np.count_nonzero(ok)))
    return ManningFit(a0, n, q5, int(np.count_nonzero(ok)), extra={"log_rms": rms})


def q_prior_of(mean_q: float, facc: float) -> float:
    """The mean-flow prior Qp (m3/s): the SoS ``mean_q`` when at least 1 m3/s, else (S8) from facc (km2)."""
    if np.isfinite(mean_q) and mean_q >= 1.0:
        return float(mean_q)
    if np.isfinite(facc) and facc > 0:
        return float(FACC_RUNOFF * facc)
    return float("nan")


def node_half_widths(result: Algo31, n_nodes: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The bathymetry SIC4DVar built, per node of the reach file: half-widths and elevations (m).

    A usable node's table starts at its estimated bed (``z0 - a / w0``, half-width ``w0 / 2``:
    the rectangle below the lowest observed stage, S6) and goes on with the section's points;
    a node with no section (or a reach that could not be estimated) has empty arrays.
    """
    half: list[np.ndarray] = [np.zeros(0) for _ in range(n_nodes)]
    elev: list[np.ndarray] = [np.zeros(0) for _ in range(n_nodes)]
    if result.nodes is None:
        return half, elev
    depth = result.bed_depths() if np.isfinite(result.area) else np.full(len(result.nodes.sections), np.nan)
    for k, (n, sec) in enumerate(zip(result.nodes.index, result.nodes.sections, strict=True)):
        if n < n_nodes:
            half[n] = np.r_[sec.w0, sec.w] / 2
            elev[n] = np.r_[sec.z0 - depth[k], sec.z]
    return half, elev

