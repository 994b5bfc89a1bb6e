"""The HiVDI plug-in, its file against reference_outputs/flpe/hivdi, and the output contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
import pytest
from confluence_core import flpe, workflow
from confluence_flpe import flowlaws, registry
from confluence_flpe.flowlaws import FlowObs
from confluence_flpe.interface import Algorithm, FlpeResult, Priors, ReachObs
from confluence_flpe.runner import ReachInput, run_algorithm, write_outputs
from confluence_flpe_hivdi import HiVDI
from confluence_flpe_hivdi.algorithm import EXTRA
from hivdi_testdata import make_twin

#: Root attributes of ours beyond the reference's (every FLPE file has ``valid``; ``reason`` when flagged).
OUR_ATTRS = {"valid", "reason"}


def structure(path: Path) -> dict[str, Any]:
    """Dimensions (nt's length left out), root attributes and their types, each variable's dtype, dims and fill."""
    out: dict[str, Any] = {}
    with netCDF4.Dataset(path) as ds:
        out["/attrs"] = {a: type(ds.getncattr(a)).__name__ for a in ds.ncattrs() if a not in OUR_ATTRS}

        def walk(g: netCDF4.Dataset | netCDF4.Group, prefix: str) -> None:
            out[prefix + "/dims"] = tuple(sorted((k, len(v) if k != "nt" else 0) for k, v in g.dimensions.items()))
            for name, var in g.variables.items():
                fill = var.getncattr("_FillValue") if "_FillValue" in var.ncattrs() else None
                attrs = tuple(a for a in var.ncattrs() if a != "_FillValue")
                out[f"{prefix}/{name}"] = (var.dtype.str, var.dimensions, fill, attrs)
            for sub in g.groups.values():
                walk(sub, f"{prefix}/{sub.name}")

        walk(ds, "")
    return out


def write(root: Path, obs: ReachObs, res: FlpeResult) -> Path:
    path = Path(flpe.get("hivdi").path(root, obs.reach_id))
    path.parent.mkdir(parents=True, exist_ok=True)
    HiVDI().write(path, [obs], [res])
    return path


def reference_like(nt: int = 25, **kw: Any) -> tuple[ReachObs, Priors]:
    """A one-reach twin with the reference file's reach id and number of times."""
    obs, pri = make_twin(nt=nt, nodes=12, length=3000.0, bank=3.0, noise=0.05, **kw).reaches[0]
    obs.reach_id = pri.reach_id = 77449100071
    return obs, pri


def test_entry_point_and_protocol() -> None:
    algo = registry.get("hivdi")
    assert isinstance(algo, HiVDI) and isinstance(algo, Algorithm)
    assert registry.fanout(algo) == "reachset" and algo.min_obs == 5
    step = workflow.packaged().step("hivdi")
    assert step.list == "hivdisets.json" and step.flpe is not None and step.flpe.flowlaw == "hivdi"


def test_output_matches_reference(reference_hivdi: Path, tmp_path: Path) -> None:
    obs, pri = reference_like()
    (res,) = HiVDI().run([(obs, pri)])
    assert res.valid and np.isfinite(res.q).all()
    path = write(tmp_path, obs, res)
    assert path.name == "77449100071_hivdi.nc"
    ours, ref = structure(path), structure(reference_hivdi)
    extra = {f"/reach/{name}" for name in EXTRA}
    assert {k: v for k, v in ours.items() if k not in extra} == ref  # the reference layout, plus ours
    assert set(ours) - set(ref) == extra
    with netCDF4.Dataset(path) as ds, netCDF4.Dataset(reference_hivdi) as rds:
        assert list(ds["reach"].variables)[:len(rds["reach"].variables)] == list(rds["reach"].variables)
        assert ds.valid == 1 and ds.status == 1 and ds.obs_validity == 0 and ds.exception == 0
        assert ds.VDA_status == (1 if res.extra["status"] > 0 else 0)
        assert ds.reach_id == "77449100071" and ds.title == "HIVDI output for reach ID: 77449100071"
        assert b"".join(ds["reach/reach_id"][:].compressed()).decode() == "77449100071"
        assert ds["nt"][:].tolist()[:2] == [20080319, 20080329]  # YYYYMMDD, as the reference's
        np.testing.assert_allclose(ds["reach/Q"][:], res.q)
        for name in ("A0", "alpha", "beta"):
            assert float(ds[f"reach/{name}"][...]) == res.params[name]
        assert float(ds["reach/K_ref"][...]) == res.extra["K_ref"]


def test_below_the_minimum_data_is_flagged_with_the_reason(reference_hivdi: Path, tmp_path: Path) -> None:
    """Too few times with a water-surface profile: valid 0, the reason, the reference layout, NaN discharge."""
    obs, pri = reference_like(nt=8)
    obs.slope[:4] = np.nan  # 4 times left with width, wse and slope
    (res,) = HiVDI().run([(obs, pri)])
    assert not res.valid and res.reason == "reach 77449100071: 4 valid times, HiVDI needs 5"
    path = write(tmp_path / "flpe", obs, res)
    assert set(structure(path)) == set(structure(reference_hivdi)) | {f"/reach/{name}" for name in EXTRA}
    with netCDF4.Dataset(path) as ds:
        assert ds.valid == 0 and ds.reason == res.reason and ds.status == 0 and ds.obs_validity == 1
        assert ds.dimensions["nt"].size == 8 and ds["reach/Q"][:].mask.all() and ds["reach/A0"][...].mask
    got = flpe.read_result(flpe.get("hivdi"), tmp_path / "flpe", obs.reach_id)
    assert got is not None and not got.valid and got.q.shape == (8,) and np.isnan(got.q).all()
    assert all(np.isnan(v) for v in got.params.values())


def test_a_short_reach_is_flagged_alone_and_the_rest_of_its_set_runs(tmp_path: Path) -> None:
    """The framework's rule for sets: a reach below min_obs is flagged on its own, each file still written."""
    tw = make_twin(n_reaches=2, nt=8, nodes=6, length=2000.0)
    (o1, p1), (o2, p2) = tw.reaches
    o2.wse[:4] = np.nan
    items = [ReachInput(o1, p1), ReachInput(o2, p2)]
    items[1].reason = f"{o2.n_valid} valid observations, hivdi needs {HiVDI.min_obs}"
    algo = HiVDI()
    results = run_algorithm(algo, "reachset", items)
    assert [r.valid for r in results] == [True, False] and "needs 5" in results[1].reason
    assert np.isfinite(results[0].q).all()
    paths = write_outputs(algo, workflow.packaged().step("hivdi"), items, results, tmp_path)
    assert [p.name for p in paths] == [f"{o1.reach_id}_hivdi.nc", f"{o2.reach_id}_hivdi.nc"]
    with netCDF4.Dataset(paths[1]) as ds:
        assert ds.valid == 0 and "needs 5" in ds.reason and ds.dimensions["nt"].size == 8


def test_no_mean_flow_prior_is_flagged() -> None:
    obs, _ = reference_like(nt=8)
    (res,) = HiVDI().run([(obs, Priors(reach_id=obs.reach_id))])
    assert not res.valid and "mean_q" in res.reason


def test_contract_parameters_reproduce_the_discharge_through_the_flow_law(tmp_path: Path) -> None:
    """What MOI and offline read (Abar = A0, alpha, beta) gives HiVDI's discharge back through law ``hivdi``.

    The law's mean over the reach's times is the written discharge's mean (1e-9: alpha is scaled so,
    H12).  Time by time the law differs from the backwater discharge by the reach-scale law's own
    error (the water-surface slope is not the friction slope in a backwater curve, width and slope
    noise): stated 15 % rms in log on this set (node noise 2 cm; measured 8.8 % and 9.7 %, and 3.3 %
    on the noise-free set).  The scaling of alpha itself is small (measured 1.7 % and 0.8 %).
    """
    tw = make_twin(n_reaches=2, nt=20, nodes=12, length=3000.0, bank=3.0, noise=0.02, q_prior_factor=1.3, seed=2)
    items = [ReachInput(o, p) for o, p in tw.reaches]
    algo = HiVDI()
    results = run_algorithm(algo, "reachset", items)
    assert all(r.valid for r in results)
    step = workflow.packaged().step("hivdi")
    write_outputs(algo, step, items, results, tmp_path)
    assert step.flpe is not None
    law = flowlaws.get(step.flpe.flowlaw)
    for (obs, _), res in zip(tw.reaches, results, strict=True):
        got = flpe.read_result(flpe.get("hivdi"), tmp_path, obs.reach_id)
        assert got is not None and got.valid
        np.testing.assert_allclose(got.q, res.q)
        assert got.params == {"Abar": res.params["A0"], "alpha": res.params["alpha"], "beta": res.params["beta"]}
        q_law = law.q(got.params, FlowObs.of(obs))
        ok = np.isfinite(q_law)  # (NaN where a noisy reach slope is negative: none here)
        assert ok.all() and res.extra["law_times"] == 20
        assert np.mean(q_law[ok]) == pytest.approx(np.mean(got.q[ok]), rel=1e-9)
        rms = float(np.sqrt(np.mean(np.log(q_law[ok] / got.q[ok]) ** 2)))
        assert rms == pytest.approx(res.extra["law_rms_log"], rel=1e-9) and rms < 0.15
        assert 0.95 < res.params["alpha"] / res.extra["alpha_model"] < 1.05


def test_reach_without_node_data_runs_on_its_reach_wse_and_slope() -> None:
    """No node observations: the two pseudo-nodes of every time carry the profile (valid, correlated)."""
    tw = make_twin(nt=20, nodes=12, length=3000.0, bank=3.0, q_prior_factor=1.3)
    o, p = tw.reaches[0]
    bare = ReachObs(reach_id=o.reach_id, time=o.time, time_str=o.time_str, width=o.width, wse=o.wse,
                    slope=o.slope, d_x_area=o.d_x_area, reach_length=o.reach_length)
    (res,) = HiVDI().run([(bare, p)])
    assert res.valid and np.isfinite(res.q).all() and res.extra["n_pseudo_times"] == 20
    assert np.corrcoef(res.q, tw.q[0])[0, 1] > 0.95
