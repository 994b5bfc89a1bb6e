"""Plug-in: registry, output layout against the public workflow's file, the output contract, flagged output."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest
from confluence_core import flpe
from confluence_flpe import registry
from confluence_flpe.interface import FlpeResult
from confluence_flpe_neobam import NeoBAM
from confluence_flpe_neobam.plugin import PARAM_GROUPS, summarise

REF = "reference_outputs/flpe/geobam/74269800011_geobam.nc"


def _layout(path):
    """Groups -> {variable: (dtype, dims, fill)} and root attributes / dimensions."""
    with netCDF4.Dataset(path) as ds:
        groups = {"/": ds, **{g: ds.groups[g] for g in ds.groups}}
        out = {
            name: {v: (str(var.dtype), var.dimensions, getattr(var, "_FillValue", None))
                   for v, var in g.variables.items()}
            for name, g in groups.items()
        }
        return out, set(ds.ncattrs()), {d: len(v) for d, v in ds.dimensions.items()}


def _fake_result(nt, rid=74269800011, chains=3):
    rng = np.random.default_rng(0)
    draws = {p: rng.normal(size=(chains, 20)) for p in ("logn", "logr", "logWb", "logDb")}
    draws["logQ"] = rng.normal(4.0, 0.1, size=(chains, 20, nt + 6))
    used = np.ones(nt, dtype=bool)
    used[:2] = False
    s = summarise(draws, nt, used)
    return FlpeResult(reach_id=rid, q=s["q"], q_u=s["q_u"], extra=s), used


def test_registered():
    assert isinstance(registry.get("neobam"), NeoBAM)
    assert flpe.get("neobam").path(Path("f"), 74269800011) == Path("f/geobam/74269800011_geobam.nc")


def test_layout_matches_reference(tmp_path, shared_data, synthetic):
    ref_layout, ref_attrs, ref_dims = _layout(shared_data / REF)
    nt = ref_dims["nt"]
    obs = synthetic.obs.__class__.empty(74269800011, nt)
    res, used = _fake_result(nt)
    algo = NeoBAM()
    path = flpe.get("neobam").path(tmp_path, 74269800011)
    path.parent.mkdir()
    algo.write(path, [obs], [res])
    ours, attrs, dims = _layout(path)
    assert ours == ref_layout
    assert dims == ref_dims
    assert ref_attrs <= attrs and "valid" in attrs
    with netCDF4.Dataset(path) as ds:
        assert ds.reach_id == 74269800011 and ds.valid == 1
        assert ds["nt"].units == "time"
        ds.set_auto_mask(False)
        q1 = ds["q/q1"][:]
        assert np.all(q1[~used] == -999999999999.0) and np.all(q1[used] > 0)
        assert ds["r/mean2"][...] == pytest.approx(res.extra["r_mean"][1])
    got = flpe.read_result(flpe.get("neobam"), tmp_path, 74269800011)
    np.testing.assert_allclose(got.q[used], res.extra["q_chain"].mean(axis=0)[used])
    assert np.all(np.isnan(got.q[~used]))
    assert flpe.read_result(flpe.get("neobam"), tmp_path, 11111111111) is None


def test_flagged_below_min_obs(tmp_path, synthetic):
    obs = synthetic.obs
    obs.slope = obs.slope.copy()
    obs.slope[NeoBAM.min_obs - 1:] = np.nan
    algo = NeoBAM()
    (res,) = algo.run([(obs, synthetic.priors)])
    assert not res.valid and "usable times" in res.reason
    assert np.all(np.isnan(res.q)) and res.q.shape == (obs.nt,)
    path = flpe.get("neobam").path(tmp_path, obs.reach_id)
    path.parent.mkdir()
    algo.write(path, [obs], [res])
    with netCDF4.Dataset(path) as ds:
        assert ds.valid == 0
        assert set(ds.groups) == {*PARAM_GROUPS, "q"}
        assert np.all(ds["q/q3"][:].mask)
        assert ds["logn/mean1"][...].mask
    got = flpe.read_result(flpe.get("neobam"), tmp_path, obs.reach_id)
    assert not got.valid and np.all(np.isnan(got.q))


def test_flagged_without_flow_prior(synthetic):
    pri = synthetic.priors
    pri.mean_q, pri.monthly_q = np.nan, np.full(12, np.nan)
    (res,) = NeoBAM().run([(synthetic.obs, pri)])
    assert not res.valid and "prior" in res.reason
