"""The variational inversion: minimise the cost H11 over the controls, then the reach results.

The cost (H11) is half the sum of squares of the observation misfits of every node elevation
(H7) and of the background terms (H8-H10), each divided by its error: a weighted least-squares
problem solved by scipy's rectangular trust-region dogleg method (``dogbox``, Voglis & Lagaris
2004) with the exact Jacobian of the backwater model (:func:`.backwater.solve` with ``tangent``)
and bounds on the friction and bed controls.  (scipy's trust-region reflective method reaches the
same minimum in five to seven times as many evaluations on these problems.)  Pure: no files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from confluence_flpe.flowlaws import FlowObs
from confluence_flpe.flowlaws import HiVDI as HivdiLaw
from confluence_flpe.interface import FlpeResult, ReachObs
from scipy import sparse
from scipy.optimize import OptimizeResult, least_squares

from . import backwater
from .backwater import Controls, Profile
from .problem import Problem

#: The flow law the parameters are written for (``confluence_flpe.flowlaws``, law ``hivdi``).
LAW = HivdiLaw()
#: Bounds of the per-reach controls: ln K_ref (K_ref 2-500), beta, ln D (D 5 cm - 200 m), tilt.
REACH_BOUNDS = {"log_kref": (np.log(2.0), np.log(500.0)), "beta": (-1.0, 1.0),
                "log_depth": (np.log(0.05), np.log(200.0)), "tilt": (-2.0, 2.0)}


#: Forward profiles a minimisation keeps (the residuals' last points, for the Jacobian and the result).
PROFILE_CACHE = 8


@dataclass
class Fit:
    """The minimisation's outcome."""

    controls: Controls
    profile: Profile
    cost: float  # J at the optimum (H11)
    cost_background: float  # J at the first guess
    nfev: int
    status: int  # scipy's least_squares status (> 0 converged, 0 evaluation limit)
    message: str


def pack(c: Controls) -> np.ndarray:
    """Controls as one vector ``[log_q, z_out (stretch by stretch), log_kref, beta, log_depth, tilt]``."""
    return np.concatenate([c.log_q, np.ravel(c.z_out), c.log_kref, c.beta, c.log_depth, c.tilt])


def unpack(x: np.ndarray, T: int, S: int, R: int) -> Controls:
    """Inverse of :func:`pack`."""
    parts = np.split(np.asarray(x, dtype=np.float64), np.cumsum([T, S * T, R, R, R]))
    return Controls(parts[0], parts[1].reshape(S, T), *parts[2:])


class Cost:
    """Residuals (H7-H10, each over its error) and their sparse Jacobian for :func:`scipy.optimize.least_squares`.

    Observation rows: ``(Z_model - Z_obs - offset_node) / sigma_z`` (H7); background rows: linear
    in the controls.
    """

    def __init__(self, pb: Problem, profiles: dict[bytes, Profile] | None = None) -> None:
        self.pb = pb
        #: Forward profiles already solved, by the controls' bytes (shared by the Costs of one
        #: minimisation: the profile depends on the channel and the controls only).
        self.profiles: dict[bytes, Profile] = {} if profiles is None else profiles
        self.T, self.S, self.R = pb.nt, pb.channel.n_segments, pb.channel.n_reaches
        self.n = (1 + self.S) * self.T + 4 * self.R
        self.prior_matrix, self.prior_offset = self._prior_rows()
        self.weight = 1.0 / pb.obs_sigma
        self.target = pb.obs_z + pb.node_offset[pb.obs_node]

    def _prior_rows(self) -> tuple[sparse.csr_matrix, np.ndarray]:
        """The background terms are linear in the controls: rows ``(P x - p)``."""
        bg, T, S, R = self.pb.background, self.T, self.S, self.R
        # ln Q: the flow level (one row: the shared prior error plus the times' mean error) and
        # each time's deviation from the mean (H8)
        level = np.full((1, T), 1.0 / (T * np.sqrt(bg.sigma_log_qbar**2 + bg.sigma_log_q**2 / T)))
        dev = (np.eye(T) - 1.0 / T) / bg.sigma_log_q
        diag = np.concatenate([np.full(S * T, 1.0 / bg.sigma_bc), 1.0 / bg.sigma_log_kref,
                               np.full(R, 1.0 / bg.sigma_beta), 1.0 / bg.sigma_log_depth,
                               np.full(R, 1.0 / bg.sigma_tilt)])
        q_rows = sparse.hstack([sparse.csr_matrix(np.vstack([level, dev])), sparse.csr_matrix((T + 1, self.n - T))])
        rest = sparse.hstack([sparse.csr_matrix((diag.size, T)), sparse.diags(diag)])
        mat = sparse.vstack([q_rows, rest]).tocsr()
        mean = np.concatenate([bg.log_q, np.ravel(bg.z_out), bg.log_kref, bg.beta, bg.log_depth, np.zeros(R)])
        return mat, mat @ mean

    def controls(self, x: np.ndarray) -> Controls:
        return unpack(x, self.T, self.S, self.R)

    def profile(self, x: np.ndarray) -> Profile:
        """The forward profile of the controls ``x`` (solved once per distinct ``x``)."""
        key = np.asarray(x, dtype=np.float64).tobytes()
        prof = self.profiles.get(key)
        if prof is None:
            prof = backwater.solve(self.pb.channel, self.controls(x))
            if len(self.profiles) >= PROFILE_CACHE:
                del self.profiles[next(iter(self.profiles))]
            self.profiles[key] = prof
        return prof

    def residuals(self, x: np.ndarray) -> np.ndarray:
        pb = self.pb
        prof = self.profile(x)
        obs = (prof.z[pb.obs_node, pb.obs_time] - self.target) * self.weight
        return np.concatenate([obs, self.prior_matrix @ x - self.prior_offset])

    def jacobian(self, x: np.ndarray) -> sparse.csr_matrix:
        pb, T, S, R = self.pb, self.T, self.S, self.R
        # least_squares asks for the Jacobian where it has just evaluated the residuals: the
        # tangent solve then reuses that profile's elevations instead of iterating to them again
        prof = backwater.solve(pb.channel, self.controls(x), tangent=True,
                               known=self.profiles.get(np.asarray(x, dtype=np.float64).tobytes()))
        assert prof.dz_dlogq is not None and prof.dz_dzout is not None and prof.dz_dreach is not None
        j, t, w = pb.obs_node, pb.obs_time, self.weight
        m = j.size
        cols = np.column_stack([t, T + pb.channel.segment[j] * T + t,
                                np.broadcast_to((1 + S) * T + np.arange(4 * R), (m, 4 * R))])
        vals = np.column_stack([prof.dz_dlogq[j, t], prof.dz_dzout[j, t], prof.dz_dreach[j, t]]) * w[:, None]
        obs = sparse.csr_matrix((vals.ravel(), cols.ravel(), np.arange(m + 1) * cols.shape[1]), shape=(m, self.n))
        # a node's elevation depends on the friction and bed of its own stretch's reaches only: the
        # other reaches' columns are exact zeros, dropped so that the solver's products skip them
        obs.eliminate_zeros()
        return sparse.vstack([obs, self.prior_matrix]).tocsr()


def bounds(T: int, S: int, R: int) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of the packed controls (discharge and boundaries free)."""
    free = np.full((1 + S) * T, np.inf)
    lo = np.concatenate([-free, *(np.full(R, REACH_BOUNDS[k][0]) for k in backwater.REACH_CONTROLS)])
    hi = np.concatenate([free, *(np.full(R, REACH_BOUNDS[k][1]) for k in backwater.REACH_CONTROLS)])
    return lo, hi


def _least_squares(cost: Cost, x0: np.ndarray, max_nfev: int) -> OptimizeResult:
    lo, hi = bounds(cost.T, cost.S, cost.R)
    span = np.where(np.isfinite(hi - lo), hi - lo, 1.0)
    x0 = np.clip(x0, lo + 1e-6 * span, hi - 1e-6 * span)
    return least_squares(cost.residuals, x0, jac=cost.jacobian, bounds=(lo, hi), method="dogbox",
                         tr_solver="lsmr", ftol=1e-6, xtol=1e-6, max_nfev=max_nfev)


def node_errors(pb: Problem, prof: Profile, floor: float) -> None:
    """Estimate each reach's node-error model (H7) from its misfits at the profile ``prof``.

    The effective channel cannot follow every node's own geometry: its misfit is model error,
    mostly the same at a node at every time.  Per reach, ``sigma_z`` is the spread of the misfits
    about each node's mean misfit (at least ``floor``), ``sigma_node`` the spread of those means
    beyond what ``sigma_z`` explains (method of moments), and each node's offset the best linear
    unbiased predictor of its random effect, ``mean * n sigma_node^2 / (n sigma_node^2 + sigma_z^2)``.
    """
    misfit = prof.z[pb.obs_node, pb.obs_time] - pb.obs_z
    reach = pb.channel.reach[pb.obs_node]
    for r, g in enumerate(pb.geometry):
        mine = reach == r
        if not mine.any():
            continue
        nodes, inverse_idx, count = np.unique(pb.obs_node[mine], return_inverse=True, return_counts=True)
        mean = np.bincount(inverse_idx, weights=misfit[mine]) / count
        within = float(np.sum((misfit[mine] - mean[inverse_idx]) ** 2))
        sig_w = max(float(np.sqrt(within / max(mine.sum() - nodes.size, 1))), floor)
        sig_c2 = max(float(np.mean(mean**2) - np.mean(sig_w**2 / count)), 0.0)
        g.sigma_z, g.sigma_node = sig_w, float(np.sqrt(sig_c2))
        pb.obs_sigma[mine] = sig_w
        pb.node_offset[nodes] = mean * count * sig_c2 / (count * sig_c2 + sig_w**2)


def minimise(pb: Problem, max_nfev: int = 60, sigma_floor: float | None = None) -> Fit:
    """Minimise the cost H11 from the background (the first guess).

    With ``sigma_floor``, a second minimisation follows from the first one's optimum with the
    node-error model estimated there (:func:`node_errors`).
    """
    cost = Cost(pb)
    x0 = pack(pb.background.first_guess())
    r0 = cost.residuals(x0)
    sol = _least_squares(cost, x0, max_nfev)
    nfev = int(sol.nfev)
    if sigma_floor is not None:
        node_errors(pb, cost.profile(sol.x), sigma_floor)
        cost = Cost(pb, cost.profiles)
        r0 = cost.residuals(x0)
        sol = _least_squares(cost, sol.x, max_nfev)
        nfev += int(sol.nfev)
    c = cost.controls(sol.x)
    return Fit(c, cost.profile(sol.x), float(sol.cost), 0.5 * float(r0 @ r0), nfev,
               int(sol.status), str(sol.message))


def reach_results(pb: Problem, fit: Fit, obs: Sequence[ReachObs]) -> list[FlpeResult]:
    """Per reach: Q on its times (H5), the flow-law parameters (H12) and diagnostics.

    A reach whose discharge or parameters are not all finite is flagged with the reason.
    """
    out = []
    for r, o in enumerate(obs):
        q, params, law = reach_estimate(pb, fit, o, r)
        seen = pb.time_index[r] >= 0
        if not (np.isfinite(q[seen]).all() and all(np.isfinite(v) for v in params.values())):
            out.append(FlpeResult.invalid(o.reach_id, o.nt, f"no finite estimate ({fit.message})"))
            continue
        out.append(FlpeResult(reach_id=o.reach_id, q=q, params=dict(params), extra={**_diagnostics(pb, fit, r), **law}))
    return out


def reach_estimate(pb: Problem, fit: Fit, o: ReachObs, r: int) -> tuple[np.ndarray, dict[str, float], dict[str, float]]:
    """Reach ``r``'s discharge ``[nt]`` (H5), flow-law parameters ``A0, alpha, beta`` (H12) and their diagnostics.

    ``A0`` is the mean over the reach's times of its model flow area (mean of its nodes) less the
    time's ``d_x_area``; ``beta`` the estimate.  The backwater model's ``alpha`` (``K_ref h_ref^-beta``,
    on node sections and the friction slope) is then scaled so that the reach-scale law (flow law
    ``hivdi``, on the reach's width, slope and ``d_x_area``) has the mean of the model discharge over
    the times where both are defined (:meth:`~confluence_flpe.flowlaws.FlowLaw.with_mean`), which is
    what MOI and offline assume of the parameters.  Where the law is defined at no time, the model's
    ``alpha`` is kept.

    Returns
    -------
    q : ndarray [nt]
        Discharge (m3/s), NaN on the reach's unused times.
    params : dict
        ``A0`` (m2), ``alpha`` (m^(1/3)/s), ``beta``.
    law : dict
        ``alpha_model`` (the backwater's alpha), ``law_times`` (times where the law is defined),
        ``law_rms_log`` (rms of ``ln(Q_law / Q)`` over them, NaN when none).
    """
    c, idx, sl = fit.controls, pb.time_index[r], pb.nodes[r]
    seen = idx >= 0
    q = np.full(o.nt, np.nan)
    q[seen] = pb.channel.share[r] * np.exp(c.log_q[idx[seen]])
    area = np.full(o.nt, np.nan)
    area[seen] = fit.profile.area[sl][:, idx[seen]].mean(axis=0)
    a0 = area - o.d_x_area
    a0_mean = float(np.mean(a0[np.isfinite(a0)])) if np.isfinite(a0).any() else float("nan")
    beta = float(c.beta[r])
    alpha_model = float(np.exp(c.log_kref[r]) * pb.channel.h_ref[r] ** -beta)
    params = {"A0": a0_mean, "alpha": alpha_model, "beta": beta}
    nan = np.full(o.nt, np.nan)
    fo = FlowObs(*(np.where(seen, v, nan) for v in (o.width, o.wse, o.slope, o.d_x_area)))
    q_law = LAW.q({"Abar": a0_mean, "alpha": alpha_model, "beta": beta}, fo)
    both = np.isfinite(q_law) & np.isfinite(q)
    law = {"alpha_model": alpha_model, "law_times": float(np.count_nonzero(both)), "law_rms_log": float("nan")}
    if both.any():
        matched = LAW.with_mean({"Abar": a0_mean, "alpha": alpha_model, "beta": beta}, fo, float(np.mean(q[both])))
        params["alpha"] = matched["alpha"]
        ratio = LAW.q(matched, fo)[both] / q[both]
        law["law_rms_log"] = float(np.sqrt(np.mean(np.log(ratio) ** 2)))
    return q, params, law

def _diagnostics(pb: Problem, fit: Fit, r: int) -> dict[str, float]:
    """What else the file records of reach ``r``: the other controls, priors, errors, solver state."""
    c, sl, g, bg = fit.controls, pb.nodes[r], pb.geometry[r], pb.background
    d, _ = backwater.low_flow_depth(pb.channel, c.log_depth, c.tilt)
    seen = pb.time_index[r] >= 0
    return {
        "low_flow_depth": float(np.exp(c.log_depth[r])), "depth_tilt": float(c.tilt[r]),
        "bed_elevation": float(np.mean(pb.channel.z_lo[sl] - d[sl])),
        "K_ref": float(np.exp(c.log_kref[r])), "K_ref_prior": float(np.exp(bg.log_kref[r])),
        "h_ref": float(pb.channel.h_ref[r]), "A0_prior_low": float(np.exp(bg.log_depth[r]) * g.widths[0]),
        "sigma_z": g.sigma_z, "sigma_node": g.sigma_node,
        "n_node_obs": int(np.count_nonzero(np.isfinite(g.z_obs[:, seen]))),
        "n_pseudo_times": int(np.count_nonzero(g.pseudo)), "share": float(pb.channel.share[r]),
        "choked": int(np.count_nonzero(fit.profile.choked[sl])), "cost": fit.cost,
        "cost_background": fit.cost_background, "nfev": fit.nfev, "status": fit.status,
    }
