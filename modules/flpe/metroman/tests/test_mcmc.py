from dataclasses import replace

import numpy as np
import pytest
from confluence_flpe_metroman.config import MetroManConfig
from confluence_flpe_metroman.mcmc import build_problem, log_posterior, sample_posterior
from metroman_testdata import trapezoid_set

FAST = MetroManConfig(n_iter=3000, burn_in=1000)


def problem(truth, factor=1.0, cfg=FAST):
    return build_problem(truth.width, truth.slope, truth.d_x_area, factor * truth.q.mean(axis=1), cfg)


def test_sampler_reproduces_the_prior_without_data(truth3):
    """With every likelihood term off the chain must sample the priors (checks the Metropolis rule)."""
    cfg = MetroManConfig(n_iter=20000, burn_in=2000)
    p = problem(truth3, cfg=cfg)
    p = replace(p, pair_w=np.zeros_like(p.pair_w), qbar_w=np.zeros_like(p.qbar_w))
    post = sample_posterior(p, cfg, np.random.default_rng(3))
    chain = post.chain.reshape(-1, 3, 3)
    np.testing.assert_allclose(chain.mean(axis=0), p.prior_mean, atol=0.12)
    np.testing.assert_allclose(chain.std(axis=0), p.prior_sd, rtol=0.2)


def test_deterministic_given_seed(truth3):
    p = problem(truth3)
    a = sample_posterior(p, FAST, np.random.default_rng(7))
    b = sample_posterior(p, FAST, np.random.default_rng(7))
    c = sample_posterior(p, FAST, np.random.default_rng(8))
    np.testing.assert_array_equal(a.chain, b.chain)
    np.testing.assert_array_equal(a.q, b.q)
    assert not np.array_equal(a.chain, c.chain)


def test_recovers_synthetic_set_with_biased_prior(truth3):
    """3 reaches, 50 times, known A0 / na / x1, mean-flow prior 30 % too high."""
    cfg = MetroManConfig()
    p = problem(truth3, 1.3, cfg)
    post = sample_posterior(p, cfg, np.random.default_rng(0))
    q, qt = post.q, truth3.q
    rbias = q.mean(axis=1) / qt.mean(axis=1) - 1
    nrmse = np.sqrt(np.mean((q - qt) ** 2, axis=1)) / qt.mean(axis=1)
    r = np.array([np.corrcoef(q[k], qt[k])[0, 1] for k in range(3)])
    print(f"\nrBIAS {rbias.round(3)} nRMSE {nrmse.round(3)} r {r.round(4)}")
    print(f"A0 {post.a0.round(1)} (true {truth3.a0.round(1)}) na {post.na.round(4)} (true {truth3.na})")
    assert np.all(r > 0.98)
    assert np.all(np.abs(rbias) < 0.3)  # no worse than the prior's own bias
    assert np.all(nrmse < 0.35)
    assert np.all(np.abs(np.log(post.a0 / truth3.a0)) < np.log(1.6))
    assert np.all(np.abs(np.log(post.na / truth3.na)) < np.log(1.6))
    assert np.all(np.abs(post.x1 - truth3.x1) < 0.5)
    # mass conservation: consecutive reaches carry the same flow (truth: +2 % per reach)
    assert np.median(np.abs(np.log(q[1:] / q[:-1]))) < 0.08
    assert np.all((post.acceptance > 0.1) & (post.acceptance < 0.6))
    assert np.all((post.q_u > 0) & (post.q_u < 1.5))


def test_posterior_is_higher_near_truth_than_at_a_wrong_a0(truth3):
    p = problem(truth3)
    truth = np.column_stack([np.log(truth3.a0), np.log(truth3.na), truth3.x1])
    wrong = truth.copy()
    wrong[1, 0] += np.log(3.0)
    assert log_posterior(p, truth) > log_posterior(p, wrong) + 5


def test_single_reach_has_no_mass_conservation_term(truth3):
    one = trapezoid_set(1)
    p = build_problem(one.width, one.slope, one.d_x_area, one.q.mean(axis=1), FAST)
    assert p.pair_w.shape == (0, one.width.shape[1]) and p.n_common == 0
    post = sample_posterior(p, FAST, np.random.default_rng(0))
    rbias = post.q.mean() / one.q.mean() - 1
    assert abs(rbias) < 0.5 and np.corrcoef(post.q[0], one.q[0])[0, 1] > 0.9


def test_invalid_times_are_nan_and_ignored(truth3):
    width = truth3.width.copy()
    width[0, :5] = np.nan
    slope = truth3.slope.copy()
    slope[2, -3:] = -1e-5  # negative slope: unusable by Manning
    p = build_problem(width, slope, truth3.d_x_area, truth3.q.mean(axis=1), FAST)
    assert p.n_common == 50 - 8
    post = sample_posterior(p, FAST, np.random.default_rng(0))
    assert np.isnan(post.q[0, :5]).all() and np.isnan(post.q[2, -3:]).all()
    assert np.isfinite(post.q[1]).all()


def test_needs_a_mean_flow_prior(truth3):
    with pytest.raises(ValueError, match="mean flow"):
        build_problem(truth3.width, truth3.slope, truth3.d_x_area, np.full(3, np.nan), FAST)


def test_storage_term_by_hand() -> None:
    """Two 10 km reaches whose areas grow 100 m2 a day store 10,000 m x 100 m2 / 86,400 s = 11.57 m3/s."""
    from confluence_flpe_metroman.mcmc import mass_residual, storage_term

    t = np.arange(5) * 86400.0
    dA = np.vstack([100.0 * np.arange(5), 100.0 * np.arange(5) + 30.0])
    valid = np.ones((2, 5), dtype=bool)
    s = storage_term(dA, valid, t, np.array([10_000.0, 10_000.0]))
    np.testing.assert_allclose(s, np.full((1, 5), 10_000.0 * 100.0 / 86_400.0))
    assert storage_term(dA, valid, t, np.array([np.nan, 10_000.0])).tolist() == [[0.0] * 5]
    # continuity holds exactly when the downstream flow is the upstream flow plus inflow minus storage
    q_up = np.array([500.0, 520.0, 540.0, 560.0, 580.0])
    gain = np.array([[0.05]])
    q_down = q_up * np.exp(0.05) - s[0]
    lq = np.log(np.vstack([q_up, q_down]))
    np.testing.assert_allclose(mass_residual(lq, gain, s), 0.0, atol=1e-12)
    np.testing.assert_allclose(mass_residual(lq, gain, None)[0], np.log(q_down / (q_up * np.exp(0.05))))


def test_storage_switch_from_the_environment(monkeypatch) -> None:
    from confluence_flpe_metroman import MetroManConfig

    assert MetroManConfig().storage is True
    monkeypatch.setenv("CONFLUENCE_METROMAN_STORAGE", "0")
    assert MetroManConfig.from_env().storage is False


def test_a_stated_prior_sd_weakens_the_mean_flow_prior(truth3):
    """A rough no-SoS prior with a stated sd (SoS mean_q_sd_ln) weighs less: weight 1 / (R sd^2)."""
    default = problem(truth3)
    wide = build_problem(truth3.width, truth3.slope, truth3.d_x_area, truth3.q.mean(axis=1), FAST,
                         qbar_sd=np.full(3, 1.0))
    np.testing.assert_allclose(default.qbar_w, 1 / (3 * FAST.sigma_log_qbar**2))
    np.testing.assert_allclose(wide.qbar_w, default.qbar_w * FAST.sigma_log_qbar**2)
