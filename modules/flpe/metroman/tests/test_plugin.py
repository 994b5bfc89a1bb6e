import shutil
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from confluence_core import flpe, workflow
from confluence_core.errors import ConfluenceError
from confluence_flpe import registry
from confluence_flpe.interface import Algorithm, FlpeResult
from confluence_flpe.runner import output_path
from confluence_flpe_metroman import MetroMan, MetroManConfig
from metroman_testdata import IDS, as_inputs, trapezoid_set

FAST = MetroManConfig(n_iter=1500, burn_in=500)


def describe(path):
    """Every dimension, variable (dtype, dims, attrs incl. fill) and global attribute type of a file."""
    with netCDF4.Dataset(path) as ds:
        dims = {k: len(v) for k, v in ds.dimensions.items()}
        var = {k: (v.dtype.str, v.dimensions, sorted(v.ncattrs())) for k, v in ds.variables.items()}
        fills = {k: v.getncattr("_FillValue") for k, v in ds.variables.items() if "_FillValue" in v.ncattrs()}
        attrs = {k: type(ds.getncattr(k)) for k in ("set_id", "valid")}
        return dims, var, fills, attrs, list(ds.groups)


def test_entry_point_and_protocol():
    algo = registry.get("metroman")
    assert isinstance(algo, MetroMan) and isinstance(algo, Algorithm)
    assert registry.fanout(algo) == "reachset" and algo.min_obs == 5
    step = workflow.packaged().step("metroman")
    assert output_path(step, Path("f"), IDS[:3]).name == "77449100091-77449100081-77449100071_metroman.nc"


def test_config_from_env(monkeypatch):
    monkeypatch.setenv("CONFLUENCE_METROMAN_N_ITER", "5000")
    monkeypatch.setenv("CONFLUENCE_METROMAN_SIGMA_MODEL", "0.2")
    cfg = MetroMan().config
    assert (cfg.n_iter, cfg.burn_in, cfg.sigma_model) == (5000, 2000, 0.2)
    monkeypatch.setenv("CONFLUENCE_METROMAN_BURN_IN", "9000")
    with pytest.raises(ConfluenceError, match="CONFLUENCE_METROMAN_"):
        MetroMan()
    monkeypatch.setenv("CONFLUENCE_METROMAN_BURN_IN", "many")
    with pytest.raises(ConfluenceError, match="CONFLUENCE_METROMAN_BURN_IN"):
        MetroMan()


def write(algo, tmp_path, reaches, results):
    obs = [o for o, _ in reaches]
    path = output_path(workflow.packaged().step("metroman"), tmp_path, [o.reach_id for o in obs])
    path.parent.mkdir(parents=True, exist_ok=True)
    algo.write(path, obs, results)
    return path


def test_structure_matches_reference(tmp_path, truth3, reference_metroman):
    five = as_inputs(trapezoid_set(5, 25))
    algo = MetroMan(FAST)
    path = write(algo, tmp_path, five, algo.run(five))
    ours, ref = describe(path), describe(reference_metroman)
    assert ours[0] == ref[0]  # nr 5, nt 25
    for name, (dtype, dims, attrs) in ref[1].items():
        assert ours[1][name][:2] == (dtype, dims), name
        assert set(attrs) <= set(ours[1][name][2]), name
    assert set(ours[1]) == set(ref[1]) | {"Abar"}  # Abar: ours, the flow law's reference area
    assert {k: v for k, v in ours[2].items() if k != "Abar"} == ref[2]
    assert ours[3] == ref[3] and ours[4] == ref[4] == []
    with netCDF4.Dataset(path) as ds:
        assert ds.set_id == path.name and ds.valid == 1
        assert ds["nr"][:].tolist() == [1, 2, 3, 4, 5] and ds["nt"][:].tolist() == list(range(25))
        assert ds["reach_id"][:].tolist() == IDS


def read_q(root, reach_id):
    """The reach's discharge through the output contract (NaN where the file says ``valid = 0``)."""
    res = flpe.read_result(flpe.get("metroman"), root, reach_id)
    return None if res is None else (res.q if res.valid else np.full(res.q.shape, np.nan))


def test_per_reach_files_and_the_contract(tmp_path, truth3):
    reaches = as_inputs(truth3)
    algo = MetroMan(FAST)
    results = algo.run(reaches)
    path = write(algo, tmp_path, reaches, results)
    for (obs, _), res in zip(reaches, results, strict=True):
        per = path.parent / f"{obs.reach_id}_metroman.nc"
        with netCDF4.Dataset(per) as ds:
            assert ds.set_id == path.name and ds.valid == 1
            assert ds.dimensions["nr"].size == 1 and ds.dimensions["nt"].size == obs.nt
            assert ds["reach_id"][:].tolist() == [obs.reach_id]
            np.testing.assert_allclose(ds["A0hat"][0], res.params["A0hat"])
        np.testing.assert_allclose(read_q(tmp_path, obs.reach_id), res.q)
    assert read_q(tmp_path, 77449100011) is None
    assert not list(path.parent.glob(".*part"))


def test_flagged_output_below_min_obs(tmp_path, truth3):
    reaches = as_inputs(truth3)
    for obs, _ in reaches:
        obs.width[4:] = np.nan
    algo = MetroMan(FAST)
    results = algo.run(reaches)
    assert not any(r.valid for r in results) and all("4 valid times" in r.reason for r in results)
    path = write(algo, tmp_path, reaches, results)
    with netCDF4.Dataset(path) as ds:
        ds.set_auto_mask(False)
        assert ds.valid == 0 and "4 valid times" in ds.reason
        assert (ds["allq"][:] == -999999999999.0).all() and (ds["A0hat"][:] == -999999999999.0).all()
    assert np.isnan(read_q(tmp_path, reaches[0][0].reach_id)).all()


def test_single_reach_set_writes_one_file(tmp_path, truth3):
    reaches = as_inputs(truth3)[:1]
    algo = MetroMan(FAST)
    results = algo.run(reaches)
    assert results[0].valid and results[0].extra["n_fit"] == 1
    path = write(algo, tmp_path, reaches, results)
    assert [p.name for p in path.parent.iterdir()] == [f"{IDS[0]}_metroman.nc"]
    assert np.isfinite(read_q(tmp_path, IDS[0])).all()


def test_contract_reads_a_reference_set_file(tmp_path, reference_metroman):
    (tmp_path / "metroman").mkdir()
    shutil.copy(reference_metroman, tmp_path / "metroman" / reference_metroman.name)
    q = read_q(tmp_path, 77449100071)
    assert q.shape == (25,) and q[0] == pytest.approx(102.185283, rel=1e-6) and np.isnan(q[1])


def test_write_tolerates_invalid_result_without_params(tmp_path, truth3):
    reaches = as_inputs(truth3)[:2]
    results = [FlpeResult.invalid(o.reach_id, o.nt, "no SWOT file") for o, _ in reaches]
    path = write(MetroMan(FAST), tmp_path, reaches, results)
    with netCDF4.Dataset(path) as ds:
        assert ds.valid == 0
