"""Posterior sampling on synthetic reaches that obey the flow law (slow: JAX compile + NUTS)."""

from __future__ import annotations

import numpy as np
import pytest
from confluence_flpe_neobam import NeoBAM

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def algo() -> NeoBAM:
    return NeoBAM(seed=3)


def test_recovers_discharge_with_biased_prior(algo, make_synthetic):
    s = make_synthetic(seed=1, bias=1.3)
    (res,) = algo.run([(s.obs, s.priors)])
    assert res.valid
    rel_bias = np.mean(res.q) / np.mean(s.q_true) - 1
    nrmse = np.sqrt(np.mean((res.q - s.q_true) ** 2)) / np.mean(s.q_true)
    print(f"\nsynthetic: prior bias +30 %, posterior bias {rel_bias:+.3f}, nRMSE {nrmse:.3f}, "
          f"r {res.params['r']:.2f} (true 2.5), divergences {res.extra['divergences']:.0f}")
    assert abs(rel_bias) < 0.12  # the prior alone is 30 % off
    assert nrmse < 0.15
    assert np.corrcoef(res.q, s.q_true)[0, 1] > 0.98
    # the 95 % band covers the truth most of the time
    cover = np.abs(res.q - s.q_true) < 2 * res.q_u
    assert cover.mean() > 0.8
    assert res.extra["q_chain"].shape == (3, s.obs.nt)


def test_deterministic_with_seed(algo, make_synthetic):
    s = make_synthetic(seed=2, nt=30, nx=12)
    (a,) = algo.run([(s.obs, s.priors)])
    (b,) = algo.run([(s.obs, s.priors)])
    np.testing.assert_array_equal(a.q, b.q)
    (c,) = NeoBAM(seed=4).run([(s.obs, s.priors)])
    assert not np.array_equal(a.q, c.q)


def test_missing_nodes_are_masked(algo, make_synthetic):
    s = make_synthetic(seed=5, missing=0.6)
    s.obs.node_width[:5, :] = np.nan  # five nodes never seen
    s.obs.node_width[:, 7] = np.nan  # a time with no node: no estimate
    (res,) = algo.run([(s.obs, s.priors)])
    assert res.valid and np.isnan(res.q[7])
    ok = np.isfinite(res.q)
    assert ok.sum() == s.obs.nt - 1
    assert abs(np.mean(res.q[ok]) / np.mean(s.q_true[ok]) - 1) < 0.2  # prior: +30 %
    assert np.corrcoef(res.q[ok], s.q_true[ok])[0, 1] > 0.95
