"""The MOMMA plug-in and its output file against reference_outputs/flpe/momma."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
from confluence_core import flpe
from confluence_flpe import flowlaws
from confluence_flpe.flowlaws import FlowObs
from confluence_flpe.interface import FlpeResult, Priors, ReachObs
from confluence_flpe_momma.algorithm import EXTRA_SCALARS, Momma

REF = Path("reference_outputs") / "flpe" / "momma" / "77449100071_momma.nc"


def _obs(nt: int = 25) -> ReachObs:
    rng = np.random.default_rng(0)
    d = rng.uniform(2, 6, nt)
    return ReachObs(
        reach_id=77449100071, time=np.arange(nt) * 86400.0 * 10, time_str=np.full(nt, "2009-01-01T00:00:00Z"),
        width=60 * np.sqrt(d), wse=10 + d, slope=np.full(nt, 1e-4), d_x_area=np.zeros(nt),
    )


def _structure(path: Path) -> dict[str, tuple]:
    with netCDF4.Dataset(path) as ds:
        out = {"/dims": tuple(sorted((k, len(v) if k != "nt" else 0) for k, v in ds.dimensions.items())),
               "/attrs": tuple(sorted(a for a in ds.ncattrs()))}
        for name, var in ds.variables.items():
            fill = var.getncattr("_FillValue") if "_FillValue" in var.ncattrs() else None
            out[name] = (var.dtype.str, var.dimensions, fill)
    return out


def test_output_matches_reference(shared_data: Path, tmp_path: Path) -> None:
    algo = Momma()
    obs = _obs()
    res = algo.run([(obs, Priors(reach_id=obs.reach_id, mean_q=300.0, two_year_return_q=900.0))])
    assert res[0].valid and np.isfinite(res[0].q).all()
    path = flpe.get("momma").path(tmp_path, obs.reach_id)
    path.parent.mkdir(parents=True)
    assert path.name == "77449100071_momma.nc"
    algo.write(path, [obs], res)
    ours, ref = _structure(path), _structure(shared_data / REF)
    assert {k: v for k, v in ours.items() if k not in EXTRA_SCALARS} == ref  # the reference layout, plus ours
    assert set(ours) - set(ref) == set(EXTRA_SCALARS)
    with netCDF4.Dataset(path) as ds:
        assert ds.valid == 1 and ds["gage_constrained"][...] == 0
        np.testing.assert_allclose(ds["Q"][:], res[0].q)
        assert ds["nt"][0] == 20000101


def test_flagged_output_has_the_same_layout(shared_data: Path, tmp_path: Path) -> None:
    algo = Momma()
    obs = _obs(7)
    res = algo.run([(obs, Priors(reach_id=obs.reach_id))])  # no mean_q
    assert not res[0].valid and "mean_q" in res[0].reason
    path = flpe.get("momma").path(tmp_path / "flpe", obs.reach_id)
    path.parent.mkdir(parents=True)
    algo.write(path, [obs], res)
    assert set(_structure(path)) == set(_structure(shared_data / REF)) | set(EXTRA_SCALARS)
    with netCDF4.Dataset(path) as ds:
        assert ds.valid == 0 and ds["Q"][:].mask.all()
    got = flpe.read_result(flpe.get("momma"), tmp_path / "flpe", obs.reach_id)
    assert got is not None and not got.valid and got.q.shape == (7,) and np.isnan(got.q).all()
    assert flpe.read_result(flpe.get("momma"), tmp_path / "flpe", 77449100081) is None


def test_contract_reads_what_the_plugin_writes(tmp_path: Path) -> None:
    algo = Momma()
    obs = _obs()
    res = [FlpeResult(reach_id=obs.reach_id, q=np.linspace(1, 2, obs.nt))]
    path = flpe.get("momma").path(tmp_path, obs.reach_id)
    path.parent.mkdir()
    algo.write(path, [obs], res)
    got = flpe.read_result(flpe.get("momma"), tmp_path, obs.reach_id)
    assert got is not None and got.valid
    np.testing.assert_allclose(got.q, res[0].q)


def test_the_contract_parameters_reproduce_the_discharge_through_the_flow_law(tmp_path: Path) -> None:
    """What MOI and offline read (B, H, nb, x) gives back MOMMA's own discharge through the one law."""
    algo = Momma()
    obs = _obs()
    res = algo.run([(obs, Priors(reach_id=obs.reach_id, mean_q=300.0, two_year_return_q=900.0))])
    path = flpe.get("momma").path(tmp_path, obs.reach_id)
    path.parent.mkdir()
    algo.write(path, [obs], res)
    got = flpe.read_result(flpe.get("momma"), tmp_path, obs.reach_id)
    assert got is not None and set(got.params) == set(flowlaws.get("momma").params)
    q = flowlaws.get("momma").q(got.params, FlowObs.of(obs))
    np.testing.assert_allclose(q, res[0].q, rtol=1e-12)


def test_negatively_correlated_stage_and_width_is_flagged_with_the_reason() -> None:
    obs = _obs()
    obs.width = obs.width.max() + obs.width.min() - obs.width  # width falls as the stage rises
    (res,) = Momma().run([(obs, Priors(reach_id=obs.reach_id, mean_q=300.0))])
    assert not res.valid and "negatively correlated" in res.reason
