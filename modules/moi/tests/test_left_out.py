"""A reach whose upstream files are missing (left out by ``confluence run --keep-going``) does not stop
the basin: one warning names it and the missing files, its integrator groups are fill (or it has no
file when its SWOT file is gone), and every other reach is integrated as usual."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from click.testing import Result
from confluence_core import leftout
from confluence_moi import integrate as ig
from moi_fixtures import MID, OUTLET, REACHES, TRIB_A, TRIB_B

FILL = -999999999999.0


def _momma(path: Path) -> tuple[np.ndarray, float, float, int]:
    with netCDF4.Dataset(path) as ds:
        ds.set_auto_mask(False)
        g = ds["momma"]
        return np.asarray(g["q"][:]), float(g["qbar_reachScale"][...]), float(g["qbar_basinScale"][...]), \
            int(g.getncattr("valid"))


def _warnings(result: Result, rid: int) -> list[str]:
    return [ln for ln in result.output.splitlines() if "WARNING" in ln and f"reach {rid}:" in ln]


def test_missing_upstream_files_fill_one_reach(tiny_run: Path, run_cli: Callable[..., Result]) -> None:
    # TRIB_A: left out at input (no SWOT file, no FLPE files); MID: left out at FLPE (no FLPE files)
    (tiny_run / "input" / "swot" / f"{TRIB_A}_SWOT.nc").unlink()
    for rid in (TRIB_A, MID):
        for f in (tiny_run / "flpe").rglob(f"{rid}_*.nc"):
            f.unlink()
    leftout.write(tiny_run / "input", [{"reach_id": TRIB_A, "step": "input", "reason": "no granule"},
                                       {"reach_id": MID, "step": "flpe_momma", "reason": "crashed"}])
    result = run_cli()
    assert result.exit_code == 0, result.output

    (a,) = _warnings(result, TRIB_A)
    assert f"input/swot/{TRIB_A}_SWOT.nc" in a and f"{TRIB_A}_*.nc" in a and "input: no granule" in a
    assert "no integrator file" in a
    (m,) = _warnings(result, MID)
    assert f"{MID}_*.nc" in m and "SWOT" not in m and "flpe_momma: crashed" in m
    assert not any(_warnings(result, r) for r in REACHES if r not in (TRIB_A, MID))

    moi = tiny_run / "moi"
    assert sorted(p.name for p in moi.iterdir()) == sorted(f"{r}_integrator.nc" for r in REACHES if r != TRIB_A)
    q, qbar_reach, qbar_basin, valid = _momma(moi / f"{MID}_integrator.nc")
    assert (q == FILL).all() and qbar_reach == FILL and valid == 0
    assert np.isfinite(qbar_basin) and qbar_basin > 0  # the network still gives it a mean flow
    for rid in (OUTLET, TRIB_B):  # the others are integrated
        q, qbar_reach, qbar_basin, valid = _momma(moi / f"{rid}_integrator.nc")
        assert valid == 1 and (q != FILL).all() and np.isfinite(qbar_reach)
        assert q.mean() == pytest.approx(qbar_basin, rel=1e-9)


def test_without_left_out_file_missing_files_still_warn_once(tiny_run: Path,
                                                             run_cli: Callable[..., Result]) -> None:
    for f in (tiny_run / "flpe").rglob(f"{TRIB_B}_*.nc"):
        f.unlink()
    result = run_cli()
    assert result.exit_code == 0, result.output
    (w,) = _warnings(result, TRIB_B)
    assert f"{TRIB_B}_*.nc" in w and "left out" not in w
    qbar = {r: _momma(tiny_run / "moi" / f"{r}_integrator.nc")[2] for r in REACHES}
    down = np.array([-1, 0, 1, 2, 2])  # REACHES order: outlet, mid, dam, trib a, trib b
    assert ig.mass_deficit(down, np.array([qbar[r] for r in REACHES])) <= 1e-6


def test_unreadable_swot_file_is_named_and_the_basin_goes_on(tiny_run: Path,
                                                             run_cli: Callable[..., Result]) -> None:
    (tiny_run / "input" / "swot" / f"{TRIB_B}_SWOT.nc").write_text("not netcdf")
    result = run_cli()
    assert result.exit_code == 0, result.output
    (w,) = _warnings(result, TRIB_B)
    assert f"{TRIB_B}_SWOT.nc" in w and "no integrator file" in w and "FLPE" not in w
    written = sorted(p.name for p in (tiny_run / "moi").iterdir())
    assert written == sorted(f"{r}_integrator.nc" for r in REACHES if r != TRIB_B)
