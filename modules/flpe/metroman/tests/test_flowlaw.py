import numpy as np
import pytest
from confluence_flpe_metroman.flowlaw import a0_prior_median, manning_log_q, manning_q, observation_log_sd


def test_log_q_matches_manning():
    rng = np.random.default_rng(0)
    dA = rng.uniform(0, 100, (2, 7))
    w = rng.uniform(50, 150, (2, 7))
    s = rng.uniform(1e-5, 1e-3, (2, 7))
    a0, na, x1 = np.array([[120.0], [300.0]]), np.array([[0.03], [0.02]]), np.array([[-0.2], [0.3]])
    lq = manning_log_q(np.log(a0), np.log(na), x1, dA, np.log(w), 0.5 * np.log(s) - 2 / 3 * np.log(w))
    np.testing.assert_allclose(np.exp(lq), manning_q(a0, na, x1, dA, w, s), rtol=1e-12)


def test_manning_constant_n_textbook():
    # wide rectangle 100 m x 2 m, S = 1e-4, n = 0.03: Q = A^(5/3) W^(-2/3) S^(1/2) / n
    q = manning_q(200.0, 0.03, 0.0, 0.0, 100.0, 1e-4)
    assert q == pytest.approx(200 ** (5 / 3) * 100 ** (-2 / 3) * 1e-2 / 0.03)


def test_a0_prior_reproduces_mean_flow():
    rng = np.random.default_rng(1)
    w = rng.uniform(80, 120, (3, 20))
    s = rng.uniform(5e-5, 2e-4, (3, 20))
    dA = rng.uniform(0, 150, (3, 20))
    valid = rng.random((3, 20)) > 0.2
    mean_q = np.array([150.0, 400.0, 900.0])
    a0 = a0_prior_median(mean_q, dA, w, s, valid, 0.03, 0.0)
    q = manning_q(a0[:, None], 0.03, 0.0, dA, w, s)
    np.testing.assert_allclose((q * valid).sum(1) / valid.sum(1), mean_q, rtol=1e-8)


def test_a0_prior_floor_when_area_change_alone_carries_the_flow():
    w = np.full((1, 5), 100.0)
    s = np.full((1, 5), 1e-3)
    dA = np.array([[0.0, 500, 1000, 1500, 2000]])
    a0 = a0_prior_median(np.array([1.0]), dA, w, s, np.ones((1, 5), bool), 0.03, 0.0)
    assert a0[0] == pytest.approx(0.1, rel=1e-6)  # 1e-3 * mean width


def test_observation_error_adds_measurement_terms():
    w = np.full((1, 3), 100.0)
    s = np.full((1, 3), 1e-4)
    sd = observation_log_sd(w, s, np.array([[15.0, np.nan, 15.0]]), np.array([[2e-5, 2e-5, 1.0]]), 0.1)
    assert sd[0, 0] == pytest.approx(np.sqrt(0.01 + 0.1**2 + 0.1**2))
    assert sd[0, 1] == pytest.approx(np.sqrt(0.01 + 0.1**2))  # NaN width_u counts as zero
    assert sd[0, 2] == pytest.approx(np.sqrt(0.01 + 0.1**2 + 1.0))  # relative term capped at 1
