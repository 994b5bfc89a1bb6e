"""Reaches the run left out (``input/left_out.json``): the reason in ``reaches/left_out``, one
warning each, fill (``file_status`` 3) where their files are missing, what they have kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
from click.testing import CliRunner, Result
from confluence_core import leftout
from confluence_output.cli import LEFT_OUT, main
from output_runfolder import R61, R71, R_GEOBAM, REACHES

WHY_71 = "flpe_momma: solver exploded"
OTHER_CONTINENT = 21602100011  # eu: not in the na SoS


def invoke() -> Result:
    return CliRunner().invoke(main, ["--index", "1"])


def _read(path: Path) -> dict[str, Any]:
    """Every reach-axis variable of the module groups, by path, plus the left_out strings and attributes."""
    out: dict[str, Any] = {"vars": {}}
    with netCDF4.Dataset(path) as ds:
        ds.set_auto_maskandscale(False)

        def walk(grp: Any) -> None:
            for sub in grp.groups.values():
                walk(sub)
            top = grp.path.strip("/").split("/")[0]
            if top in ("reaches", "nodes"):
                return
            for var in grp.variables.values():
                if var.dimensions[:1] == ("num_reaches",) and var.dtype is not str:
                    fixed = all(d == "num_times" for d in var.dimensions[1:])  # label dims follow the reaches read
                    key = f"{grp.path.rstrip('/')}/{var.name}"
                    out["vars"][key] = (np.asarray(var[...]), var.getncattr("_FillValue"), fixed)

        walk(ds)
        out["left_out"] = list(ds["reaches/left_out"][:])
        out["left_out_attrs"] = {a: ds["reaches/left_out"].getncattr(a) for a in ds["reaches/left_out"].ncattrs()}
        out["n_reaches_left_out"] = int(ds.getncattr("n_reaches_left_out"))
    return out


def test_without_left_out_file_every_reason_is_empty(run: Path) -> None:
    res = invoke()
    assert res.exit_code == 0, res.output
    got = _read(run)
    assert got["left_out"] == [""] * len(REACHES) and got["n_reaches_left_out"] == 0
    assert got["left_out_attrs"]["long_name"] == "why the run left this reach out (empty when it did not)"
    assert "_FillValue" not in got["left_out_attrs"]


def test_left_out_reach_is_fill_with_its_reason(run: Path) -> None:
    res = invoke()
    assert res.exit_code == 0, res.output
    before = _read(run)
    row = REACHES.index(R71)
    assert before["vars"]["/momma/file_status"][0][row] == 1  # R71 has files in most groups

    leftout.write(run.parents[1] / "input", [
        {"reach_id": R71, "step": "flpe_momma", "reason": "solver exploded"},
        {"reach_id": OTHER_CONTINENT, "step": "input", "reason": "no SWOT file"},
    ])
    res = invoke()
    assert res.exit_code == 0, res.output
    warned = [ln for ln in res.stderr.splitlines() if "WARNING" in ln and "left out" in ln]
    assert len(warned) == 1 and str(R71) in warned[0] and WHY_71 in warned[0]
    after = _read(run)
    assert after["left_out"] == [WHY_71 if r == R71 else "" for r in REACHES]
    assert after["n_reaches_left_out"] == 1

    # R71 keeps what its files hold; the groups of the files removed (the steps it failed at) are fill, status 3
    removed = ["momma"]
    gone = [p for group in removed for p in (run.parents[1] / "flpe" / group).glob(f"{R71}_*.nc")]
    assert gone
    for path in gone:
        path.unlink()
    res = invoke()
    assert res.exit_code == 0, res.output
    after = _read(run)
    others = np.arange(len(REACHES)) != row
    n_kept = 0
    for name, (arr, fill, fixed) in after["vars"].items():
        group = name.strip("/").split("/")[0]
        if name.endswith("/file_status"):
            want = LEFT_OUT if group in removed else before["vars"][name][0][row]
            assert arr[row] == (want if before["vars"][name][0][row] != 0 else LEFT_OUT), name
            np.testing.assert_array_equal(arr[others], before["vars"][name][0][others], err_msg=name)
            continue
        if group in removed:
            assert np.all(arr[row] == fill), name
        elif name in before["vars"] and fixed:
            old = before["vars"][name][0]
            width = min(old.shape[1], arr.shape[1]) if arr.ndim > 1 else None
            np.testing.assert_array_equal(arr if width is None else arr[:, :width],
                                          old if width is None else old[:, :width], err_msg=name)
            n_kept += 1
    assert n_kept > 30  # every other group, R71's row included, as before
    assert after["vars"]["/neobam/file_status"][0][REACHES.index(R_GEOBAM)] == 1
    assert after["vars"]["/sic4dvar/file_status"][0][REACHES.index(R61)] == 1
