"""The optimisation: mass conservation, weighting, uncertainty of reach means, solver paths."""

from __future__ import annotations

import numpy as np
import pytest
from confluence_core import network as nw
from confluence_moi import integrate as ig


def _chain(n: int, facc_step: float = 0.05) -> nw.Drainage:
    """Reach 0 is the outlet, reach n-1 the headwater; facc grows downstream by ``facc_step``."""
    down = np.r_[-1, np.arange(n - 1)]
    facc = (1 + facc_step) ** -np.arange(n, dtype=float) * 1000.0
    return nw.Drainage(np.arange(n) * 10 + 1, down, nw.lateral_share(down, facc))


def _y() -> tuple[nw.Drainage, np.ndarray]:
    down = np.array([-1, 0, 0])
    facc = np.array([1000.0, 600.0, 300.0])
    return nw.Drainage(np.array([11, 21, 31]), down, nw.lateral_share(down, facc)), np.array([100.0, 60.0, 30.0])


def test_reach_mean_spread_and_q_u() -> None:
    q = np.array([10.0, 20.0, -5.0, np.nan, 30.0])
    qbar, sd, n = ig.reach_mean(q, None)
    assert (qbar, n) == (20.0, 3)
    spread = np.var(np.log([10.0, 20.0, 30.0]), ddof=1) / 3
    assert sd == pytest.approx(np.sqrt(0.4**2 + spread))
    _, sd_u, _ = ig.reach_mean(q, 0.1 * np.abs(np.nan_to_num(q)))
    assert sd_u == pytest.approx(np.sqrt(np.log1p(0.1) ** 2 + spread))
    assert np.isnan(ig.reach_mean(np.array([-1.0, np.nan]), None)[0])


def test_consistent_data_are_returned_unchanged() -> None:
    net, truth = _y()
    res = ig.integrate(net, truth, np.full(3, 0.01), truth, np.full(3, 0.5))
    assert res.success
    np.testing.assert_allclose(res.q, truth, rtol=2e-3)


def test_inconsistent_means_become_mass_conserving() -> None:
    net, _ = _y()
    raw = np.array([70.0, 60.0, 35.0])  # outlet below the sum of its tributaries
    assert ig.mass_deficit(net.down, raw) > 0.2
    res = ig.integrate(net, raw, np.full(3, 0.4), np.full(3, np.nan), np.full(3, np.nan))
    assert ig.mass_deficit(net.down, res.q) == pytest.approx(0.0, abs=1e-9)
    assert (res.lateral >= 0).all()
    np.testing.assert_allclose(ig.implied_lateral(net.down, res.q), res.lateral, atol=1e-9)
    # the outlet rose and the tributaries fell towards each other
    assert res.q[0] > raw[0] and res.q[1] < raw[1] and res.q[2] < raw[2]


def test_weights_move_the_uncertain_reach_most() -> None:
    net, _ = _y()
    raw = np.array([70.0, 60.0, 35.0])
    sure_outlet = ig.integrate(net, raw, np.array([0.02, 0.5, 0.5]), np.full(3, np.nan), np.full(3, np.nan))
    sure_tribs = ig.integrate(net, raw, np.array([0.5, 0.02, 0.02]), np.full(3, np.nan), np.full(3, np.nan))
    assert sure_outlet.q[0] == pytest.approx(70.0, rel=0.02)
    assert sure_tribs.q[1] == pytest.approx(60.0, rel=0.02) and sure_tribs.q[0] > 90.0


def test_gauge_tight_prior_dominates_where_there_are_no_data() -> None:
    net = _chain(5)
    q_obs = np.array([np.nan, np.nan, 50.0, np.nan, np.nan])
    q_pri = np.array([200.0, np.nan, np.nan, np.nan, np.nan])
    res = ig.integrate(net, q_obs, np.full(5, 0.4), q_pri, np.array([0.01, 1, 1, 1, 1.0]))
    assert res.q[0] == pytest.approx(200.0, rel=0.03)
    assert np.all(np.diff(res.q[::-1]) >= -1e-9)  # non-decreasing downstream


def test_component_without_information_is_missing() -> None:
    down = np.array([-1, 0, -1, 2])  # two chains
    net = nw.Drainage(np.array([11, 21, 31, 41]), down, nw.lateral_share(down, np.array([2.0, 1.0, 2.0, 1.0])))
    res = ig.integrate(net, np.array([10.0, 9.0, np.nan, np.nan]), np.full(4, 0.4), np.full(4, np.nan),
                       np.full(4, np.nan))
    assert np.isfinite(res.q[:2]).all() and np.isnan(res.q[2:]).all()
    empty = ig.integrate(net, np.full(4, np.nan), np.full(4, 0.4), np.full(4, np.nan), np.full(4, np.nan))
    assert not empty.success and np.isnan(empty.q).all()


def test_sparse_lsmr_steps_match_dense_exact_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    net = _chain(30, facc_step=0.02)
    truth = 1000.0 * 1.02 ** -np.arange(30.0)
    raw = truth * np.exp(rng.normal(0, 0.3, 30))
    sparse = ig.integrate(net, raw, np.full(30, 0.4), truth * 1.1, np.full(30, 0.5))
    monkeypatch.setattr(ig, "TR_SOLVER", "exact")
    dense = ig.integrate(net, raw, np.full(30, 0.4), truth * 1.1, np.full(30, 0.5))
    np.testing.assert_allclose(sparse.q, dense.q, rtol=1e-3)
    # integration beats the raw means on this chain of independent errors
    assert np.median(np.abs(np.log(dense.q / truth))) < np.median(np.abs(np.log(raw / truth)))
