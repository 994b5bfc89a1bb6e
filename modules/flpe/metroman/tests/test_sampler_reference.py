"""The sampler's vectorised sweep against the plain block-by-block Metropolis-within-Gibbs it implements.

:func:`confluence_flpe_metroman.mcmc.sample_posterior` computes every reach's proposal at once and
only the mass-conservation terms block by block; :func:`reference_chain` below is the direct form
(each parity block proposes, evaluates and accepts in turn, then the common-scale move).  Given
the same random numbers both must make the same decisions, hence the same chain, bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
from confluence_flpe_metroman.config import MetroManConfig
from confluence_flpe_metroman.mcmc import (
    ADAPT_WINDOW,
    TARGET_ACCEPT,
    SetProblem,
    _log_q,
    _pair_terms,
    build_problem,
    mass_residual,
    sample_posterior,
)
from metroman_testdata import trapezoid_set

# past the fifth adaptation window, so that the proposal covariance adapts too
CFG = MetroManConfig(n_iter=800, burn_in=600)


def reference_chain(p: SetProblem, cfg: MetroManConfig, rng: np.random.Generator) -> np.ndarray:
    """The chain ``[n_iter, R, 3]`` of the block-by-block sampler (same draws, same adaptation)."""
    R, n_iter = p.n_reaches, cfg.n_iter
    z = rng.standard_normal((n_iter, R, 3))
    log_u = np.log(rng.random((n_iter, R)))
    shift_draws = rng.standard_normal(n_iter)
    log_ug = np.log(rng.random(n_iter))
    tw = p.valid / p.valid.sum(axis=1, keepdims=True)
    inv_sd, mu = 1.0 / p.prior_sd, p.prior_mean
    gain = p.pair_mu[:, None]
    theta = mu.copy()
    chol = np.zeros((R, 3, 3))
    chol[:, [0, 1, 2], [0, 1, 2]] = 0.2 * p.prior_sd
    log_scale, log_gstep = np.zeros(R), np.log(0.1)
    lq = _log_q(p, theta, slice(None))
    lp = -0.5 * np.vecdot((theta - mu) * inv_sd, (theta - mu) * inv_sd)
    lm = np.log(np.vecdot(np.exp(lq), tw))
    pair = _pair_terms(p, lq) if R > 1 else np.zeros(0)
    chain = np.empty((n_iter, R, 3))
    accepted = np.zeros((n_iter, R), dtype=bool)
    g_acc = np.zeros(n_iter, dtype=bool)
    with np.errstate(all="ignore"):
        for i in range(n_iter):
            w = i % ADAPT_WINDOW
            if w == 0:
                steps = np.einsum("rij,nrj->nri", chol, z[i : i + ADAPT_WINDOW]) * np.exp(log_scale)[None, :, None]
            for k in (0, 1):
                rows = np.arange(k, R, 2)
                if not rows.size:
                    continue
                owner = np.where(np.arange(R - 1) % 2 == k, np.arange(R - 1), np.arange(1, R))
                prop = theta[rows] + steps[w][rows]
                lq_b = _log_q(p, prop, rows)
                zz = (prop - mu[rows]) * inv_sd[rows]
                d_lp = -0.5 * np.vecdot(zz, zz) - lp[rows]
                lm_b = np.log(np.vecdot(np.exp(lq_b), tw[rows]))
                e_new, e_old = lm_b - p.log_qbar[rows], lm[rows] - p.log_qbar[rows]
                d_log = d_lp - 0.5 * p.qbar_w[rows] * (e_new * e_new - e_old * e_old)
                if R > 1:
                    lq_prop = lq.copy()
                    lq_prop[rows] = lq_b
                    d = mass_residual(lq_prop, gain, p.pair_storage)
                    pair_new = -0.5 * np.vecdot(p.pair_w * d, d)
                    d_log = d_log + np.bincount(owner, weights=pair_new - pair, minlength=R)[rows]
                ok = log_u[i, rows] < d_log
                acc = rows[ok]
                theta[acc], lq[acc], lm[acc] = prop[ok], lq_b[ok], lm_b[ok]
                lp[acc] += d_lp[ok]
                accepted[i, acc] = True
                if R > 1:
                    pair = np.where(accepted[i][owner], pair_new, pair)
            delta = np.exp(log_gstep) * shift_draws[i]
            zn = (theta[:, 1] - mu[:, 1]) * inv_sd[:, 1]
            zn_new = zn + delta * inv_sd[:, 1]
            d_lpn = -0.5 * (zn_new * zn_new - zn * zn)
            e = lm - p.log_qbar
            d_qb = -0.5 * p.qbar_w * ((e - delta) ** 2 - e * e)
            d_pairs = 0.0
            if R > 1 and p.pair_storage is not None:
                d = mass_residual(lq - delta, gain, p.pair_storage)
                shifted = -0.5 * np.vecdot(p.pair_w * d, d)
                d_pairs = float(shifted.sum() - pair.sum())
            if log_ug[i] < d_lpn.sum() + d_qb.sum() + d_pairs:
                theta[:, 1] += delta
                lq, lm, lp = lq - delta, lm - delta, lp + d_lpn
                if R > 1 and p.pair_storage is not None:
                    pair = shifted
                g_acc[i] = True
            chain[i] = theta
            if i < cfg.burn_in and w == ADAPT_WINDOW - 1:
                window = slice(i + 1 - ADAPT_WINDOW, i + 1)
                log_scale += 2.0 * (accepted[window].mean(axis=0) - TARGET_ACCEPT)
                log_gstep += 2.0 * (g_acc[window].mean() - TARGET_ACCEPT)
                if i + 1 >= 5 * ADAPT_WINDOW:
                    hist = chain[(i + 1) // 2 : i + 1]
                    dev = hist - hist.mean(axis=0)
                    cov = np.einsum("nri,nrj->rij", dev, dev) / max(hist.shape[0] - 1, 1) * (2.38**2 / 3.0)
                    cov[:, [0, 1, 2], [0, 1, 2]] += 1e-6 * p.prior_sd**2
                    chol = np.linalg.cholesky(cov)
    return chain


@pytest.mark.parametrize(("n_reaches", "storage"), [(1, False), (3, True), (4, True), (4, False)])
def test_vectorised_sweep_is_the_block_by_block_sampler(n_reaches: int, storage: bool) -> None:
    tr = trapezoid_set(n_reaches, n_times=30)
    T = tr.width.shape[1]
    p = build_problem(tr.width, tr.slope, tr.d_x_area, 1.2 * tr.q.mean(axis=1), CFG,
                      facc=np.linspace(1e4, 1.3e4, n_reaches), time=np.arange(T) * 86400.0 * 3,
                      reach_length=np.full(n_reaches, 8000.0) if storage else None)
    assert (p.pair_storage is not None) == (storage and n_reaches > 1)
    post = sample_posterior(p, CFG, np.random.default_rng(11))
    ref = reference_chain(p, CFG, np.random.default_rng(11))
    np.testing.assert_array_equal(post.chain, ref[CFG.burn_in :])
    assert post.acceptance.min() > 0 and post.acceptance.max() < 1  # the chain both moves and rejects
