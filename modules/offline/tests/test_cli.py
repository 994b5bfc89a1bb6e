"""End to end on a run folder built in tmp: layout vs the reference, values, missing inputs."""

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
        assert set(ours.variables) == set(ref.variables)
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


def test_values_from_flpe_and_moi(tmp_path: Path, world: Any, run_cli: Callable[..., Result]) -> None:
    root = world.build_run(tmp_path)
    _ok(run_cli(root))
    d = world.read_offline(root)
    specs = flpe.algorithms()
    for i, spec in enumerate(specs.values()):
        if spec.offline:
            np.testing.assert_allclose(d[f"{spec.offline}_q_uc"], world.series(1.0 + i))
            np.testing.assert_allclose(d[f"{spec.offline}_q_c"], world.series(1.0 + i) * 1.1)
    assert not any(k.startswith("sic4dvar") for k in d)  # no offline prefix in the table
    np.testing.assert_allclose(d["consensus_q_uc"], world.series(2.0))
    k = {n: 1.0 + i for i, n in enumerate(specs)}
    want = np.median([world.series(k[n]) * 1.1 for n in ("neobam", "momma", "sad")], axis=0)
    np.testing.assert_allclose(d["consensus_q_c"], want)  # median of the contributing algorithms only
    # d_x_area computed from width and wse: 0 at the median stage, rising with stage
    assert np.nanargmin(np.abs(d["d_x_area"])) in (4, 5) and np.all(np.diff(d["d_x_area"]) > 0)
    assert np.isfinite(d["d_x_area_u"]).all()
    assert d["nt"].tolist()[:2] == [20231007, 20231028]


def test_missing_inputs_give_fill_and_one_log_line(tmp_path: Path, world: Any,
                                                   run_cli: Callable[..., Result]) -> None:
    root = world.build_run(tmp_path)
    (root / "moi" / f"{world.REACH}_integrator.nc").unlink()
    specs = flpe.algorithms()
    specs["momma"].path(root / "flpe", world.REACH).unlink()
    world.write_flpe(root, specs["sad"], world.REACH, np.ones(world.NT + 3))  # wrong length
    specs["hivdi"].path(root / "flpe", world.REACH).write_bytes(b"garbage")
    result = run_cli(root)
    _ok(result)
    warnings = [ln for ln in result.stderr.splitlines() if "WARNING" in ln]
    assert len(warnings) == 1
    for text in ("momma_q_uc (no FLPE file)", "metro_q_c (no integrator file)", "sads_q_uc (13 values",
                 "hivdi_q_uc (unreadable", "consensus_q_c (no constrained"):
        assert text in warnings[0], text
    d = world.read_offline(root)
    assert all(np.isnan(d[k]).all() for k in d if k.endswith("_q_c"))
    for name in ("momma_q_uc", "sads_q_uc", "hivdi_q_uc"):
        assert np.isnan(d[name]).all()
    np.testing.assert_allclose(d["bam_q_uc"], world.series(1.0))


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
