"""Hydrology scores (confluence_core.scores) against small cases computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from confluence_core import scores

OBS = np.array([1.0, 2.0, 3.0, 4.0])  # mean 2.5, sum of squared anomalies 5


def test_perfect_fit() -> None:
    s = scores.all_scores(OBS, OBS)
    assert s["nse"] == 1.0 and s["kge"] == 1.0 and s["r"] == 1.0 and s["r2"] == 1.0
    assert s["rmse"] == 0.0 and s["nrmse"] == 0.0 and s["nbias"] == 0.0 and s["n_matched"] == 4


def test_constant_bias() -> None:
    # est = obs + 0.5: errors all 0.5 -> SSE 1, NSE 1 - 1/5; r 1, alpha 1, beta 3/2.5 -> KGE 1 - 0.2
    s = scores.all_scores(OBS + 0.5, OBS)
    assert s["nse"] == pytest.approx(0.8)
    assert s["kge"] == pytest.approx(0.8)
    assert s["rmse"] == pytest.approx(0.5)
    assert s["nrmse"] == pytest.approx(0.2)
    assert s["nbias"] == pytest.approx(0.2)
    assert s["r"] == pytest.approx(1.0) and s["r2"] == pytest.approx(1.0)


def test_double_and_reversed() -> None:
    # est = 2 obs: SSE = sum(obs^2) = 30 -> NSE -5; r 1, alpha 2, beta 2 -> KGE 1 - sqrt(2)
    s = scores.all_scores(2 * OBS, OBS)
    assert s["nse"] == pytest.approx(-5.0)
    assert s["kge"] == pytest.approx(1 - math.sqrt(2))
    assert s["nbias"] == pytest.approx(1.0)
    assert s["nrmse"] == pytest.approx(math.sqrt(7.5) / 2.5)
    # reversed: r -1, alpha 1, beta 1 -> KGE -1; SSE 9+1+1+9 = 20 -> NSE -3
    s = scores.all_scores(OBS[::-1], OBS)
    assert s["r"] == pytest.approx(-1.0) and s["r2"] == pytest.approx(1.0)
    assert s["kge"] == pytest.approx(-1.0) and s["nse"] == pytest.approx(-3.0)


def test_single_functions_agree_with_all_scores() -> None:
    rng = np.random.default_rng(3)
    obs = rng.gamma(2.0, 100.0, 40)
    est = obs * rng.lognormal(0.1, 0.3, 40)
    est[[3, 7]] = np.nan
    s = scores.all_scores(est, obs)
    for name, func in (("nse", scores.nse), ("r2", scores.r2), ("kge", scores.kge), ("rmse", scores.rmse),
                       ("nrmse", scores.nrmse), ("nbias", scores.nbias), ("r", scores.pearson_r)):
        assert func(est, obs) == pytest.approx(s[name], rel=1e-12), name
    ok = np.isfinite(est)
    assert s["r"] == pytest.approx(np.corrcoef(est[ok], obs[ok])[0, 1], rel=1e-12)
    assert s["n_matched"] == 38


def test_rows_use_their_own_pairs() -> None:
    est = np.array([[1.0, 2.0, np.nan, 4.0], [np.nan] * 4, [5.0, np.nan, np.nan, np.nan]])
    s = scores.all_scores(est, OBS)
    assert s["n_matched"].tolist() == [3, 0, 1]
    assert s["nse"][0] == 1.0 and s["kge"][0] == pytest.approx(1.0)
    for name in scores.NAMES:  # no pair: everything undefined
        assert np.isnan(s[name][1]), name
    # one pair: errors are defined, spread-based statistics are not
    assert s["rmse"][2] == 4.0 and s["nbias"][2] == 4.0 and s["nrmse"][2] == 4.0
    assert np.isnan(s["r"][2]) and np.isnan(s["nse"][2]) and np.isnan(s["kge"][2])


def test_constant_gauge_gives_nan_nse_not_a_huge_number() -> None:
    obs = np.full(5, 0.1)
    s = scores.all_scores(np.array([0.1, 0.2, 0.1, 0.3, 0.1]), obs)
    assert np.isnan(s["nse"]) and np.isnan(s["r"]) and np.isnan(s["kge"])
    assert s["nbias"] == pytest.approx(0.6)


def test_no_time_at_all() -> None:
    s = scores.all_scores(np.zeros((2, 0)), np.zeros(0))
    assert s["n_matched"].tolist() == [0, 0]
    for name in scores.NAMES:
        assert np.isnan(s[name]).all(), name
