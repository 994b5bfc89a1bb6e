"""Priors and model inputs (fast: no sampling)."""

from __future__ import annotations

import numpy as np
import pytest
from confluence_core import sos
from confluence_flpe_neobam import priors as pr
from confluence_flpe_neobam.model import PARAMS, bucket

EXC = np.asarray(sos.EXCEEDANCE, dtype=float)


def _inputs(s, **kw):
    o, p = s.obs, s.priors
    args = dict(time=o.time, width=o.width, slope=o.slope, node_width=o.node_width, mean_q=p.mean_q,
                min_q=p.min_q, max_q=p.max_q, monthly_q=p.monthly_q, flow_duration_q=p.flow_duration_q,
                exceedance=EXC, gb=p.gb)
    args.update(kw)
    return pr.build_inputs(**args)


def test_month_of():
    t = np.array([0.0, 31 * 86400.0, np.nan, (366 + 31 + 29) * 86400.0])  # 2000 is a leap year
    np.testing.assert_array_equal(pr.month_of(t), [0, 1, -1, 2])


def test_sigma_q_prior_from_lognormal_fdc():
    from statistics import NormalDist

    nd = NormalDist()
    fdc = np.exp(5.0 + 0.7 * np.array([nd.inv_cdf(1 - e / 100) for e in EXC]))
    assert pr.sigma_q_prior(fdc, np.full(12, 100.0), EXC) == pytest.approx(0.7, abs=0.01)
    # seasonality in the monthly means is taken out of the spread
    seasonal = np.exp(5.0 + 0.5 * np.sin(np.arange(12)))
    expect = np.sqrt(0.7**2 - np.var(0.5 * np.sin(np.arange(12))))
    assert pr.sigma_q_prior(fdc, seasonal, EXC) == pytest.approx(expect, abs=0.01)
    assert pr.sigma_q_prior(np.full(20, np.nan), seasonal, EXC) == pr.SIGMA_Q_DEFAULT


def test_gbpriors_used_and_defaults(synthetic):
    got, defaulted = pr.param_priors(synthetic.priors.gb, synthetic.obs.node_width)
    assert defaulted == []
    assert got["logr"].hat == pytest.approx(synthetic.priors.gb["logr_hat"])
    got, defaulted = pr.param_priors({}, synthetic.obs.node_width)
    assert defaulted == list(PARAMS)
    w95 = np.nanpercentile(synthetic.obs.node_width, 95)
    assert got["logWb"].hat == pytest.approx(np.log(w95))
    assert got["logDb"].hat == pytest.approx(np.log(0.27 * (w95 / 7.2) ** 0.78))
    assert got["logn"] == pr.LOGN_DEFAULT


def test_inputs_mask_missing_nodes_not_drop(synthetic):
    inp = _inputs(synthetic)
    d = inp.data
    nx, nt = synthetic.obs.node_width.shape
    assert d.logW.shape == (bucket(nx), bucket(nt))
    finite = np.isfinite(synthetic.obs.node_width)
    np.testing.assert_array_equal(d.wmask[:nx, :nt], finite)
    assert not d.wmask[nx:].any() and not d.wmask[:, nt:].any()
    np.testing.assert_allclose(d.logW[:nx, :nt][finite], np.log(synthetic.obs.node_width[finite]))
    assert inp.used_times.all()


def test_bad_slope_times_masked(synthetic):
    slope = synthetic.obs.slope.copy()
    slope[[0, 3]] = [-1e-5, np.nan]
    inp = _inputs(synthetic, slope=slope)
    assert not inp.used_times[[0, 3]].any() and inp.used_times.sum() == slope.size - 2
    assert not inp.data.wmask[:, [0, 3]].any()


def test_flow_prior_from_month_and_fallbacks(synthetic):
    monthly = np.arange(1, 13, dtype=float) * 100
    inp = _inputs(synthetic, monthly_q=monthly)
    months = pr.month_of(synthetic.obs.time)
    np.testing.assert_allclose(inp.data.q_loc[: synthetic.obs.nt], np.log(monthly[months]), rtol=1e-6)
    inp = _inputs(synthetic, monthly_q=np.full(12, np.nan), mean_q=250.0)
    np.testing.assert_allclose(inp.data.q_loc[: synthetic.obs.nt], np.log(250.0))
    assert np.all(inp.data.q_lo < inp.data.q_loc) and np.all(inp.data.q_hi > inp.data.q_loc)
    reason = _inputs(synthetic, monthly_q=np.full(12, np.nan), mean_q=np.nan)
    assert isinstance(reason, str) and "prior" in reason


def test_reach_width_when_no_nodes(synthetic):
    inp = _inputs(synthetic, node_width=None)
    assert inp.nx == 1 and inp.data.wmask[0, : synthetic.obs.nt].all()


def test_gbpriors_with_the_published_bound_names(synthetic):
    """The PO.DAAC SoS names the bounds lowerbound_{p} / upperbound_{p}: used, not defaulted."""
    published = {}
    for key, value in synthetic.priors.gb.items():
        for ours, theirs in (("lower_", "lowerbound_"), ("upper_", "upperbound_")):
            if key.startswith(ours):
                key = theirs + key[len(ours):]
        published[key] = value
    ours_got, _ = pr.param_priors(synthetic.priors.gb, synthetic.obs.node_width)
    got, defaulted = pr.param_priors(published, synthetic.obs.node_width)
    assert defaulted == [] and got == ours_got
