"""SAD end to end on a synthetic reach made with its own physics (the twin experiment)."""

from __future__ import annotations

import numpy as np
import pytest
from confluence_flpe.interface import Priors
from confluence_flpe_sad import science
from sad_twin import MEAN_Q, REACH_ID, make_twin, scores, with_swot_noise


@pytest.mark.parametrize("factor", [1.5, 1 / 1.5])
def test_twin_recovers_discharge_with_a_biased_mean_flow_prior(factor: float) -> None:
    """Mean-flow prior off by x1.5 or /1.5, every other prior the paper's default.

    Measured (seed 1): prior x1.5 -> nRMSE 0.25, bias +15 %, r 0.99; prior /1.5 -> nRMSE 0.34,
    bias -22 %, r 0.98.  Stated tolerance: r >= 0.95, nRMSE <= 0.40, and the estimate's bias is
    smaller than the prior's (the observations pull the mean towards the truth).
    """
    twin = make_twin()
    prior_mean = twin.q.mean() * factor
    fit = science.sad(twin.obs, Priors(reach_id=REACH_ID, mean_q=prior_mean))
    assert np.isfinite(fit.q).all() and np.isfinite(fit.q_u).all() and (fit.q_u > 0).all()
    nrmse, bias, r = scores(fit.q, twin.q)
    assert r >= 0.95
    assert nrmse <= 0.40
    assert abs(bias) < abs(factor - 1)
    assert np.sign(bias) == np.sign(factor - 1) or abs(bias) < 0.05


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_twin_recovers_discharge_with_the_true_mean_flow_prior(seed: int) -> None:
    """The twin (tests/sad_twin.py, three discharge series) with the true mean flow as ``mean_q``.

    Measured (seeds 0-2): nRMSE 0.19-0.21, bias -1.6 % to -2.8 %, r 0.976-0.987; every true
    discharge inside the analysis's 2 ``Q_u``.  Stated tolerance: nRMSE <= 0.25, |bias| <= 0.05,
    r >= 0.95, at least 90 % of the times within 2 ``Q_u``.  The error is mostly a damped
    amplitude: n and the bed trade off (the analysis's n is 0.046-0.050 against the true 0.03 with
    a bed deeper to match), which the WSE profile alone does not resolve; n is therefore not
    asserted here.
    """
    twin = make_twin(seed=seed)
    fit = science.sad(twin.obs, Priors(reach_id=REACH_ID, mean_q=float(twin.q.mean())))
    assert np.isfinite(fit.q).all()
    nrmse, bias, r = scores(fit.q, twin.q)
    assert nrmse <= 0.25 and abs(bias) <= 0.05 and r >= 0.95
    assert np.mean(np.abs(fit.q - twin.q) <= 2 * fit.q_u) >= 0.9


@pytest.mark.parametrize("seed", [0, 1])
def test_twin_with_swot_like_errors(seed: int) -> None:
    """The twin observed with 10 cm node WSE and 5 % node width errors (and the matching reach
    ``wse_u``, ``width_u``, ``slope_u``), true mean-flow prior.

    Measured (seeds 0-3): nRMSE 0.20-0.24, bias -10 % to +2 %, r 0.89-0.95.  Stated tolerance:
    nRMSE <= 0.30, |bias| <= 0.15, r >= 0.85.
    """
    twin = with_swot_noise(make_twin(seed=seed), seed=100 + seed)
    fit = science.sad(twin.obs, Priors(reach_id=REACH_ID, mean_q=float(twin.q.mean())))
    assert np.isfinite(fit.q).mean() >= 0.9
    nrmse, bias, r = scores(fit.q, twin.q)
    assert nrmse <= 0.30 and abs(bias) <= 0.15 and r >= 0.85


def test_same_inputs_same_results() -> None:
    twin = make_twin()
    pri = Priors(reach_id=REACH_ID, mean_q=MEAN_Q)
    a, b = science.sad(twin.obs, pri), science.sad(twin.obs, pri)
    np.testing.assert_array_equal(a.q, b.q)
    assert (a.a0, a.n) == (b.a0, b.n)


def test_channel_orders_nodes_downstream_first_and_finds_the_bed_slope() -> None:
    twin = make_twin()
    ch = science.channel(twin.obs)
    assert ch.from_nodes and ch.section.nx == 30 and ch.section.xi[0] == 0.0
    assert ch.s0 == pytest.approx(1e-4, rel=0.05)
    obs = make_twin().obs
    assert obs.node_wse is not None and obs.node_width is not None
    obs.node_wse, obs.node_width = obs.node_wse[::-1], obs.node_width[::-1]  # nodes numbered downstream
    flipped = science.channel(obs)
    np.testing.assert_allclose(flipped.h, ch.h)
    np.testing.assert_allclose(flipped.h_bc, ch.h_bc)


def test_runs_on_reach_data_alone() -> None:
    twin = make_twin()
    twin.obs.node_wse = twin.obs.node_width = twin.obs.node_id = None
    fit = science.sad(twin.obs, Priors(reach_id=REACH_ID, mean_q=MEAN_Q))
    nrmse, _, r = scores(fit.q, twin.q)
    assert not science.channel(twin.obs).from_nodes
    assert r >= 0.9 and nrmse <= 0.5


def test_too_few_times_or_no_prior_say_why() -> None:
    twin = make_twin(nt=8)
    twin.obs.slope[:4] = np.nan
    with pytest.raises(ValueError, match="4 times with width, wse and slope, SAD needs 5"):
        science.sad(twin.obs, Priors(reach_id=REACH_ID, mean_q=MEAN_Q))
    with pytest.raises(ValueError, match="mean_q"):
        science.sad(make_twin(nt=8).obs, Priors(reach_id=REACH_ID))


def test_flow_parameters_invert_manning_exactly_when_consistent() -> None:
    """(S13)-(S14): discharge made by Manning's law with (A0, n) gives them back."""
    rng = np.random.default_rng(0)
    w, s, da = rng.uniform(80, 120, 20), rng.uniform(5e-5, 2e-4, 20), rng.uniform(-200, 300, 20)
    q = (900.0 + da) ** (5 / 3) * w ** (-2 / 3) * np.sqrt(s) / 0.035
    a0, n = science.flow_parameters(q, np.full(20, 0.035), w, s, da)
    assert (a0, n) == (pytest.approx(900.0, rel=1e-9), pytest.approx(0.035))
