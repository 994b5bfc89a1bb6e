"""MetroMan's posterior: mass-conservation likelihood and an adaptive Metropolis-within-Gibbs sampler.

Unknowns per reach ``r`` of a set (upstream to downstream): ``theta_r = (log A0, log na, x1)``
(flow law in :mod:`.flowlaw`).  The log posterior is

* priors: ``log A0 ~ N(log A0_prior, sigma_log_a0)`` (``A0_prior``: the A0 whose Manning flow
  with the prior roughness averages to the SoS mean flow, :func:`.flowlaw.a0_prior_median`),
  ``log na ~ N(log 0.03, sigma_log_na)``, ``x1 ~ N(0, sigma_x1)``;
* mean-flow prior: ``log mean_t Q_r(t) ~ N(log Qbar_r, sigma_log_qbar)`` over the reach's
  valid times, each reach weighted ``1/R_p`` (``R_p`` reaches with a prior): the SoS mean
  flows of one set come from one model, so the set carries the information of one prior;
* mass conservation (Durand et al. 2014, doi:10.1016/j.jhydrol.2013.12.050): at every time all
  reaches observe, continuity ``dQ/dx + dA/dt = q_lat`` between consecutive reaches,
  ``Q_{r+1}(t) = Q_r(t) e^{mu_r} - S_r(t)``, in log space
  ``log Q_{r+1}(t) - log(Q_r(t) e^{mu_r} - S_r(t)) ~ N(0, sd_r(t)^2 + sd_{r+1}(t)^2 + sigma_lateral^2)``,
  with ``mu_r`` the expected gain from lateral inflow (flow accumulation), ``S_r(t)`` the storage
  term (below) and ``sd`` the flow-law and measurement error of each reach's Manning Q.
  Storage: the water the two reaches store, ``S_r(t) = dx_r (dA_r/dt + dA_{r+1}/dt) / 2`` (m3/s),
  ``dx_r`` the distance between the reach centres (half their lengths, SWORD ``reach_length``)
  and ``dA/dt`` the finite difference of each reach's ``d_x_area`` between its neighbouring
  observed times; ``S_r = 0`` with the switch off (``CONFLUENCE_METROMAN_STORAGE=0``: steady
  flow, the first form of Durand et al. 2014) or where a reach length is unknown.

A set of one reach (the single-reach fallback) has no mass-conservation term: its posterior is
the priors and the mean-flow prior only.

Sampler: Metropolis (Metropolis et al. 1953, doi:10.1063/1.1699114) within Gibbs over reaches.
The mass-conservation terms link only neighbouring reaches, so reaches of even and of odd
position are conditionally independent: each half-sweep proposes a joint 3-parameter
random-walk step for every reach of one parity at once and accepts each independently
(vectorised).  A third move shifts ``log na`` of every reach by one common amount (the
direction the mass-conservation terms cannot see, scale of Q).  During burn-in the per-reach
proposal covariance adapts to the chain (Haario et al. 2001, Bernoulli 7(2):223-242,
doi:10.2307/3318737) and step sizes to an acceptance near 0.3; after burn-in the kernel is
fixed, so the kept states are a proper Metropolis chain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import MetroManConfig
from .flowlaw import a0_prior_median, manning_log_q, observation_log_sd

#: Target acceptance rate of the adaptive steps.
TARGET_ACCEPT = 0.3
#: Adaptation window (iterations) during burn-in.
ADAPT_WINDOW = 100


@dataclass(frozen=True)
class SetProblem:
    """Arrays of one fit (R reaches x T times), invalid entries neutralised, plus priors.

    Attributes
    ----------
    dA : ndarray, shape (R, T)
        Area above the lowest observed stage (m2), 0 where invalid.
    log_w : ndarray, shape (R, T)
        log width (m), 0 where invalid.
    c : ndarray, shape (R, T)
        ``0.5 log S - 2/3 log W``, 0 where invalid.
    valid : ndarray of bool, shape (R, T)
        Times with finite positive width and slope and finite dA.
    log_sd : ndarray, shape (R, T)
        Flow-law and measurement error of log Q (dimensionless).
    pair_w : ndarray, shape (R-1, T)
        Inverse variance of the mass-conservation residual at common times, 0 elsewhere.
    pair_mu : ndarray, shape (R-1,)
        Expected log-flow gain between consecutive reaches.
    pair_storage : ndarray, shape (R-1, T), or None
        Storage term ``S_r(t)`` (m3/s) of each pair (None: steady flow, the residual is linear in log Q).
    log_qbar : ndarray, shape (R,)
        log of the SoS mean flow (m3/s), 0 where absent.
    qbar_w : ndarray, shape (R,)
        Weight ``1 / (R_p sigma_log_qbar^2)`` of the mean-flow prior, 0 where absent.
    prior_mean, prior_sd : ndarray, shape (R, 3)
        Normal priors of ``(log A0, log na, x1)``.
    """

    dA: np.ndarray
    log_w: np.ndarray
    c: np.ndarray
    valid: np.ndarray
    log_sd: np.ndarray
    pair_w: np.ndarray
    pair_mu: np.ndarray
    log_qbar: np.ndarray
    qbar_w: np.ndarray
    prior_mean: np.ndarray
    prior_sd: np.ndarray
    pair_storage: np.ndarray | None = None

    @property
    def n_reaches(self) -> int:
        return int(self.dA.shape[0])

    @property
    def n_common(self) -> int:
        """Times that enter the mass-conservation likelihood (0 for one reach)."""
        return int((self.pair_w > 0).all(axis=0).sum()) if self.pair_w.shape[0] else 0


@dataclass(frozen=True)
class Posterior:
    """Posterior summaries of one fit.

    Attributes
    ----------
    a0, a0_sd : ndarray, shape (R,)
        Posterior mean and sd of A0 (m2, area at the lowest observed stage).
    na, na_sd : ndarray, shape (R,)
        Posterior mean and sd of na (s m^-1/3).
    x1, x1_sd : ndarray, shape (R,)
        Posterior mean and sd of x1 (dimensionless).
    q : ndarray, shape (R, T)
        Posterior mean discharge (m3/s), NaN where invalid.
    q_u : ndarray, shape (R, T)
        Relative 1-sigma uncertainty of q (posterior sd of log Q combined with the flow-law
        and measurement error; dimensionless), NaN where invalid.
    acceptance : ndarray, shape (R,)
        Acceptance rate of each reach's moves after burn-in.
    chain : ndarray, shape (n_iter - burn_in, R, 3)
        Kept states ``(log A0, log na, x1)``.
    """

    a0: np.ndarray
    a0_sd: np.ndarray
    na: np.ndarray
    na_sd: np.ndarray
    x1: np.ndarray
    x1_sd: np.ndarray
    q: np.ndarray
    q_u: np.ndarray
    acceptance: np.ndarray
    chain: np.ndarray


def build_problem(
    width: np.ndarray,
    slope: np.ndarray,
    d_x_area: np.ndarray,
    mean_q: np.ndarray,
    cfg: MetroManConfig,
    width_u: np.ndarray | None = None,
    slope_u: np.ndarray | None = None,
    facc: np.ndarray | None = None,
    time: np.ndarray | None = None,
    reach_length: np.ndarray | None = None,
    qbar_sd: np.ndarray | None = None,
) -> SetProblem:
    """Prepare one fit from observations on a common time axis.

    Parameters
    ----------
    width : ndarray, shape (R, T)
        Width (m), NaN where unobserved.
    slope : ndarray, shape (R, T)
        Water-surface slope (m/m); non-positive slopes are treated as unobserved.
    d_x_area : ndarray, shape (R, T)
        Change in flow area (m2) from any reference.
    mean_q : ndarray, shape (R,)
        SoS mean flow (m3/s), NaN where absent; at least one must be finite and positive.
    cfg : MetroManConfig
        Prior and likelihood scales.
    width_u, slope_u : ndarray, shape (R, T), optional
        1-sigma uncertainties (m, m/m).
    facc : ndarray, shape (R,), optional
        Flow accumulation (km2), for the expected gain between reaches.
    time : ndarray, shape (T,), optional
        Times of the set's axis (s); with ``reach_length`` and ``cfg.storage``, the storage term.
    reach_length : ndarray, shape (R,), optional
        Reach lengths (m).
    qbar_sd : ndarray, shape (R,), optional
        Log-space sd of each reach's mean-flow prior (default ``cfg.sigma_log_qbar`` for all;
        :meth:`Priors.mean_q_log_sd` gives a larger one when the SoS states it).

    Returns
    -------
    SetProblem

    Raises
    ------
    ValueError
        When no reach has a usable mean-flow prior or a reach has no valid time.
    """
    width = np.atleast_2d(np.asarray(width, float))
    slope = np.atleast_2d(np.asarray(slope, float))
    dxa = np.atleast_2d(np.asarray(d_x_area, float))
    mean_q = np.atleast_1d(np.asarray(mean_q, float))
    R = width.shape[0]
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(width) & np.isfinite(slope) & np.isfinite(dxa) & (width > 0) & (slope > 0)
    if not valid.any(axis=1).all():
        raise ValueError("a reach has no valid observation time")
    has_q = np.isfinite(mean_q) & (mean_q > 0)
    if not has_q.any():
        raise ValueError("no reach has a positive SoS mean flow")

    dA = dxa - np.min(np.where(valid, dxa, np.inf), axis=1, keepdims=True)
    dA = np.where(valid, dA, 0.0)
    log_w = np.where(valid, np.log(np.where(valid, width, 1.0)), 0.0)
    c = np.where(valid, 0.5 * np.log(np.where(valid, slope, 1.0)) - 2.0 / 3.0 * log_w, 0.0)
    log_sd = observation_log_sd(
        width,
        slope,
        None if width_u is None else np.atleast_2d(width_u),
        None if slope_u is None else np.atleast_2d(slope_u),
        cfg.sigma_model,
    )

    pair_storage: np.ndarray | None = None
    if R > 1:
        common = valid.all(axis=0)
        var = log_sd[:-1] ** 2 + log_sd[1:] ** 2 + cfg.sigma_lateral**2
        pair_w = np.where(common, 1.0 / var, 0.0)
        pair_mu = np.zeros(R - 1)
        if facc is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                gain = np.log(np.asarray(facc, float)[1:] / np.asarray(facc, float)[:-1])
            pair_mu = np.where(np.isfinite(gain), np.clip(gain, 0.0, cfg.max_lateral_gain), 0.0)
        if cfg.storage and time is not None and reach_length is not None:
            pair_storage = storage_term(dxa, valid, np.asarray(time, float), np.asarray(reach_length, float))
    else:
        pair_w = np.zeros((0, width.shape[1]))
        pair_mu = np.zeros(0)

    log_qbar = np.where(has_q, np.log(np.where(has_q, mean_q, 1.0)), 0.0)
    sd = np.full(R, cfg.sigma_log_qbar) if qbar_sd is None else np.asarray(qbar_sd, float)
    qbar_w = has_q / (has_q.sum() * sd**2)
    q_for_a0 = np.where(has_q, mean_q, np.exp(log_qbar[has_q].mean()))
    a0_med = a0_prior_median(q_for_a0, dA, width, slope, valid, cfg.na_median, cfg.x1_mean)
    prior_mean = np.column_stack([np.log(a0_med), np.full(R, np.log(cfg.na_median)), np.full(R, cfg.x1_mean)])
    prior_sd = np.tile([cfg.sigma_log_a0, cfg.sigma_log_na, cfg.sigma_x1], (R, 1))
    return SetProblem(dA, log_w, c, valid, log_sd, pair_w, pair_mu, log_qbar, qbar_w, prior_mean, prior_sd,
                      pair_storage)


def storage_term(d_x_area: np.ndarray, valid: np.ndarray, time: np.ndarray, reach_length: np.ndarray
                 ) -> np.ndarray:
    """``S_r(t) = dx_r (dA_r/dt + dA_{r+1}/dt) / 2`` (m3/s) of each consecutive pair (see the module docstring).

    Parameters
    ----------
    d_x_area : ndarray, shape (R, T)
        Area change (m2).
    valid : ndarray of bool, shape (R, T)
        Usable times of each reach.
    time : ndarray, shape (T,)
        Times (s).
    reach_length : ndarray, shape (R,)
        Reach lengths (m); a pair with an unknown length gets no storage term.

    Returns
    -------
    ndarray, shape (R-1, T)
        0 where either reach lacks a rate (fewer than two usable times) or a length is unknown.
    """
    R, T = d_x_area.shape
    rate = np.zeros((R, T))
    for r in range(R):
        k = np.flatnonzero(valid[r] & np.isfinite(time))
        if k.size >= 2:
            rate[r, k] = np.gradient(d_x_area[r, k], time[k])  # central differences, one-sided at the ends
    dx = 0.5 * (reach_length[:-1] + reach_length[1:])
    dx = np.where(np.isfinite(dx) & (dx > 0), dx, 0.0)
    return np.asarray(dx[:, None] * 0.5 * (rate[:-1] + rate[1:]))


def mass_residual(lq: np.ndarray, gain: np.ndarray, storage: np.ndarray | None) -> np.ndarray:
    """Continuity residual of consecutive reaches, ``log Q_{r+1} - log(Q_r e^gain - S_r)`` (``[R-1, T]``).

    Steady flow (``storage`` None): ``log Q_{r+1} - log Q_r - gain``.  Where storage would take more
    water than the upstream reach brings, the downstream flow is compared with a thousandth of it
    (a large residual, not a NaN).
    """
    if storage is None:
        return np.asarray(lq[1:] - lq[:-1] - gain)
    upstream = np.exp(lq[:-1] + gain)
    return np.asarray(lq[1:] - np.log(np.maximum(upstream - storage, 1e-3 * upstream)))


def _log_q(p: SetProblem, theta: np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
    """log Q (R', T) of ``theta`` (R', 3) for the reaches ``rows``."""
    return np.asarray(manning_log_q(theta[:, 0:1], theta[:, 1:2], theta[:, 2:3], p.dA[rows], p.log_w[rows],
                                    p.c[rows]))


def _log_mean_q(lq: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """log of the mean of exp(lq) over the valid times of each row."""
    return np.asarray(np.log((np.exp(lq) * valid).sum(axis=-1) / valid.sum(axis=-1)))


def _log_prior(p: SetProblem, theta: np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
    z = (theta - p.prior_mean[rows]) / p.prior_sd[rows]
    return np.asarray(-0.5 * (z * z).sum(axis=-1))


def _pair_terms(p: SetProblem, lq: np.ndarray) -> np.ndarray:
    d = mass_residual(lq, p.pair_mu[:, None], p.pair_storage)
    return np.asarray(-0.5 * (p.pair_w * d * d).sum(axis=-1))


def log_posterior(p: SetProblem, theta: np.ndarray) -> float:
    """Unnormalised log posterior of a state ``theta`` (R, 3) (for tests and diagnostics)."""
    lq = _log_q(p, theta, slice(None))
    lm = _log_mean_q(lq, p.valid)
    qb = -0.5 * p.qbar_w * (lm - p.log_qbar) ** 2
    return float(_log_prior(p, theta, slice(None)).sum() + qb.sum() + _pair_terms(p, lq).sum())


def sample_posterior(p: SetProblem, cfg: MetroManConfig, rng: np.random.Generator) -> Posterior:
    """Run the adaptive Metropolis-within-Gibbs sampler and summarise the posterior.

    Parameters
    ----------
    p : SetProblem
        The fit (:func:`build_problem`).
    cfg : MetroManConfig
        ``n_iter``, ``burn_in`` and ``thin`` are used here.
    rng : numpy.random.Generator
        Source of every random number (all drawn up front: the result is a deterministic
        function of the generator's state).

    Returns
    -------
    Posterior
    """
    R = p.n_reaches
    n_iter = cfg.n_iter
    z = rng.standard_normal((n_iter, R, 3))
    log_u = np.log(rng.random((n_iter, R)))
    shift_draws = rng.standard_normal(n_iter)
    log_ug = np.log(rng.random(n_iter))

    # Per-parity blocks; each mass-conservation pair (r, r+1) has one member of each parity.  A block's
    # proposals do not depend on the other block's moves (it changes only its own reaches), so the
    # proposals of every reach, their Manning flows, priors and mean-flow terms are computed at once
    # per iteration; only the mass-conservation terms and the acceptances go block by block.
    blocks = []
    for k in (0, 1):
        in_block = np.arange(R) % 2 == k
        if in_block.any():
            owner = np.where(np.arange(R - 1) % 2 == k, np.arange(R - 1), np.arange(1, R))
            # log u of the reaches outside the block is +inf: they never accept in its half-sweep
            blocks.append((in_block[:, None], owner, np.where(in_block[None, :], log_u, np.inf)))
    time_weights = p.valid / p.valid.sum(axis=1, keepdims=True)  # time-mean weights
    inv_sd = 1.0 / p.prior_sd
    mu = p.prior_mean
    qbar_weight, log_qbar = p.qbar_w, p.log_qbar
    half_qbar_weight, neg_half_qbar_weight = 0.5 * qbar_weight, -0.5 * qbar_weight
    pair_weight, pair_gain = p.pair_w, p.pair_mu[:, None]
    has_pairs = R > 1
    storage = p.pair_storage
    dA, log_w, c_term = p.dA, p.log_w, p.c
    mu_na, inv_sd_na = mu[:, 1], inv_sd[:, 1]

    theta = mu.copy()
    chol = np.zeros((R, 3, 3))
    chol[:, [0, 1, 2], [0, 1, 2]] = 0.2 * p.prior_sd
    log_scale = np.zeros(R)
    log_gstep = np.log(0.1)
    jitter = 1e-6 * p.prior_sd**2

    lq = _log_q(p, theta, slice(None))
    zz = (theta - mu) * inv_sd
    lp = -0.5 * np.einsum("ij,ij->i", zz, zz)
    lm = np.log(np.einsum("ij,ij->i", np.exp(lq), time_weights))
    pair = _pair_terms(p, lq)
    chain = np.empty((n_iter, R, 3))
    accepted = np.zeros((n_iter, R), dtype=bool)
    g_accepted = np.zeros(n_iter, dtype=bool)
    steps = np.empty((0, R, 3))
    deltas = np.empty(0)

    old = np.seterr(all="ignore")  # rejected proposals may overflow; they compare as False
    try:
        for i in range(n_iter):
            w = i % ADAPT_WINDOW
            if w == 0:  # proposal steps of the whole window at once (kernel fixed within it)
                zw = z[i : i + ADAPT_WINDOW]
                steps = np.einsum("rij,nrj->nri", chol, zw) * np.exp(log_scale)[None, :, None]
                deltas = np.exp(log_gstep) * shift_draws[i : i + ADAPT_WINDOW]
            # every reach's proposal and its Manning flow, prior and mean-flow terms
            prop = theta + steps[w]
            x1 = prop[:, 2:3]
            lq_new = (5.0 / 3.0 - x1) * np.log(np.exp(prop[:, 0:1]) + dA) + x1 * log_w + c_term - prop[:, 1:2]
            zz = (prop - mu) * inv_sd
            d_lp = -0.5 * np.vecdot(zz, zz) - lp
            lm_new = np.log(np.vecdot(np.exp(lq_new), time_weights))
            e_new, e_old = lm_new - log_qbar, lm - log_qbar
            d_log = d_lp - half_qbar_weight * (e_new * e_new - e_old * e_old)
            acc_any = None
            for in_block, owner, log_u_block in blocks:
                d_block = d_log
                if has_pairs:
                    lq_prop = np.where(in_block, lq_new, lq)
                    d = mass_residual(lq_prop, pair_gain, storage)
                    pair_new = -0.5 * np.vecdot(pair_weight * d, d)
                    d_block = d_log + np.bincount(owner, weights=pair_new - pair, minlength=R)
                ok = log_u_block[i] < d_block
                acc_any = ok if acc_any is None else acc_any | ok
                if ok.any():
                    ok2 = ok[:, None]
                    theta = np.where(ok2, prop, theta)
                    lq = np.where(ok2, lq_new, lq)
                    lp = np.where(ok, lp + d_lp, lp)
                    lm = np.where(ok, lm_new, lm)
                    if has_pairs:
                        pair = np.where(ok[owner], pair_new, pair)
            accepted[i] = acc_any

            # Common-scale move: log na + delta for every reach, i.e. log Q - delta everywhere.
            delta = deltas[w]
            zn = (theta[:, 1] - mu_na) * inv_sd_na
            zn_new = zn + delta * inv_sd_na
            d_lpn = -0.5 * (zn_new * zn_new - zn * zn)
            e = lm - log_qbar
            d_qb = neg_half_qbar_weight * ((e - delta) ** 2 - e * e)
            d_pairs = 0.0
            if has_pairs and storage is not None:  # a common scale changes Q against fixed storage
                d = mass_residual(lq - delta, pair_gain, storage)
                pair_shift = -0.5 * np.vecdot(pair_weight * d, d)
                d_pairs = float(pair_shift.sum() - pair.sum())
            if log_ug[i] < d_lpn.sum() + d_qb.sum() + d_pairs:
                theta[:, 1] += delta
                lq -= delta
                lm -= delta
                lp += d_lpn
                if has_pairs and storage is not None:
                    pair = pair_shift
                g_accepted[i] = True
            chain[i] = theta

            if i < cfg.burn_in and w == ADAPT_WINDOW - 1:
                window = slice(i + 1 - ADAPT_WINDOW, i + 1)
                log_scale += 2.0 * (accepted[window].mean(axis=0) - TARGET_ACCEPT)
                log_gstep += 2.0 * (g_accepted[window].mean() - TARGET_ACCEPT)
                if i + 1 >= 5 * ADAPT_WINDOW:
                    hist = chain[(i + 1) // 2 : i + 1]
                    dev = hist - hist.mean(axis=0)
                    cov = np.einsum("nri,nrj->rij", dev, dev) / max(hist.shape[0] - 1, 1)
                    cov *= 2.38**2 / 3.0
                    cov[:, [0, 1, 2], [0, 1, 2]] += jitter
                    chol = np.linalg.cholesky(cov)
    finally:
        np.seterr(**old)

    return _summarise(p, chain[cfg.burn_in :], accepted[cfg.burn_in :], cfg.thin)


def _summarise(p: SetProblem, kept: np.ndarray, accepted: np.ndarray, thin: int) -> Posterior:
    """Posterior means / sds of the parameters and discharge from the kept states."""
    a0 = np.exp(kept[..., 0])
    na = np.exp(kept[..., 1])
    ks = kept[::thin]
    lq = manning_log_q(ks[..., 0:1], ks[..., 1:2], ks[..., 2:3], p.dA, p.log_w, p.c)
    q = np.where(p.valid, np.exp(lq).mean(axis=0), np.nan)
    q_u = np.where(p.valid, np.sqrt(lq.var(axis=0) + p.log_sd**2), np.nan)
    return Posterior(
        a0=a0.mean(axis=0),
        a0_sd=a0.std(axis=0),
        na=na.mean(axis=0),
        na_sd=na.std(axis=0),
        x1=kept[..., 2].mean(axis=0),
        x1_sd=kept[..., 2].std(axis=0),
        q=q,
        q_u=q_u,
        acceptance=accepted.mean(axis=0),
        chain=kept,
    )
