"""Mean-flow integration over a river network: the optimisation of the MOI (see the package docstring).

Pure functions: arrays in, arrays out.  Units: discharge m3/s, standard
deviations in natural-log units (0.4 ~ a 40 % relative error).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from confluence_core.network import Drainage, accumulation, levels, outlet_of
from scipy.optimize import least_squares

#: Trust-region subproblem solver: "lsmr" works on the sparse Jacobian (fast at any size); "exact"
#: (dense SVD) is kept for checks on small networks.
TR_SOLVER = "lsmr"


@dataclass(frozen=True)
class Settings:
    """Uncertainties and solver settings of the integration (log-space sds, dimensionless).

    Attributes
    ----------
    flpe_sd : float
        Log-space sd of an FLPE reach mean when the algorithm gives no ``q_u``:
        reach-mean errors of SWOT flow laws are typically 30-50 % (Durand et
        al. 2016, doi:10.1002/2015WR018434), so 0.4.
    min_flpe_sd : float
        Smallest sd an algorithm may claim through ``q_u``.
    prior_sd : float
        Log-space sd of the SoS model ``mean_q`` (water-balance-model means are
        off by a factor ~1.5: 0.5).
    gauge_sd : float
        Log-space sd of a SoS ``mean_q`` that a gauge overwrote
        (``model/overwritten_indexes`` = 1).
    lateral_rel_sd, lateral_abs_sd : float
        sd of the lateral share of a reach's mean flow around its facc share
        ``f``: ``lateral_rel_sd * f + lateral_abs_sd``.
    tol : float
        ``ftol`` / ``xtol`` / ``gtol`` of the solver.
    max_nfev : int
        Most function evaluations of the solver.
    """

    flpe_sd: float = 0.4
    min_flpe_sd: float = 0.05
    prior_sd: float = 0.5
    gauge_sd: float = 0.05
    lateral_rel_sd: float = 0.5
    lateral_abs_sd: float = 0.05
    tol: float = 1e-10
    max_nfev: int = 200


#: The default settings.
DEFAULT = Settings()


@dataclass
class Integrated:
    """Result of :func:`integrate` (arrays aligned with the network's reaches).

    Attributes
    ----------
    q : ndarray
        Integrated mean flow (m3/s); NaN in network components with neither
        data nor prior.
    lateral : ndarray
        Lateral inflow (m3/s, >= 0): ``q - sum(q upstream)``.
    success : bool
        The solver converged.
    cost : float
        Final value of half the objective.
    nfev : int
        Function evaluations.
    message : str
    """

    q: np.ndarray
    lateral: np.ndarray
    success: bool
    cost: float
    nfev: int
    message: str


def reach_mean(q: np.ndarray, q_u: np.ndarray | None, settings: Settings = DEFAULT) -> tuple[float, float, int]:
    """An algorithm's reach mean flow and its log-space uncertainty.

    Parameters
    ----------
    q : array, shape (nt,)
        Discharge series (m3/s); NaN, zero and negative values are missing.
    q_u : array, shape (nt,), optional
        Its 1-sigma uncertainty (m3/s), NaN where unknown.
    settings : Settings

    Returns
    -------
    qbar : float
        Mean of the valid values (m3/s), NaN when none.
    sd : float
        Log-space sd of ``qbar``: ``sqrt(s0**2 + var(log q) / n)`` where
        ``s0 = log1p(median(q_u / q))`` (at least ``min_flpe_sd``) when ``q_u``
        is given, else ``flpe_sd``; the second term is the standard error of
        the mean from the series' spread (0 with a single value).
    n : int
        Number of valid values.
    """
    q = np.asarray(q, dtype=np.float64)
    ok = np.isfinite(q) & (q > 0)
    n = int(ok.sum())
    if n == 0:
        return float("nan"), float("nan"), 0
    qbar = float(q[ok].mean())
    s0 = settings.flpe_sd
    if q_u is not None:
        u = np.asarray(q_u, dtype=np.float64)
        if u.shape == q.shape:
            rel = u[ok] / q[ok]
            rel = rel[np.isfinite(rel) & (rel > 0)]
            if rel.size:
                s0 = max(float(np.log1p(np.median(rel))), settings.min_flpe_sd)
    spread = float(np.var(np.log(q[ok]), ddof=1)) / n if n > 1 else 0.0
    return qbar, float(np.sqrt(s0**2 + spread)), n


def integrate(net: Drainage, q_obs: np.ndarray, sd_obs: np.ndarray, q_prior: np.ndarray, sd_prior: np.ndarray,
              settings: Settings = DEFAULT) -> Integrated:
    """Integrate one algorithm's reach mean flows over the network.

    Solves, for lateral inflows ``L >= 0`` (mean flows ``Q = C L``)::

        min  sum_obs ((log Q_i - log Qhat_i) / s_i)^2
           + sum_prior ((log Q_i - log Qprior_i) / p_i)^2
           + sum_{j with upstream} ((L_j / Q_j - f_j) / (a f_j + b))^2

    with the trust-region reflective method for bound-constrained nonlinear
    least squares (Branch, Coleman & Li 1999, doi:10.1137/S1064827595289108).

    Parameters
    ----------
    net : confluence_core.network.Drainage
    q_obs : array, shape (n,)
        The algorithm's reach mean flow (m3/s), NaN where it has none.
    sd_obs : array, shape (n,)
        Log-space sd of ``q_obs``.
    q_prior : array, shape (n,)
        SoS model mean flow (m3/s), NaN where none.
    sd_prior : array, shape (n,)
        Log-space sd of ``q_prior``.
    settings : Settings

    Returns
    -------
    Integrated
    """
    n = net.n
    q_obs, sd_obs, q_prior, sd_prior = (np.asarray(a, dtype=np.float64) for a in (q_obs, sd_obs, q_prior,
                                                                                     sd_prior))
    has_obs = np.isfinite(q_obs) & (q_obs > 0) & np.isfinite(sd_obs) & (sd_obs > 0)
    has_pri = np.isfinite(q_prior) & (q_prior > 0) & np.isfinite(sd_prior) & (sd_prior > 0)
    q_out, lat_out = np.full(n, np.nan), np.full(n, np.nan)
    # only network components with some information can be solved
    comp = outlet_of(net.down)
    informed = np.isin(comp, comp[has_obs | has_pri])
    sel = np.flatnonzero(informed)
    if sel.size == 0:
        return Integrated(q_out, lat_out, False, float("nan"), 0, "no data and no prior in the network")
    remap = np.full(n, -1)
    remap[sel] = np.arange(sel.size)
    down = np.where(net.down[sel] >= 0, remap[np.maximum(net.down[sel], 0)], -1)
    C = accumulation(down)
    m = sel.size

    # scale: work with flows of order one
    logs = np.concatenate([np.log(q_obs[sel][has_obs[sel]]), np.log(q_prior[sel][has_pri[sel]])])
    scale = float(np.exp(np.median(logs)))
    o = np.flatnonzero(has_obs[sel])
    p = np.flatnonzero(has_pri[sel])
    y_o, w_o = np.log(q_obs[sel][o] / scale), 1.0 / sd_obs[sel][o]
    y_p, w_p = np.log(q_prior[sel][p] / scale), 1.0 / sd_prior[sel][p]
    has_up = np.zeros(m, dtype=bool)
    has_up[down[down >= 0]] = True
    f_all = net.lateral_share[sel]
    lt = np.flatnonzero(has_up & np.isfinite(f_all))
    f = f_all[lt]
    w_l = 1.0 / (settings.lateral_rel_sd * f + settings.lateral_abs_sd)

    x0 = _start(down, C, o, y_o, w_o, p, y_p, w_p)
    lb = np.where(has_up, 0.0, 1e-9)  # a reach without upstream inflow must carry some flow
    x0 = np.maximum(x0, lb + 1e-6)

    Co, Cp, Cl = C[o], C[p], C[lt]
    E_l = sp.csr_matrix((np.ones(lt.size), (np.arange(lt.size), lt)), shape=(lt.size, m))

    def residuals(x: np.ndarray) -> np.ndarray:
        Q = C @ x
        return np.concatenate([(np.log(Q[o]) - y_o) * w_o, (np.log(Q[p]) - y_p) * w_p,
                               (x[lt] / Q[lt] - f) * w_l])

    def jacobian(x: np.ndarray) -> sp.csr_matrix | np.ndarray:
        Q = C @ x
        J = sp.vstack([
            sp.diags(w_o / Q[o]) @ Co,
            sp.diags(w_p / Q[p]) @ Cp,
            sp.diags(w_l / Q[lt]) @ E_l - sp.diags(w_l * x[lt] / Q[lt] ** 2) @ Cl,
        ]).tocsr()
        return J.toarray() if TR_SOLVER == "exact" else J

    res = least_squares(residuals, x0, jac=jacobian, bounds=(lb, np.inf), method="trf",
                        x_scale="jac", ftol=settings.tol, xtol=settings.tol, gtol=settings.tol,
                        max_nfev=settings.max_nfev, tr_solver=TR_SOLVER)
    L = res.x * scale
    q_out[sel] = C @ L
    lat_out[sel] = L
    return Integrated(q_out, lat_out, bool(res.success), float(res.cost), int(res.nfev), str(res.message))


def _start(down: np.ndarray, C: sp.csr_matrix, o: np.ndarray, y_o: np.ndarray, w_o: np.ndarray,
           p: np.ndarray, y_p: np.ndarray, w_p: np.ndarray) -> np.ndarray:
    """A feasible start: per reach the precision-weighted log mean of data and prior, made non-decreasing.

    Level by level from the headwaters, each reach's flow is at least the sum
    of its upstream flows; returns the lateral inflows (scaled units).
    """
    m = down.size
    num, den = np.zeros(m), np.zeros(m)
    np.add.at(num, o, y_o * w_o**2)
    np.add.at(den, o, w_o**2)
    np.add.at(num, p, y_p * w_p**2)
    np.add.at(den, p, w_p**2)
    est = np.where(den > 0, np.exp(num / np.where(den > 0, den, 1.0)), 0.0)
    floor = 1e-3 * float(np.median(est[est > 0])) if (est > 0).any() else 1e-3
    lvl = levels(down)
    Q = np.zeros(m)
    inflow = np.zeros(m)
    for k in range(int(lvl.max()) + 1 if m else 0):
        at = np.flatnonzero(lvl == k)
        Q[at] = np.maximum(np.maximum(est[at], inflow[at]), floor)
        d = down[at]
        np.add.at(inflow, d[d >= 0], Q[at][d >= 0])
    return Q - inflow


def mass_deficit(down: np.ndarray, q: np.ndarray) -> float:
    """Relative mass-balance deficit of mean flows over a network.

    Parameters
    ----------
    down : array of int, shape (n,)
        Downstream pointers (-1 none).
    q : array, shape (n,)
        Mean flows (m3/s); reaches with NaN, and links touching them, are left out.

    Returns
    -------
    float
        ``sum_j max(0, sum(q upstream of j) - q_j) / sum_j q_j`` over reaches
        ``j`` with at least one upstream reach: the share of the flow that
        would have to disappear between reaches (0 for a mass-conserving
        network without losses).  NaN when no reach has an upstream reach.
    """
    q = np.asarray(q, dtype=np.float64)
    link = (down >= 0) & np.isfinite(q)
    link[link] &= np.isfinite(q[down[link]])
    inflow = np.zeros(q.size)
    np.add.at(inflow, down[link], q[link])
    j = np.zeros(q.size, dtype=bool)
    j[down[link]] = True
    if not j.any():
        return float("nan")
    return float(np.maximum(inflow[j] - q[j], 0.0).sum() / q[j].sum())


def implied_lateral(down: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Lateral inflow implied by mean flows: ``q_j - sum(q upstream of j)`` (m3/s); NaN where unknown."""
    q = np.asarray(q, dtype=np.float64)
    has = down >= 0
    inflow = np.zeros(q.size)
    np.add.at(inflow, down[has], q[has])
    return q - inflow
