"""The consensus rule (confluence_flpe_consensus.science), on arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest
from confluence_flpe.interface import Priors, ReachObs
from confluence_flpe_consensus import science
from confluence_flpe_consensus.science import consensus, echo, far_mask, screen, width_spread

NT = 12
T = np.arange(NT)
#: A flow that varies little (coefficient of variation ~0.1, a lake-fed river): the old rule dropped it.
CALM = 7000.0 * np.exp(0.1 * np.sin(2 * np.pi * T / NT))
#: A flow that varies a lot (log sd ~0.6).
FLASHY = 300.0 * np.exp(0.9 * np.sin(2 * np.pi * T / NT))


def _obs(width: np.ndarray, width_u: np.ndarray | None = None) -> ReachObs:
    obs = ReachObs.empty(74223700011, width.size)
    obs.width, obs.width_u = np.asarray(width, float), width_u
    return obs


def test_screen_negative_zero_odd_length_and_empty() -> None:
    q, why = screen(np.array([100.0, -5.0, 0.0, 600.0]), 4)
    assert q is not None and why == "" and np.isnan(q[1:3]).all() and q[3] == 600.0
    assert screen(np.ones(3), 4)[1] == "length 3, the reach has 4 times"
    assert screen(np.full(4, np.nan), 4)[1] == "no valid value"
    assert screen(np.array([-1.0, -2.0, np.nan, -3.0]), 4)[1] == "no valid value"


def test_low_variability_is_kept_when_the_observations_vary_little_too() -> None:
    width = 1200.0 * (CALM / CALM.mean()) ** 0.1  # b = 0.1: the width barely moves
    res = consensus({"metroman": CALM, "momma": CALM * 1.2}, NT, obs=_obs(width))
    assert res.used == ["metroman", "momma"] and not res.dropped
    np.testing.assert_allclose(res.q, CALM * math.sqrt(1.2))  # equal weights: geometric mean
    # without observations too: only a flat series is an echo (the old rule dropped CV 0.1)
    assert consensus({"metroman": CALM}, NT).used == ["metroman"]


def test_flat_prior_echo_is_dropped() -> None:
    prior = Priors(1, mean_q=500.0)
    kind, why = echo(np.full(NT, 500.0), prior_q=500.0)
    assert kind == "flat" and "mean-flow prior 500" in why
    res = consensus({"neobam": np.full(NT, 500.0) * (1 + 1e-4 * T), "metroman": FLASHY}, NT, prior=prior)
    assert res.used == ["metroman"] and res.dropped["neobam"].startswith("prior echo: flat")
    np.testing.assert_array_equal(res.q, FLASHY)
    # a single value is an echo only when it is the prior
    one = np.full(NT, np.nan)
    one[3] = 500.0
    assert echo(one, prior_q=500.0)[0] == "flat" and echo(one * 2, prior_q=500.0)[0] == ""


def test_series_varying_far_less_than_the_widths_and_the_others_is_an_echo() -> None:
    width = 150.0 * (FLASHY / FLASHY.mean()) ** 0.3  # widths vary: log sd ~0.27
    wsd = width_spread(width)
    damped = 300.0 * np.exp(0.05 * np.sin(2 * np.pi * T / NT))  # log sd ~0.05 < wsd / 2
    assert echo(damped, wsd, ensemble_sd=0.9)[0] == "low" and echo(FLASHY, wsd, ensemble_sd=0.9)[0] == ""
    res = consensus({"sad": damped, "metroman": FLASHY, "momma": FLASHY * 1.3}, NT, obs=_obs(width))
    assert res.used == ["metroman", "momma"] and "both the width's" in res.dropped["sad"]
    # the same series passes without observations (no witness), or alone (it is the ensemble)
    assert consensus({"sad": damped, "metroman": FLASHY}, NT).used == ["metroman", "sad"]
    assert consensus({"sad": damped}, NT, obs=_obs(width)).used == ["sad"]


def test_overbank_widths_alone_do_not_make_an_echo() -> None:
    """Widths that jump far more than discharge (a reach flooding its banks, local b > 1)."""
    width = 300.0 * (CALM / CALM.mean()) ** 8.0  # log sd ~0.56, flow only ~0.07
    assert width_spread(width) > 2 * science.log_spread(CALM)
    res = consensus({"metroman": CALM, "momma": CALM * 1.2, "sic4dvar": CALM * 0.9}, NT, obs=_obs(width))
    assert res.used == ["metroman", "momma", "sic4dvar"] and not res.dropped


def test_width_noise_is_removed_from_the_yardstick() -> None:
    rng = np.random.default_rng(1)
    width = 200.0 * (1 + 0.15 * rng.standard_normal(200))  # pure noise, no real change
    assert width_spread(width) > 0.1
    assert width_spread(width, np.full(200, 0.15 * 200.0)) < 0.05
    assert math.isnan(width_spread(np.array([100.0])))


def test_weights_follow_the_stated_uncertainty() -> None:
    a, b = np.full(4, 100.0) * [1, 2, 3, 4], np.full(4, 200.0) * [1, 2, 3, 4]
    q_u = {"a": 0.1 * a, "b": 1.0 * b}  # log sds ln(1.1), ln(2)
    res = consensus({"a": a, "b": b}, 4, q_u=q_u)
    wa, wb = 1 / (science.STRUCTURAL_SD**2 + math.log(1.1) ** 2), 1 / (science.STRUCTURAL_SD**2 + math.log(2) ** 2)
    expect = np.exp((wa * np.log(a) + wb * np.log(b)) / (wa + wb))
    np.testing.assert_allclose(res.q, expect)
    assert res.weights["a"] == pytest.approx(wa / (wa + wb)) and res.weights["a"] > 0.75
    # no stated uncertainty anywhere: equal weights, the geometric mean
    np.testing.assert_allclose(consensus({"a": a, "b": b}, 4).q, np.sqrt(a * b))
    # an algorithm that states none counts as typical (the median stated one): equal weights again
    np.testing.assert_allclose(consensus({"a": a, "b": b}, 4, q_u={"a": 0.1 * a}).q, np.sqrt(a * b))
    # an over-confident algorithm (q_u = 0) weighs at most (0.4^2 + u^2) / 0.4^2 times the others
    over = consensus({"a": a, "b": b}, 4, q_u={"a": 0 * a, "b": 0.5 * b})
    ratio = (science.STRUCTURAL_SD**2 + math.log(1.5) ** 2) / science.STRUCTURAL_SD**2
    assert over.weights["a"] / over.weights["b"] == pytest.approx(ratio) and ratio < 2.1


def test_a_far_algorithm_is_rejected() -> None:
    base = {"a": FLASHY, "b": FLASHY * 1.1, "c": FLASHY * 0.9, "d": FLASHY * 1.05}
    res = consensus({**base, "far": FLASHY * 10}, NT)
    assert "far" not in res.used and "far from the other algorithms" in res.dropped["far"]
    np.testing.assert_allclose(res.q, FLASHY * (1.1 * 0.9 * 1.05) ** 0.25)
    # within a factor 2 nothing is rejected, however close the others agree
    assert consensus({**base, "off": FLASHY * 1.9}, NT).used == ["a", "b", "c", "d", "off"]
    # with two algorithms there is no majority: nothing is rejected
    assert consensus({"a": FLASHY, "far": FLASHY * 10}, NT).used == ["a", "far"]


def test_a_far_value_at_one_time_is_rejected() -> None:
    spiky = FLASHY.copy()
    spiky[5] *= 20
    algo_far, value_far = far_mask(np.log(np.stack([FLASHY, FLASHY * 1.2, spiky])))
    assert not algo_far.any() and value_far.sum() == 1 and value_far[2, 5]
    res = consensus({"a": FLASHY, "b": FLASHY * 1.2, "c": spiky}, NT)
    assert res.n_algos[5] == 2 and res.q[5] == pytest.approx(FLASHY[5] * math.sqrt(1.2))


def test_times_resting_on_one_algorithm_are_counted_and_flagged() -> None:
    b = FLASHY * 1.2
    b[:4] = np.nan
    a = FLASHY.copy()
    a[10:] = np.nan
    res = consensus({"a": a, "b": b}, NT)
    assert res.n_algos.tolist() == [1] * 4 + [2] * 6 + [1] * 2
    assert res.flag.tolist() == [1] * 4 + [0] * 6 + [1] * 2
    np.testing.assert_array_equal(res.q[:4], FLASHY[:4])  # one algorithm: its own value exactly
    np.testing.assert_array_equal(res.q[10:], b[10:])
    gap = consensus({"a": np.where(T == 0, np.nan, FLASHY)}, NT)
    assert gap.n_algos[0] == 0 and gap.flag[0] == science.FLAG_NONE and np.isnan(gap.q[0])


def test_nothing_left() -> None:
    res = consensus({"flat": np.ones(3), "short": np.ones(2)}, 3)
    assert res.used == [] and np.isnan(res.q).all() and res.q.shape == (3,)
    assert set(res.dropped) == {"flat", "short"} and (res.n_algos == 0).all()
    empty = consensus({}, 2)
    assert empty.q.shape == (2,) and empty.used == [] and empty.flag.tolist() == [2, 2]
