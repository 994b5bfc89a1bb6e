"""End to end on the tiny basin of conftest: structure, values, bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from click.testing import Result
from confluence_core import flpe, jsonio
from confluence_flpe import flowlaws
from confluence_moi import integrate as ig
from moi_fixtures import (
    DAM,
    MID,
    MOMMA_MEAN,
    NT,
    OUTLET,
    REACHES,
    TRIB_A,
    TRIB_B,
    observations,
    write_momma,
    write_swot,
)

FILL = -999999999999.0
REF = Path("reference_outputs") / "moi" / "77449100071_integrator.nc"


def _ok(result: Result) -> None:
    assert result.exit_code == 0, result.output


def _out(mnt: Path, rid: int) -> Path:
    return mnt / "moi" / f"{rid}_integrator.nc"


def _layout(path: Path) -> dict:
    with netCDF4.Dataset(path) as ds:
        return {
            "dims": list(ds.dimensions),
            "nt": (ds["nt"].dtype, ds["nt"].dimensions, ds["nt"].getncattr("units"),
                   "_FillValue" in ds["nt"].ncattrs()),
            "groups": {n: {v: (g[v].dtype, g[v].dimensions, g[v].getncattr("_FillValue")) for v in g.variables}
                       for n, g in ds.groups.items()},
        }


def _group(path: Path, name: str) -> dict:
    with netCDF4.Dataset(path) as ds:
        ds.set_auto_mask(False)
        g = ds[name]
        out = {v: np.asarray(g[v][...]) for v in g.variables}
        out["attrs"] = {a: g.getncattr(a) for a in g.ncattrs()}
        return out


def test_structure_matches_reference(tiny_run: Path, run_cli: Callable[..., Result], shared_data: Path) -> None:
    """The reference layout: one group per algorithm with q, its flow law's parameters and the two means."""
    _ok(run_cli())
    assert sorted(p.name for p in (tiny_run / "moi").iterdir()) == sorted(f"{r}_integrator.nc" for r in REACHES)
    ours, ref = _layout(_out(tiny_run, OUTLET)), _layout(shared_data / REF)
    assert (ours["dims"], ours["nt"]) == (ref["dims"], ref["nt"])
    assert list(ours["groups"]) == list(ref["groups"])  # the reference's order
    laws = {s.moi: flowlaws.get(s.flowlaw) for s in flpe.algorithms().values()}
    for name, variables in ours["groups"].items():
        for v in ("q", "qbar_reachScale", "qbar_basinScale"):
            assert variables[v] == ref["groups"][name][v], (name, v)
        assert list(variables) == ["q", *laws[name].params, "qbar_reachScale", "qbar_basinScale"], name
        shared = set(variables) & set(ref["groups"][name])  # e.g. metroman Abar, na, x1; hivdi Abar, alpha, beta
        assert all(variables[v] == ref["groups"][name][v] for v in shared), name
    with netCDF4.Dataset(_out(tiny_run, OUTLET)) as ds:
        assert len(ds.dimensions["nt"]) == NT and "production_date" in ds.ncattrs()


def test_integrated_means_conserve_mass_and_series_follow(tiny_run: Path, run_cli: Callable[..., Result]) -> None:
    _ok(run_cli())
    basin = {r: _group(_out(tiny_run, r), "momma") for r in REACHES}
    qbar = {r: float(g["qbar_basinScale"]) for r, g in basin.items()}
    # raw: 75 + 40 upstream of an outlet of 70; integrated: non-decreasing through the dam
    assert qbar[DAM] >= qbar[TRIB_A] + qbar[TRIB_B] - 1e-6
    assert qbar[OUTLET] >= qbar[MID] - 1e-6 and qbar[MID] >= qbar[DAM] - 1e-6
    for r, m in MOMMA_MEAN.items():
        g = basin[r]
        assert float(g["qbar_reachScale"]) == pytest.approx(m)
        assert g["q"][g["q"] != FILL].mean() == pytest.approx(qbar[r], rel=1e-9)
        assert g["attrs"]["valid"] == 1 and g["attrs"]["flow_law"] == "momma"
        # the stages stay, the roughness moves (the law's scale parameter)
        assert float(g["B"]) == 7.5 and float(g["H"]) == pytest.approx(observations(r).wse.max())
    # the dam has no FLPE result but carries the integrated flow
    dam = basin[DAM]
    assert (dam["q"] == FILL).all() and dam["qbar_reachScale"] == FILL and dam["attrs"]["valid"] == 0
    assert np.isfinite(qbar[DAM]) and qbar[DAM] > 0


def test_metroman_roughness_scaled_and_missing_algorithms_filled(tiny_run: Path,
                                                                  run_cli: Callable[..., Result]) -> None:
    _ok(run_cli())
    g = _group(_out(tiny_run, MID), "metroman")
    k = float(g["qbar_basinScale"]) / float(g["qbar_reachScale"])
    assert k != pytest.approx(1.0)
    na_flpe = float(netCDF4.Dataset(tiny_run / "flpe" / "metroman" / f"{MID}_metroman.nc")["nahat"][0])
    # Q ~ 1/na with Abar and x1 fixed: the integrated roughness is the FLPE one over k, exactly
    assert float(g["na"]) == pytest.approx(na_flpe / k, rel=1e-9)
    assert float(g["Abar"]) == 150.0 and float(g["x1"]) == -0.2
    sad = _group(_out(tiny_run, MID), "sad")
    assert sad["attrs"]["status"] == "no result in the basin"
    assert all((sad[v] == FILL).all() for v in ("q", "n", "a0", "qbar_reachScale", "qbar_basinScale"))


def test_rerun_gives_the_same_values(tiny_run: Path, run_cli: Callable[..., Result]) -> None:
    _ok(run_cli())
    first = _group(_out(tiny_run, OUTLET), "momma")
    _ok(run_cli())
    again = _group(_out(tiny_run, OUTLET), "momma")
    np.testing.assert_array_equal(first["q"], again["q"])


def test_missing_sword_is_one_clear_error(tiny_run: Path, run_cli: Callable[..., Result]) -> None:
    (tiny_run / "input" / "sword" / "na_sword_v16.nc").unlink()
    result = run_cli()
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith("error: confluence-moi: ") and "na_sword_v16.nc: file not found" in lines[-1]
    assert not any((tiny_run / "moi").iterdir())


def test_bad_index_and_malformed_entry(tiny_run: Path, run_cli: Callable[..., Result]) -> None:
    result = run_cli("--index", "3")
    assert result.exit_code == 1 and "basin.json: has 1 entries, no index 3" in result.output
    jsonio.write_json(tiny_run / "input" / "basin.json", [{"basin_id": 7426}])
    result = run_cli()
    assert result.exit_code == 1 and "basin entry has no reach_id list" in result.output


def test_reach_missing_from_sword_is_isolated(tiny_run: Path, run_cli: Callable[..., Result]) -> None:
    stray = 74260000991
    write_momma(tiny_run / "flpe", stray, np.full(NT, 33.0))  # a series without flow-law parameters
    write_swot(tiny_run / "input" / "swot" / f"{stray}_SWOT.nc", stray, observations(stray))
    entries = jsonio.read_json(tiny_run / "input" / "basin.json")
    entries[0]["reach_id"].append(str(stray))
    entries[0]["swot"].append(f"{stray}_SWOT.nc")
    jsonio.write_json(tiny_run / "input" / "basin.json", entries)
    result = run_cli()
    _ok(result)
    assert "not in SWORD, treated as isolated" in result.output and str(stray) in result.output
    g = _group(_out(tiny_run, stray), "momma")  # no SoS prior, no neighbours: its own mean
    assert float(g["qbar_basinScale"]) == pytest.approx(33.0, rel=1e-4)
    assert g["attrs"]["status"].startswith("flow-law parameters missing") and (g["q"] == FILL).all()


def test_basin_without_flpe_results_writes_fill(tiny_run: Path, run_cli: Callable[..., Result]) -> None:
    for f in (tiny_run / "flpe").rglob("*.nc"):
        f.unlink()
    result = run_cli()
    _ok(result)
    assert result.output.count("no FLPE result for any of its 5 reaches") == 1
    g = _group(_out(tiny_run, OUTLET), "momma")
    assert (g["q"] == FILL).all() and g["qbar_basinScale"] == FILL


def test_invalid_and_corrupt_results_are_skipped(tiny_run: Path, run_cli: Callable[..., Result]) -> None:
    write_momma(tiny_run / "flpe", TRIB_A, np.full(NT, 1e6), valid=0)  # flagged: must not pull the basin
    (tiny_run / "flpe" / "momma" / f"{TRIB_B}_momma.nc").write_text("not netcdf")
    result = run_cli()
    _ok(result)
    assert any(f"{TRIB_B}_momma.nc" in line and "skipped" in line for line in result.output.splitlines())
    for rid in (TRIB_A, TRIB_B):
        g = _group(_out(tiny_run, rid), "momma")
        assert g["attrs"]["status"] == "no result for this reach" and np.isfinite(g["qbar_basinScale"])
    assert float(_group(_out(tiny_run, OUTLET), "momma")["qbar_basinScale"]) < 1000.0


def test_missing_sos_integrates_without_priors(tiny_run: Path, run_cli: Callable[..., Result]) -> None:
    (tiny_run / "input" / "sos" / "na_sword_v16_SOS_priors.nc").unlink()
    result = run_cli()
    _ok(result)
    assert "without SoS priors" in result.output
    qbar = {r: float(_group(_out(tiny_run, r), "momma")["qbar_basinScale"]) for r in REACHES}
    down = np.array([-1, 0, 1, 2, 2])  # REACHES order: outlet, mid, dam, trib a, trib b
    assert ig.mass_deficit(down, np.array([qbar[r] for r in REACHES])) == pytest.approx(0.0, abs=1e-9)
