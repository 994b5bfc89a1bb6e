"""SAD's priors from the SoS: geoBAM when present, the paper's defaults otherwise."""

from __future__ import annotations

import numpy as np
import pytest
from confluence_flpe.interface import Priors
from confluence_flpe.pepsi import priors_from_qwbm
from confluence_flpe_sad.priors import (
    DAILY_LOG_SD,
    N_BOUNDS,
    R_BOUNDS,
    R_GENERIC,
    LogNormal,
    Uniform,
    daily_log_sd,
    latin_hypercube,
    sad_priors,
)


def test_defaults_without_geobam() -> None:
    p = sad_priors(Priors(reach_id=1, mean_q=300.0), width=100.0, slope=1e-4)
    assert p.n == Uniform(*N_BOUNDS)
    assert p.r == LogNormal(*R_GENERIC, *R_BOUNDS)
    assert (p.qbar.lo, p.qbar.hi) == (30.0, 3000.0)
    assert p.daily_log_sd == DAILY_LOG_SD
    np.testing.assert_array_equal(p.monthly_ratio, 1.0)
    assert p.depth.lo > 0 and p.depth.hi >= 20.0


def test_geobam_priors_are_used_within_the_outer_limits() -> None:
    gb = {"logn_hat": np.log(0.03), "logn_sd": 0.25, "lower_logn": np.log(0.02), "upper_logn": np.log(0.06),
          "logr_hat": np.log(3.0), "logr_sd": 0.5, "lowerbound_logr": np.log(0.1), "upperbound_logr": np.log(99.0)}
    p = sad_priors(Priors(reach_id=1, mean_q=300.0, gb=gb), width=100.0, slope=1e-4)
    assert p.n == LogNormal(np.log(0.03), 0.25, pytest.approx(0.02), pytest.approx(0.06))
    assert isinstance(p.r, LogNormal) and (p.r.lo, p.r.hi) == R_BOUNDS  # gb bounds clipped to R_BOUNDS
    q = p.n.ppf(np.linspace(0.001, 0.999, 1001))
    assert q.min() >= 0.02 - 1e-12 and q.max() <= 0.06 + 1e-12
    assert p.n.ppf(np.array([0.5]))[0] == pytest.approx(0.03, rel=0.05)


def test_daily_spread_from_a_lognormal_flow_duration_curve() -> None:
    """The Pepsi priors' flow duration curve is a lognormal of log sd 0.8: its 10-90 % spread gives it back."""
    assert daily_log_sd(priors_from_qwbm(1, 500.0, log_sd=0.8)) == pytest.approx(0.8, rel=0.02)
    assert daily_log_sd(Priors(reach_id=1, gb={"logQ_sd": 0.57})) == pytest.approx(0.57)


def test_monthly_ratio_and_no_mean_flow() -> None:
    monthly = np.linspace(100.0, 650.0, 12)
    p = sad_priors(Priors(reach_id=1, mean_q=375.0, monthly_q=monthly), width=100.0, slope=1e-4)
    np.testing.assert_allclose(p.monthly_ratio, monthly / 375.0)
    with pytest.raises(ValueError, match="mean_q"):
        sad_priors(Priors(reach_id=1), width=100.0, slope=1e-4)


def test_latin_hypercube_is_stratified_and_seeded() -> None:
    u = latin_hypercube(np.random.default_rng(3), 50, 4)
    assert u.shape == (4, 50)
    for row in u:
        np.testing.assert_array_equal(np.sort(np.floor(row * 50)), np.arange(50))
    np.testing.assert_array_equal(u, latin_hypercube(np.random.default_rng(3), 50, 4))
