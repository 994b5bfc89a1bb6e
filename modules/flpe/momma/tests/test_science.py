"""MOMMA science on synthetic channels."""

from __future__ import annotations

import time

import numpy as np
import pytest
from confluence_flpe_momma import science
from confluence_flpe_momma.science import bankfull_breakpoint, momma, zero_flow_stage


def parabolic_channel(nt: int = 60, seed: int = 1, n: float = 0.03, h0: float = 100.0, k: float = 60.0):
    """A parabolic channel (W = k sqrt(D)) under Manning's equation with constant n."""
    rng = np.random.default_rng(seed)
    depth_max = rng.uniform(2.0, 6.0, nt)  # m
    h = h0 + depth_max
    w = k * np.sqrt(depth_max)
    s = rng.uniform(5e-5, 2e-4, nt)
    y = 2.0 / 3.0 * depth_max
    q = w * y ** (5 / 3) * np.sqrt(s) / n
    return h, w, s, q


def test_recovers_manning_discharge() -> None:
    h, w, s, q = parabolic_channel()
    fit = momma(h, w, s, mean_q=float(q.mean()))
    assert fit.ezf_extrapolated and not fit.bankfull_found
    assert fit.zero_flow_stage == pytest.approx(100.0, abs=1e-6)
    assert fit.nb == pytest.approx(0.03, rel=1e-6) and fit.x == 0.0
    np.testing.assert_allclose(fit.q, q, rtol=1e-6)


def test_wrong_mean_prior_scales_discharge() -> None:
    h, w, s, q = parabolic_channel()
    fit = momma(h, w, s, mean_q=2 * float(q.mean()))
    np.testing.assert_allclose(fit.q, 2 * q, rtol=1e-6)  # the mean prior sets the level, the shape stays


def test_missing_times_and_bad_slopes_are_nan() -> None:
    h, w, s, q = parabolic_channel()
    h[3], s[5] = np.nan, -1e-5
    fit = momma(h, w, s, mean_q=float(np.delete(q, [3, 5]).mean()))
    assert np.isnan(fit.q[[3, 5]]).all()
    np.testing.assert_allclose(np.delete(fit.q, [3, 5]), np.delete(q, [3, 5]), rtol=1e-6)


def test_bankfull_breakpoint_found() -> None:
    h = np.linspace(1.0, 6.0, 30)
    w = np.where(h <= 4.0, 100 + 5 * h, 120 + 80 * (h - 4.0))  # the floodplain starts at 4 m
    stage, width, found = bankfull_breakpoint(h, w)
    assert found and stage == pytest.approx(4.0, abs=0.2) and width == pytest.approx(120, abs=5)
    stage, _, found = bankfull_breakpoint(h, 100 + 5 * h)  # a straight line: no breakpoint
    assert not found and stage == 6.0


def test_overbank_uses_main_channel_and_bankfull_prior() -> None:
    h, w, s, q = parabolic_channel(nt=80, seed=3)
    hb = np.quantile(h, 0.8)
    wb = 60 * np.sqrt(hb - 100.0)
    w = np.where(h > hb, wb + 400 * (h - hb), w)  # floodplain widening above bankfull
    fit = momma(h, w, s, mean_q=float(q.mean()), qb=float(q.max()))
    assert fit.bankfull_found and fit.bankfull_stage == pytest.approx(hb, abs=0.3)
    assert np.nanmax(fit.seg) == 2 and np.all(fit.q > 0)
    assert abs(np.log(np.nanmean(fit.q) / q.mean())) < 1e-6  # mean matched to the prior


def test_ezf_fallback_when_width_does_not_grow() -> None:
    h = np.linspace(10.0, 11.0, 20)
    w = np.full(20, 200.0)
    h0, extrapolated = zero_flow_stage(h, w, mean_q=500.0)
    assert not extrapolated
    depth = science.empirical_depth(500.0) / science.depth_factor()
    assert h0 == pytest.approx(np.median(h) - depth)


def test_needs_a_mean_prior_and_three_times() -> None:
    h, w, s, _ = parabolic_channel(nt=5)
    with pytest.raises(ValueError, match="mean_q"):
        momma(h, w, s, mean_q=np.nan)
    with pytest.raises(ValueError, match="MOMMA needs 3"):
        momma(h[:2], w[:2], s[:2], mean_q=100.0)


def test_fast_enough() -> None:
    """Under 0.1 s per reach at 50 times (the node dimension is not used by MOMMA)."""
    h, w, s, q = parabolic_channel(nt=50)
    momma(h, w, s, mean_q=float(q.mean()), qb=float(q.max()))
    t0 = time.perf_counter()
    for _ in range(20):
        momma(h, w, s, mean_q=float(q.mean()), qb=float(q.max()))
    assert (time.perf_counter() - t0) / 20 < 0.1
