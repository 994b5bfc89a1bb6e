"""End to end on a run folder built in tmp: layout vs the reference, values through the flow laws, branches,
missing inputs."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
from click.testing import Result
from confluence_core import flpe
from confluence_flpe import flowlaws
from confluence_flpe.flowlaws import FlowObs
from confluence_flpe.io import read_swot


def _ok(result: Result) -> None:
    assert result.exit_code == 0, result.output


def test_layout_matches_reference(tmp_path: Path, world: Any, run_cli: Callable[..., Result],
                                  shared_data: Path) -> None:
    root = world.build_run(tmp_path, reach_id=world.REF_REACH, nt=154, swot=False)
    swot = world.copy_reference_swot(root, shared_data)
    _ok(run_cli(root))
    ref_path = shared_data / "reference_outputs" / "offline" / "77449100071_offline.nc"
    with netCDF4.Dataset(ref_path) as ref, netCDF4.Dataset(root / "offline" / f"{world.REF_REACH}_offline.nc") as ours:
        assert list(ours.dimensions) == list(ref.dimensions)
        extra = set(ours.variables) - set(ref.variables)  # ours: the uncertainty of each series
        assert set(ref.variables) <= set(ours.variables) and all(v.endswith(("_q_c_u", "_q_uc_u")) for v in extra)
        assert ours.getncattr("reach_id") == world.REF_REACH and ours.getncattr("reach_id").dtype == np.int64
        for name, var in ref.variables.items():
            mine = ours[name]
            assert (mine.dimensions, mine.dtype) == (var.dimensions, var.dtype), name
            assert ("_FillValue" in mine.ncattrs()) == ("_FillValue" in var.ncattrs()), name
            if "_FillValue" in var.ncattrs():
                assert mine.getncattr("_FillValue") == var.getncattr("_FillValue")
        assert ours["nt"].getncattr("units") == "time steps"
        assert ours.getncattr("d_x_area_source") == "SWOT reach/d_x_area"
    d = world.read_offline(root, world.REF_REACH)
    with netCDF4.Dataset(swot) as ds:
        np.testing.assert_array_equal(np.isfinite(d["d_x_area"]), ds["reach/d_x_area"][:].mask == False)  # noqa: E712
        time = ds["reach/time"][:]
    i = int(np.flatnonzero(~np.ma.getmaskarray(time))[0])
    day = datetime.datetime(2000, 1, 1) + datetime.timedelta(seconds=float(time[i]))
    assert d["nt"][i] == int(day.strftime("%Y%m%d"))
    assert (d["nt"][np.ma.getmaskarray(time)] == -999).all()


def _obs(root: Path, world: Any) -> FlowObs:
    return FlowObs.of(read_swot(root / "input" / "swot" / f"{world.REACH}_SWOT.nc"))


def test_q_uc_is_the_flow_law_of_the_integrated_parameters(tmp_path: Path, world: Any,
                                                            run_cli: Callable[..., Result]) -> None:
    """Unconstrained run: every ``_q_uc`` equals its algorithm's law on MOI's parameters, value for value."""
    root = world.build_run(tmp_path)
    _ok(run_cli(root))
    d = world.read_offline(root)
    obs = _obs(root, world)
    recomputed = {}
    for spec in flpe.algorithms().values():
        if not spec.offline:
            assert not any(k.startswith(f"{spec.name}_q") for k in d)
            continue
        law = flowlaws.get(spec.flowlaw)
        want = law.q(world.PARAMS[spec.flowlaw], obs)
        assert np.isfinite(want).all()
        np.testing.assert_array_equal(d[f"{spec.offline}_q_uc"], want)
        np.testing.assert_array_equal(d[f"{spec.offline}_q_uc_u"], law.q_u(world.PARAMS[spec.flowlaw], obs))
        assert np.isnan(d[f"{spec.offline}_q_c"]).all()  # the other branch
        recomputed[spec.name] = want
    # the consensus: the median of the algorithms the consensus file names
    np.testing.assert_allclose(d["consensus_q_uc"],
                               np.median([recomputed[n] for n in ("neobam", "momma", "sad")], axis=0))
    with netCDF4.Dataset(root / "offline" / f"{world.REACH}_offline.nc") as ds:
        assert ds.getncattr("branch") == "unconstrained"
        assert ds["metro_q_c"].getncattr("fill_reason").startswith("this run is unconstrained: the constrained "
                                                                   "branch is a run of its own")
    # d_x_area computed from width and wse: 0 at the median stage, rising with stage; and its uncertainty
    assert np.nanargmin(np.abs(d["d_x_area"])) in (4, 5) and np.all(np.diff(d["d_x_area"]) > 0)
    assert np.isfinite(d["d_x_area_u"]).all()
    assert d["nt"].tolist()[:2] == [20231007, 20231028]


def test_a_constrained_run_fills_q_c(tmp_path: Path, world: Any, run_cli: Callable[..., Result]) -> None:
    root = world.build_run(tmp_path)
    world.write_sos(root, constrained=True)
    _ok(run_cli(root))
    d = world.read_offline(root)
    want = flowlaws.get("metroman").q(world.PARAMS["metroman"], _obs(root, world))
    np.testing.assert_array_equal(d["metro_q_c"], want)
    assert np.isnan(d["metro_q_uc"]).all() and np.isfinite(d["consensus_q_c"]).all()
    assert "metro_q_c_u" in d and "metro_q_uc_u" not in d
    with netCDF4.Dataset(root / "offline" / f"{world.REACH}_offline.nc") as ds:
        assert ds.getncattr("branch") == "constrained"
        assert "*_SOS_results_unconstrained.nc" in ds["metro_q_uc"].getncattr("fill_reason")


def test_the_job_branch_must_be_the_sos_branch(tmp_path: Path, world: Any, run_cli: Callable[..., Result],
                                               monkeypatch: Any) -> None:
    """CONFLUENCE_BRANCH (set by the driver) decides; SoS priors of the other branch are an error naming the SoS."""
    root = world.build_run(tmp_path)
    sos = world.write_sos(root, constrained=False)
    monkeypatch.setenv("CONFLUENCE_BRANCH", "constrained")
    result = run_cli(root)
    assert result.exit_code == 1
    assert f"{sos}: the SoS priors are unconstrained (priors_constrained) but this job runs the constrained" \
        in result.output
    assert not (root / "offline" / f"{world.REACH}_offline.nc").exists()
    world.write_sos(root, constrained=True)
    _ok(run_cli(root))
    assert np.isfinite(world.read_offline(root)["consensus_q_c"]).all()


def test_missing_inputs_give_fill_and_one_log_line(tmp_path: Path, world: Any,
                                                   run_cli: Callable[..., Result]) -> None:
    root = world.build_run(tmp_path)
    specs = flpe.algorithms()
    groups = {s.moi: world.PARAMS[s.flowlaw] for s in specs.values()}
    groups.pop("momma")
    groups["sad"] = {"n": 0.03}  # no a0
    world.write_integrator(root, world.REACH, groups, world.NT)
    result = run_cli(root)
    _ok(result)
    warnings = [ln for ln in result.stderr.splitlines() if "WARNING" in ln]
    assert len(warnings) == 1
    for text in ("momma_q_uc (no MOI group 'momma')", "sads_q_uc (no integrated a0 in MOI group 'sad')"):
        assert text in warnings[0], text
    d = world.read_offline(root)
    assert np.isnan(d["momma_q_uc"]).all() and np.isnan(d["sads_q_uc"]).all()
    assert np.isfinite(d["bam_q_uc"]).all()
    (root / "moi" / f"{world.REACH}_integrator.nc").unlink()
    (root / "flpe" / "consensus" / f"{world.REACH}_consensus.nc").unlink()  # e.g. left out at consensus
    result = run_cli(root)
    _ok(result)
    warnings = [ln for ln in result.stderr.splitlines() if "WARNING" in ln]
    assert len(warnings) == 1 and f"reach {world.REACH}:" in warnings[0]
    assert f"metro_q_uc (no integrator file moi/{world.REACH}_integrator.nc)" in warnings[0]
    assert "consensus_q_uc (no recomputed" in warnings[0]
    assert all(np.isnan(v).all() for k, v in world.read_offline(root).items() if k.endswith("_q_uc"))


def test_all_fill_d_x_area_is_computed(tmp_path: Path, world: Any, run_cli: Callable[..., Result]) -> None:
    root = world.build_run(tmp_path)
    nt = world.NT
    world.write_swot(root, world.REACH, np.full(nt, 100.0), 10.0 + np.arange(nt, dtype=float),
                     dA=np.full(nt, np.nan))
    _ok(run_cli(root))
    d = world.read_offline(root)
    np.testing.assert_allclose(d["d_x_area"], 100.0 * (np.arange(nt) - 4.5))


def test_no_swot_file_is_one_clear_error(tmp_path: Path, world: Any, run_cli: Callable[..., Result]) -> None:
    root = world.build_run(tmp_path, swot=False)
    result = run_cli(root)
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: confluence-offline:") and f"{world.REACH}_SWOT.nc" in last and "not found" in last
    assert not (root / "offline" / f"{world.REACH}_offline.nc").exists()


def test_bad_list_entry(tmp_path: Path, world: Any, run_cli: Callable[..., Result]) -> None:
    root = world.build_run(tmp_path)
    (root / "input" / "reaches.json").write_text(json.dumps([{"swot": "x"}]))
    result = run_cli(root)
    assert result.exit_code == 1 and "no valid reach_id" in result.stderr
