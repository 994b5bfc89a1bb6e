"""Building the inverse problem (:mod:`confluence_flpe_hivdi.problem`) and the settings."""

from __future__ import annotations

import numpy as np
import pytest
from confluence_core.errors import ConfluenceError, NotEnoughDataError
from confluence_flpe.interface import Priors
from confluence_flpe_hivdi import problem
from confluence_flpe_hivdi.config import HivdiConfig
from hivdi_testdata import make_twin


def test_set_times_merge_passes_within_the_tolerance() -> None:
    t0 = np.array([0.0, 86400.0, 2 * 86400.0])
    t1 = np.array([60.0, 86400.0 + 3000.0, 5 * 86400.0])
    times, index = problem.set_times([t0, t1], [np.ones(3, bool), np.array([True, True, False])], 3600.0)
    np.testing.assert_allclose(times, [30.0, 86400.0 + 1500.0, 2 * 86400.0])
    assert index[0].tolist() == [0, 1, 2] and index[1].tolist() == [0, 1, -1]


def test_node_order_follows_the_water_surface() -> None:
    """SWORD ids grow upstream; ids that grow downstream (falling surface) are kept in their order."""
    tw = make_twin(nt=6, nodes=5)
    obs = tw.reaches[0][0]
    valid = problem.valid_times(obs)
    order = problem.node_order(obs, valid)
    assert order is not None
    z = obs.node_wse[order].mean(axis=1)
    assert np.all(np.diff(z) < 0)  # upstream to downstream
    obs.node_id = obs.node_id[::-1].copy()
    order2 = problem.node_order(obs, valid)
    assert order2 is not None and np.all(np.diff(obs.node_wse[order2].mean(axis=1)) < 0)


def test_width_levels_are_the_thirds_and_never_narrow_upwards() -> None:
    stage = np.array([0.1, 0.5, 0.9, 1.3, 1.7, 2.1])
    width = np.array([50.0, 52.0, 70.0, 60.0, 90.0, 95.0])
    levels, widths = problem.width_levels(stage, width)
    np.testing.assert_allclose(levels, [0.3, 1.1, 1.9])
    np.testing.assert_allclose(widths, [51.0, 65.0, 92.5])
    _, widths = problem.width_levels(stage, width[::-1])
    assert np.all(np.diff(widths) >= 0)


def test_build_the_twin_problem() -> None:
    """Nodes upstream to downstream, one observation per node and time, the background level at mean_q."""
    tw = make_twin(n_reaches=2, nt=12, nodes=10, length=4000.0, bank=3.0, q_prior_factor=1.3)
    pb = problem.build(tw.reaches, HivdiConfig())
    ch = pb.channel
    assert ch.n == 20 and ch.n_reaches == 2 and ch.n_segments == 2 and pb.nt == 12
    assert pb.obs_z.size == 20 * 12 and np.all(np.diff(ch.x) > 0)
    assert np.all(np.diff(ch.z_lo) < 0)
    np.testing.assert_allclose(ch.share, 1.0)
    bg = pb.background
    assert np.exp(bg.log_q).mean() == pytest.approx(1.3 * np.mean(tw.q[0]), rel=1e-9)  # the SoS mean flow
    assert bg.z_out.shape == (2, 12) and np.isfinite(bg.z_out).all()
    np.testing.assert_allclose(np.exp(bg.log_depth) * [g.widths[0] for g in pb.geometry],
                               [np.exp(p.gb["logA0_hat"]) for _, p in tw.reaches], rtol=1e-9)  # H10


def test_build_refuses_too_few_times_and_no_mean_flow() -> None:
    tw = make_twin(nt=4, nodes=6)
    with pytest.raises(NotEnoughDataError, match="4 valid times, HiVDI needs 5"):
        problem.build(tw.reaches, HivdiConfig())
    tw = make_twin(nt=8, nodes=6)
    obs, _ = tw.reaches[0]
    with pytest.raises(NotEnoughDataError, match="mean_q"):
        problem.build([(obs, Priors(reach_id=obs.reach_id))], HivdiConfig())


def test_times_without_a_node_profile_use_the_reach_wse_and_slope() -> None:
    """Fewer than two node elevations at a time: two pseudo-nodes from the reach wse and slope."""
    tw = make_twin(nt=8, nodes=6)
    obs, _ = tw.reaches[0]
    obs.node_wse[:, 2] = np.nan
    obs.node_wse[1:, 5] = np.nan
    geo = problem.reach_geometry(obs, problem.valid_times(obs), HivdiConfig())
    assert geo.pseudo.tolist() == [False, False, True, False, False, True, False, False]
    z = geo.z_obs[:, 5]
    assert np.isfinite(z).sum() == 2 and np.isfinite(z[[0, -1]]).all()
    assert z[0] - z[-1] == pytest.approx(obs.slope[5] * (geo.x[-1] - geo.x[0]))


def test_config_from_the_environment() -> None:
    cfg = HivdiConfig.from_env({"CONFLUENCE_HIVDI_MIN_OBS": "7", "CONFLUENCE_HIVDI_SIGMA_LOG_QBAR": "0.3",
                                "CONFLUENCE_HIVDI_N_DEFAULT": " "})
    assert cfg.min_obs == 7 and cfg.sigma_log_qbar == 0.3 and cfg.n_default == HivdiConfig().n_default
    with pytest.raises(ConfluenceError, match="not a number"):
        HivdiConfig.from_env({"CONFLUENCE_HIVDI_MAX_NFEV": "many"})
    with pytest.raises(ConfluenceError, match="positive"):
        HivdiConfig.from_env({"CONFLUENCE_HIVDI_SIGMA_BETA": "0"})
