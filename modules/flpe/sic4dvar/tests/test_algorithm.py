"""The SIC4DVar plug-in, its file against reference_outputs/flpe/sic4dvar, and the output contract."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
from confluence_core import flpe, workflow
from confluence_flpe import flowlaws, registry
from confluence_flpe.flowlaws import FlowObs
from confluence_flpe.interface import Algorithm, FlpeResult, Priors, ReachObs
from confluence_flpe.runner import ReachInput, run_algorithm, write_outputs
from confluence_flpe_sic4dvar import Sic4dvar
from confluence_flpe_sic4dvar.algorithm import EXTRA_SCALARS, EXTRA_SERIES
from sic4dvar_testdata import Twin, twin_reach

OURS = set(EXTRA_SCALARS) | set(EXTRA_SERIES)


def structure(path: Path) -> dict[str, tuple]:
    """Dimensions (nt's length left out), root attribute names and each variable's type, dims and fill."""
    with netCDF4.Dataset(path) as ds:
        out: dict[str, tuple] = {
            "/dims": tuple(sorted((k, len(v) if k != "nt" else 0) for k, v in ds.dimensions.items())),
            "/attrs": tuple(sorted(a for a in ds.ncattrs() if a not in ("reason", "algo5_reason"))),
        }
        for name, var in ds.variables.items():
            vlen = isinstance(var.datatype, netCDF4.VLType)
            kind = ("vlen", var.datatype.name, np.dtype(var.datatype.dtype).str) if vlen else var.dtype.str
            fill = var.getncattr("_FillValue") if "_FillValue" in var.ncattrs() else None
            out[name] = (kind, var.dimensions, fill)
    return out


def write(algo: Sic4dvar, root: Path, obs: ReachObs, res: FlpeResult) -> Path:
    path = flpe.get("sic4dvar").path(root, obs.reach_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    algo.write(path, [obs], [res])
    return path


def reference_like() -> Twin:
    """A synthetic reach with the reference file's 49 nodes and 25 times."""
    return twin_reach(nx=49, nt=25, reach_id=77449100061)


def test_entry_point_and_protocol() -> None:
    algo = registry.get("sic4dvar")
    assert isinstance(algo, Sic4dvar) and isinstance(algo, Algorithm)
    assert registry.fanout(algo) == "reachset" and algo.min_obs == 5
    assert workflow.packaged().step("sic4dvar").list == "sicsets.json"


def test_output_matches_reference(shared_data: Path, reference_sic4dvar: Path, tmp_path: Path) -> None:
    tw = reference_like()
    algo = Sic4dvar()
    res = algo.run([(tw.obs, tw.priors)])
    assert res[0].valid and np.isfinite(res[0].q).all()
    path = write(algo, tmp_path, tw.obs, res[0])
    assert path.name == "77449100061_sic4dvar.nc"
    ours, ref = structure(path), structure(reference_sic4dvar)
    assert {k: v for k, v in ours.items() if k not in OURS} == ref  # the reference layout, plus ours
    assert set(ours) - set(ref) == OURS
    with netCDF4.Dataset(path) as ds:
        assert ds.valid == 1 and ds.reach_id == 77449100061 and isinstance(ds.valid, np.int64)
        assert ds["nt"][:].tolist() == list(range(25))
        np.testing.assert_allclose(ds["Qalgo31"][:], res[0].q)
        np.testing.assert_allclose(ds["Qalgo5"][:], res[0].extra["Qalgo5"])
        assert float(ds["A0"][...]) == res[0].params["A0"] and float(ds["n"][...]) == res[0].params["n"]
        half, elev = ds["half_width"][:], ds["elevation"][:]
        assert len(half) == len(elev) == 49
        for n in range(49):  # bed first, below the lowest observed stage, then the observed table
            assert len(half[n]) == len(elev[n]) >= 3
            assert half[n][0] == half[n][1] and elev[n][0] < elev[n][1] == np.nanmin(tw.obs.node_wse[n])
            assert np.all(np.diff(half[n]) >= 0) and np.all(np.diff(elev[n]) > 0)


def test_flagged_output_has_the_same_layout(reference_sic4dvar: Path, tmp_path: Path) -> None:
    tw = reference_like()
    algo = Sic4dvar()
    res = algo.run([(tw.obs, Priors(reach_id=tw.obs.reach_id))])[0]  # no mean_q ...
    assert res.valid  # ... but SWORD facc: the prior falls back on it (S8)
    tw.obs.facc = float("nan")
    res = algo.run([(tw.obs, Priors(reach_id=tw.obs.reach_id))])[0]
    assert not res.valid and "prior" in res.reason
    path = write(algo, tmp_path / "flpe", tw.obs, res)
    assert set(structure(path)) == set(structure(reference_sic4dvar)) | OURS
    with netCDF4.Dataset(path) as ds:
        assert ds.valid == 0 and "prior" in ds.reason and ds["Qalgo31"][:].mask.all()
        assert len(ds["half_width"][:]) == 49
    got = flpe.read_result(flpe.get("sic4dvar"), tmp_path / "flpe", tw.obs.reach_id)
    assert got is not None and not got.valid and got.q.shape == (25,) and np.isnan(got.q).all()
    assert np.isnan(got.params["a0"]) and np.isnan(got.params["n"])


def test_below_min_estimable_times_is_flagged_in_the_reference_layout(reference_sic4dvar: Path,
                                                                      tmp_path: Path) -> None:
    """Every reach time valid, but only 4 with at least half the nodes observed (S6): algo31 flags the
    reach (valid 0, the reason), and the file keeps the reference layout: same dimensions, variable
    types, dims and fills, the bathymetry of the nodes it could build, missing discharge."""
    tw = reference_like()
    assert tw.obs.node_wse is not None and tw.obs.node_width is not None
    tw.obs.node_wse[10:, 4:] = np.nan  # 39 of 49 nodes unobserved after the 4th pass
    tw.obs.node_width[10:, 4:] = np.nan
    assert tw.obs.n_valid == 25
    algo = Sic4dvar()
    (res,) = algo.run([(tw.obs, tw.priors)])
    assert not res.valid and res.reason == "4 times with a positive slope and observed nodes, SIC4DVar needs 5"
    path = write(algo, tmp_path, tw.obs, res)
    ours, ref = structure(path), structure(reference_sic4dvar)
    assert {k: v for k, v in ours.items() if k not in OURS} == ref
    with netCDF4.Dataset(path) as ds:
        assert ds.valid == 0 and ds.reason == res.reason and isinstance(ds.valid, np.int64)
        for name in ("Qalgo31", "Qalgo5"):
            assert ds[name][:].mask.all()
        assert np.ma.is_masked(ds["A0"][...]) and np.ma.is_masked(ds["n"][...])
        half = ds["half_width"][:]
        assert len(half) == 49 and all(len(h) >= 3 for h in half)  # every node had 4+ distinct stages
    got = flpe.read_result(flpe.get("sic4dvar"), tmp_path, tw.obs.reach_id)
    assert got is not None and not got.valid and np.isnan(got.q).all()


def test_flagged_below_min_obs_through_the_runner(tmp_path: Path) -> None:
    """A set with one reach below min_obs: the framework flags that reach, with the reason; the other runs."""
    good, short = twin_reach(reach_id=74100000011), twin_reach(nt=4, seed=1, reach_id=74100000021)
    items = [ReachInput(good.obs, good.priors), ReachInput(short.obs, short.priors)]
    items[1].reason = f"{short.obs.n_valid} valid observations, sic4dvar needs {Sic4dvar.min_obs}"
    algo = Sic4dvar()
    results = run_algorithm(algo, "reachset", items)
    assert [r.valid for r in results] == [True, False] and "needs 5" in results[1].reason
    paths = write_outputs(algo, workflow.packaged().step("sic4dvar"), items, results, tmp_path)
    assert [p.name for p in paths] == ["74100000011_sic4dvar.nc", "74100000021_sic4dvar.nc"]
    with netCDF4.Dataset(paths[1]) as ds:
        assert ds.valid == 0 and "needs 5" in ds.reason and ds.dimensions["nt"].size == 4


def test_set_writes_one_file_per_reach_and_flow_law_matches(tmp_path: Path) -> None:
    """Flow-law consistency through the contract: Manning(A0, n) on the reach is Qalgo5 (1e-9) and
    Qalgo31 within the fit's accuracy (measured max 4.7 % on these reaches, stated 10 %)."""
    set_ = [twin_reach(seed=s, reach_id=74100000011 + 10 * s, q_mean=300.0 + 50 * s) for s in range(3)]
    items = [ReachInput(t.obs, t.priors) for t in set_]
    algo = Sic4dvar()
    results = run_algorithm(algo, "reachset", items)
    assert all(r.valid for r in results)
    write_outputs(algo, workflow.packaged().step("sic4dvar"), items, results, tmp_path)
    law = flowlaws.get(workflow.packaged().step("sic4dvar").flpe.flowlaw)
    for t, res in zip(set_, results, strict=True):
        got = flpe.read_result(flpe.get("sic4dvar"), tmp_path, t.obs.reach_id)
        assert got is not None and got.valid
        np.testing.assert_allclose(got.q, res.q)
        assert got.params == {"n": res.params["n"], "a0": res.params["A0"]}
        q_law = law.q(got.params, FlowObs.of(t.obs))
        np.testing.assert_allclose(q_law, res.extra["Qalgo5"], rtol=1e-9)
        assert np.max(np.abs(q_law / got.q - 1)) < 0.10


def test_reach_without_node_data_uses_its_reach_pairs(twin: Twin) -> None:
    o = twin.obs
    bare = ReachObs(reach_id=o.reach_id, time=o.time, time_str=o.time_str, width=o.width, wse=o.wse,
                    slope=o.slope, d_x_area=o.d_x_area)
    res = Sic4dvar().run([(bare, twin.priors)])[0]
    assert res.valid and np.isfinite(res.q).all()
    ok = np.isfinite(res.q)
    assert np.corrcoef(res.q[ok], twin.q[ok])[0, 1] > 0.99
    assert res.extra["half_width"] == [] and res.extra["elevation"] == []
