"""End to end on small run folders built in tmp: layout, realism, stability between two runs, bad input."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
from click.testing import Result
from confluence_core import flpe

REF = "reference_outputs/postdiags"


def _ok(result: Result) -> None:
    assert result.exit_code == 0, result.output


def _names() -> list[str]:
    return [s.moi or s.name for s in [*flpe.algorithms().values(), flpe.consensus()]]


def _check_layout(ours_path: Path, ref_path: Path) -> None:
    with netCDF4.Dataset(ref_path) as ref, netCDF4.Dataset(ours_path) as ours:
        assert list(ours.dimensions) == list(ref.dimensions)
        assert ours.getncattr("reach_id").dtype == ref.getncattr("reach_id").dtype == np.int64
        assert list(ours.variables)[: len(ref.variables)] == list(ref.variables)
        for name, var in ref.variables.items():
            mine = ours[name]
            assert mine.dimensions == var.dimensions and mine.dtype == var.dtype, name
            for attr in ("_FillValue", "units"):
                if attr in var.ncattrs():
                    assert mine.getncattr(attr) == var.getncattr(attr), (name, attr)
        for name in ("realism_flags", "stability_flags"):
            assert "flag_meanings" in ours[name].ncattrs() and "flag_values" in ours[name].ncattrs()


def test_flpe_layout_matches_reference(tmp_path: Path, world: Any, run_cli: Callable[..., Result],
                                       shared_data: Path) -> None:
    root = world.build_run(tmp_path / "run")
    _ok(run_cli(root, "flpe", "--index", "1"))
    rid = world.REACHES[1]
    ours = root / "diagnostics" / "postdiagnostics" / f"{rid}_flpe_diag.nc"
    _check_layout(ours, shared_data / REF / "reach" / "77449100071_flpe_diag.nc")
    d = world.read_diag(root, rid)
    assert d["algo_names"].tolist() == _names()
    assert d["num_algos"].tolist() == list(range(1, len(_names()) + 1))
    assert d["realism_flags"].tolist() == [0] * len(_names())
    assert d["stability_flags"].tolist() == [2] * len(_names())  # no previous run: no reference


def test_moi_layout_matches_reference(tmp_path: Path, world: Any, run_cli: Callable[..., Result],
                                      shared_data: Path) -> None:
    root = world.build_run(tmp_path / "run")
    _ok(run_cli(root, "moi", "--index", "0"))
    for rid in world.REACHES:
        ours = root / "diagnostics" / "postdiagnostics" / f"{rid}_moi_diag.nc"
        _check_layout(ours, shared_data / REF / "basin" / "77449100071_moi_diag.nc")
    d = world.read_diag(root, world.REACHES[0], "moi")
    assert d["algo_names"].tolist() == [s.moi for s in flpe.algorithms().values() if s.moi]
    assert set(d["prepost_flags"].tolist()) == {0}  # integration moved the mean by 5 % only
    np.testing.assert_allclose(d["prepost_rel_change"], 0.05, rtol=1e-9)


def test_second_run_flags_only_the_changed_reach(tmp_path: Path, world: Any,
                                                 run_cli: Callable[..., Result]) -> None:
    first = world.build_run(tmp_path / "run1")
    changed = world.REACHES[1]
    second = world.build_run(tmp_path / "run2", scale={changed: 1.3})
    for i in range(len(world.REACHES)):
        _ok(run_cli(second, "flpe", "--index", str(i), "--previous", str(first)))
    _ok(run_cli(second, "moi", "--index", "0", "--previous", str(first)))
    n = len(_names())
    for rid in world.REACHES:
        flags = world.read_diag(second, rid)["stability_flags"].tolist()
        moi_flags = world.read_diag(second, rid, "moi")["stability_flags"].tolist()
        want = 1 if rid == changed else 0
        assert flags == [want] * n, rid
        assert moi_flags == [want] * (n - 1), rid
    np.testing.assert_allclose(world.read_diag(second, changed)["stability_rel_change"], 0.3, rtol=1e-9)


def test_threshold_option_changes_the_verdict(tmp_path: Path, world: Any, run_cli: Callable[..., Result]) -> None:
    first = world.build_run(tmp_path / "run1")
    rid = world.REACHES[0]
    second = world.build_run(tmp_path / "run2", scale={rid: 1.3})
    _ok(run_cli(second, "flpe", "--index", "0", "--previous", str(first), "--threshold", "0.5"))
    assert set(world.read_diag(second, rid)["stability_flags"].tolist()) == {0}


def test_realism_flags_bad_flow_and_parameter(tmp_path: Path, world: Any, run_cli: Callable[..., Result]) -> None:
    root = world.build_run(tmp_path / "run")
    rid = world.REACHES[0]
    specs = flpe.algorithms()
    q = world.base_q(rid)
    bad_q = q.copy()
    bad_q[2] = -5.0
    world.write_flpe(root, specs["momma"], rid, bad_q, world.PARAMS["momma"])
    world.write_flpe(root, specs["sad"], rid, q, {"A0": 320.0, "n": 6.2})
    world.write_flpe(root, specs["hivdi"], rid, q * 10, world.PARAMS["hivdi"])  # above max_q * 2 = 800
    (specs["sic4dvar"].path(root / "flpe", rid)).unlink()
    _ok(run_cli(root, "flpe", "--index", "0"))
    d = world.read_diag(root, rid)
    by_name = dict(zip(d["algo_names"].tolist(), zip(d["realism_flags"].tolist(), d["realism_reasons"].tolist(),
                                                      strict=True), strict=True))
    assert by_name["momma"][0] == 1 and "negative" in by_name["momma"][1]
    assert by_name["sad"][0] == 1 and "n = 6.2" in by_name["sad"][1]
    assert by_name["hivdi"][0] == 1 and "above max_q" in by_name["hivdi"][1]
    assert by_name["sic4dvar"] == (-999, "no result")
    assert by_name["geobam"][0] == 0 and by_name["metroman"][0] == 0 and by_name["consensus"][0] == 0
    assert d["stability_flags"][list(by_name).index("sic4dvar")] == -999


def test_missing_previous_run_is_one_line_and_no_reference(tmp_path: Path, world: Any,
                                                           run_cli: Callable[..., Result]) -> None:
    root = world.build_run(tmp_path / "run")
    result = run_cli(root, "flpe", "--index", "0", "--previous", str(tmp_path / "nowhere"))
    _ok(result)
    lines = [ln for ln in result.stderr.splitlines() if "nowhere" in ln]
    assert len(lines) == 1 and "not found" in lines[0]
    d = world.read_diag(root, world.REACHES[0])
    assert set(d["stability_flags"].tolist()) == {2} and set(d["realism_flags"].tolist()) == {0}


def test_corrupt_previous_file_flags_only_that_algorithm(tmp_path: Path, world: Any,
                                                         run_cli: Callable[..., Result]) -> None:
    first = world.build_run(tmp_path / "run1")
    second = world.build_run(tmp_path / "run2")
    rid = world.REACHES[2]
    bad = flpe.algorithms()["momma"].path(first / "flpe", rid)
    bad.write_bytes(b"not a netcdf file")
    (first / "moi" / f"{rid}_integrator.nc").write_bytes(b"\x89HDF\r\n garbage")
    result = run_cli(second, "flpe", "--index", "2", "--previous", str(first))
    _ok(result)
    lines = [ln for ln in result.stderr.splitlines() if bad.name in ln]
    assert len(lines) == 1 and "WARNING" in lines[0] and "not a readable NetCDF" in lines[0]
    d = world.read_diag(second, rid)
    names = d["algo_names"].tolist()
    assert d["stability_flags"][names.index("momma")] == 2
    assert [f for n, f in zip(names, d["stability_flags"].tolist(), strict=True) if n != "momma"] == [0] * 6
    result = run_cli(second, "moi", "--index", "0", "--previous", str(first))
    _ok(result)
    assert sum(f"{rid}_integrator.nc" in ln for ln in result.stderr.splitlines()) == 1
    assert set(world.read_diag(second, rid, "moi")["stability_flags"].tolist()) == {2}
    assert set(world.read_diag(second, world.REACHES[0], "moi")["stability_flags"].tolist()) == {0}


def test_moi_missing_integrator_and_prepost_change(tmp_path: Path, world: Any,
                                                   run_cli: Callable[..., Result]) -> None:
    root = world.build_run(tmp_path / "run")
    gone, moved = world.REACHES[0], world.REACHES[1]
    (root / "moi" / f"{gone}_integrator.nc").unlink()
    q = world.base_q(moved)
    names = [s.moi for s in flpe.algorithms().values() if s.moi]
    world.write_integrator(root, moved, {n: q * (1.5 if n == "momma" else 1.0) for n in names})
    result = run_cli(root, "moi", "--index", "0")
    _ok(result)
    assert sum("not found" in ln and f"{gone}_integrator.nc" in ln for ln in result.stderr.splitlines()) == 1
    d = world.read_diag(root, gone, "moi")
    assert set(d["realism_flags"].tolist()) == {-999} and set(d["prepost_flags"].tolist()) == {-999}
    d = world.read_diag(root, moved, "moi")
    assert d["prepost_flags"].tolist() == [1 if n == "momma" else 0 for n in names]


def test_bad_settings_and_entries_are_one_line_errors(tmp_path: Path, world: Any,
                                                      run_cli: Callable[..., Result]) -> None:
    root = world.build_run(tmp_path / "run")
    result = run_cli(root, "flpe", "--index", "0", "--threshold", "-1")
    assert result.exit_code == 1 and result.stderr.strip().splitlines()[-1].startswith("error: ")
    result = run_cli(root, "flpe", "--index", "9")
    assert result.exit_code == 1 and "reaches.json" in result.stderr and "no index 9" in result.stderr


def test_missing_sos_skips_bounds_only(tmp_path: Path, world: Any, run_cli: Callable[..., Result]) -> None:
    root = world.build_run(tmp_path / "run")
    shutil.rmtree(root / "input" / "sos")
    result = run_cli(root, "flpe", "--index", "0")
    _ok(result)
    assert "bound checks skipped" in result.stderr
    assert set(world.read_diag(root, world.REACHES[0])["realism_flags"].tolist()) == {0}
