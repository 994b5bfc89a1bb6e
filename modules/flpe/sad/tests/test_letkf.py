"""The LETKF analysis (S7-S11) against the Kalman filter's known answer."""

from __future__ import annotations

import numpy as np
from confluence_flpe_sad.letkf import letkf


def _ensemble(m: int = 3, k: int = 40, p: int = 5, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(m, 1)) + rng.normal(size=(m, m)) @ rng.normal(size=(m, k))
    h = rng.normal(size=(p, m))
    d = rng.normal(size=p) * 3
    r_var = rng.uniform(0.5, 2.0, p)
    return x, h, d, r_var


def test_linear_gaussian_analysis_is_the_kalman_update() -> None:
    """With a linear H and no inflation, the ETKF mean and covariance are the Kalman filter's exactly."""
    x, h, d, r_var = _ensemble()
    xa = letkf(x, h @ x, d, r_var, rho=1.0)
    xm, p = x.mean(axis=1), np.cov(x)
    gain = p @ h.T @ np.linalg.inv(h @ p @ h.T + np.diag(r_var))
    np.testing.assert_allclose(xa.mean(axis=1), xm + gain @ (d - h @ xm), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(np.cov(xa), (np.eye(3) - gain @ h) @ p, rtol=1e-9, atol=1e-10)


def test_same_as_the_ensemble_space_equations_with_inflation() -> None:
    """The small-matrix form equals (S7)-(S11) written in ensemble space, inflation included."""
    x, h, d, r_var = _ensemble(k=25, p=40)
    hx, k, rho = h @ x, 25, 1.05
    xb, db = x - x.mean(axis=1, keepdims=True), hx - hx.mean(axis=1, keepdims=True)
    c = db.T / r_var
    pa = np.linalg.inv((k - 1) / rho * np.eye(k) + c @ db)
    lam, v = np.linalg.eigh((k - 1) * pa)
    wa = v @ np.diag(np.sqrt(lam)) @ v.T
    expected = x.mean(axis=1, keepdims=True) + xb @ (wa + (pa @ c @ (d - hx.mean(axis=1)))[:, None])
    np.testing.assert_allclose(letkf(x, hx, d, r_var, rho=rho), expected, rtol=1e-9, atol=1e-9)


def test_missing_observations_are_left_out() -> None:
    x, h, d, r_var = _ensemble()
    d_nan = d.copy()
    d_nan[[1, 3]] = np.nan
    keep = [0, 2, 4]
    np.testing.assert_allclose(letkf(x, h @ x, d_nan, r_var), letkf(x, (h @ x)[keep], d[keep], r_var[keep]))
    np.testing.assert_array_equal(letkf(x, h @ x, np.full(5, np.nan), r_var), x)


def test_huber_down_weights_an_outlier() -> None:
    x, h, d, r_var = _ensemble()
    d_out = d.copy()
    d_out[0] += 1000.0
    clean = letkf(x, h @ x, d, r_var).mean(axis=1)
    plain = letkf(x, h @ x, d_out, r_var).mean(axis=1)
    robust = letkf(x, h @ x, d_out, r_var, huber=2.0).mean(axis=1)
    assert np.linalg.norm(robust - clean) < 0.1 * np.linalg.norm(plain - clean)
