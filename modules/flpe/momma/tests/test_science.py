"""MOMMA worked by hand from the published equations (docs/science.md, MOMMA; science.py M1-M9).

Every expected value below is computed in the test from the equations themselves (numbers and
arithmetic written out), never through the module's own helpers.
"""

from __future__ import annotations

import numpy as np
import pytest
from confluence_flpe_momma.science import bankfull_breakpoint, momma

# A parabolic channel (width^2 proportional to depth) with its bed at 8 m, five passes, slope 1e-4.
H = np.array([10.0, 10.5, 11.0, 11.5, 12.0])
W = 50.0 * np.sqrt(H - 8.0)  # 70.71 ... 100 m
S = np.full(5, 1e-4)
QB = 400.0  # bankfull-flow prior (m3/s)


def by_hand(nb: float, x: float, h0: float = 8.0) -> np.ndarray:
    """Discharge of (M1)-(M3) written out: Y = 2/3 (H - H0), n = nb ((12 - H0)/(H - H0))^x."""
    y = 2.0 / 3.0 * (H - h0)
    n = nb * ((12.0 - h0) / (H - h0)) ** x
    return W * y ** (5.0 / 3.0) * np.sqrt(S) / n


def nb_start() -> float:
    """(M7)-(M9) by hand: Bray-Davar 0.094 S^(1/6) averaged with the bankfull-prior roughness."""
    nb_slope = 0.094 * 1e-4 ** (1.0 / 6.0)  # 0.020251
    yb = 2.0 / 3.0 * (12.0 - 8.0)  # bankfull = highest stage (5 passes: no breakpoint search)
    vb = QB / (100.0 * yb)  # 1.5 m/s
    nb_prior = yb ** (2.0 / 3.0) * 1e-4**0.5 / vb  # 0.012819
    return 0.5 * (nb_slope + nb_prior)


def test_worked_example_calibration_on_the_mean_flow_curve() -> None:
    """Mean flow 120 m3/s: every x has the nb that matches it; the pair nearest (nb0, 1) is taken."""
    nb0 = nb_start()
    assert nb0 == pytest.approx(0.016535, abs=1e-6)
    fit = momma(H, W, S, mean_q=120.0, qb=QB)
    # zero-flow stage: H regressed on W^2 meets W = 0 at the bed, 8 m (more than 1 m below 10 m)
    assert fit.zero_flow_stage == pytest.approx(8.0, abs=1e-9)
    assert not fit.bankfull_found and fit.bankfull_stage == 12.0 and fit.bankfull_width == pytest.approx(100.0)
    np.testing.assert_allclose(fit.depth, 2.0 / 3.0 * (H - 8.0), rtol=1e-12)
    # by hand: Q = (1/nb) W Y^(5/3) S^(1/2) ((H - 8)/4)^x, so nb(x) = mean(that with nb = 1) / 120
    xs = np.round(np.arange(-1.0, 2.0 + 1e-9, 0.01), 2)
    nb_x = np.array([np.mean(by_hand(1.0, x)) for x in xs]) / 120.0
    cost = (np.log(nb_x / nb0) / np.log(2.0)) ** 2 + ((xs - 1.0) / 0.75) ** 2
    k = int(np.argmin(np.where((nb_x >= 0.01) & (nb_x <= 0.20), cost, np.inf)))
    assert (fit.nb, fit.x) == (pytest.approx(nb_x[k], rel=1e-9), xs[k])
    np.testing.assert_allclose(fit.q, by_hand(nb_x[k], xs[k]), rtol=1e-9)
    assert np.mean(fit.q) == pytest.approx(120.0, rel=1e-9) and fit.x != 1.0 and fit.nb != pytest.approx(nb0)


def test_worked_example_depth_variable_roughness() -> None:
    """With the mean flow of x = 1 (n = nb0 * 4 / (H - 8): 0.033 at 10 m, nb0 at 12 m), x = 1 is found."""
    nb0 = nb_start()
    q_expected = by_hand(nb0, 1.0)
    np.testing.assert_allclose(nb0 * 4.0 / (H - 8.0), [0.03307, 0.026456, 0.022047, 0.018897, 0.016535],
                               rtol=1e-3)
    fit = momma(H, W, S, mean_q=float(q_expected.mean()), qb=QB)
    assert (fit.nb, fit.x) == (pytest.approx(nb0, rel=1e-9), 1.0)
    np.testing.assert_allclose(fit.q, q_expected, rtol=1e-9)
    assert fit.params == {"B": pytest.approx(8.0), "H": 12.0, "nb": pytest.approx(nb0), "x": 1.0}


def test_zero_flow_stage_at_least_one_metre_below_the_lowest_stage() -> None:
    """(M6): a stage-width relation meeting W = 0 at 9.5 m puts H0 at min(H) - 1 = 9 m."""
    w = 50.0 * np.sqrt(H - 9.5)
    fit = momma(H, w, S, mean_q=50.0, qb=QB)
    assert fit.zero_flow_stage == pytest.approx(9.0, abs=1e-9)
    assert fit.mean_matched and np.nanmean(fit.q) == pytest.approx(50.0, rel=1e-9)


def test_zero_flow_stage_no_deeper_than_the_bjerklie_bankfull_depth() -> None:
    """(M4)-(M5): a wide, shallow-sloped relation meeting W = 0 at -50 m stops at Hb - Yb95 / (2/3)."""
    w = 50.0 * np.sqrt(H + 50.0)
    s = np.full(5, 1e-3)
    wb = 50.0 * np.sqrt(62.0)  # 393.7 m at the highest stage, 12 m
    yb95 = 0.10 * wb**0.43 * 1e-3**-0.28  # Bjerklie (2007): 9.04 m
    floor = 12.0 - yb95 / (2.0 / 3.0)
    assert floor == pytest.approx(-1.56, abs=0.01)
    fit = momma(H, w, s, mean_q=5000.0, qb=np.nan)
    assert fit.zero_flow_stage == pytest.approx(floor, abs=1e-9)
    assert fit.zero_flow_floor == pytest.approx(floor, abs=1e-9)
    assert np.isnan(fit.nb_prior) and fit.nb_slope == pytest.approx(0.094 * 1e-3 ** (1 / 6))


def test_bankfull_breakpoint_where_the_floodplain_starts() -> None:
    """Width over (H - min H + 1) is least where the water leaves the channel (11 m here)."""
    h = np.linspace(9.0, 12.5, 15)
    w = np.where(h <= 11.0, 50.0 * np.sqrt(h - 8.0), 50.0 * np.sqrt(3.0) + 300.0 * (h - 11.0))
    hb, wb, found = bankfull_breakpoint(h, w)
    assert found and hb == pytest.approx(11.0, abs=3.5 / 99)
    assert wb == pytest.approx(np.interp(hb, h, w))
    # fewer than 7 passes, or under 1.5 m of stage: the highest stage is bankfull
    assert bankfull_breakpoint(h[:6], w[:6]) == (h[5], w[5], False)
    assert bankfull_breakpoint(h[4:8], w[4:8])[2] is False


def test_a_mean_flow_out_of_reach_moves_the_zero_flow_stage() -> None:
    """Too much flow for the roughest channel: H0 moves half-way up to the lowest stage (MOMMA v3.3)."""
    fit = momma(H, W, S, mean_q=0.01, qb=QB)
    assert fit.zero_flow_stage == pytest.approx(0.5 * (8.0 + 10.0))
    assert fit.nb == 0.20 and not fit.mean_matched


def test_guards() -> None:
    with pytest.raises(ValueError, match="mean_q"):
        momma(H, W, S, mean_q=np.nan)
    with pytest.raises(ValueError, match="MOMMA needs 3"):
        momma(H[:2], W[:2], S[:2], mean_q=100.0)
    with pytest.raises(ValueError, match="negatively correlated"):
        momma(H, W[::-1], S, mean_q=100.0)
    s = S.copy()
    s[[1, 2, 3]] = [-1e-5, np.nan, 0.0]  # a negative, a missing and a zero slope leave two passes
    with pytest.raises(ValueError, match="2 observations"):
        momma(H, W, s, mean_q=100.0)


def test_unusable_times_are_nan_and_the_rest_keep_the_worked_values() -> None:
    nb0 = nb_start()
    q_expected = by_hand(nb0, 1.0)
    h = np.append(H, np.nan)
    w, s = np.append(W, 90.0), np.append(S, 1e-4)
    fit = momma(h, w, s, mean_q=float(q_expected.mean()), qb=QB)
    assert np.isnan(fit.q[-1])
    np.testing.assert_allclose(fit.q[:-1], q_expected, rtol=1e-9)
