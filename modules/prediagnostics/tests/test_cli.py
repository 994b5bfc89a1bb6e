"""End to end on a copy of the reference SWOT file, in a tmp run folder."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from click.testing import Result

FILL = -999999999999.0
REACH_ID = 74269800011  # the reference SWOT file (conftest.swot_file)


def _diag(mnt: Path) -> Path:
    return mnt / "diagnostics" / "prediagnostics" / f"{REACH_ID}_prediagnostics.nc"


def _data(path: Path) -> dict[str, bytes]:
    """Every variable's raw bytes, by path (attributes and HDF5 layout left out)."""
    out: dict[str, bytes] = {}

    def walk(grp: netCDF4.Group) -> None:
        for name, var in grp.variables.items():
            var.set_auto_maskandscale(False)
            out[f"{grp.path}/{name}"] = np.asarray(var[...]).tobytes()
        for sub in grp.groups.values():
            walk(sub)

    with netCDF4.Dataset(path) as ds:
        walk(ds)
    return out


def _plant(path: Path) -> None:
    """Bad values the step must remove: an ice-covered pass, a width spike, a node wse spike, a dark
    node whose width (the prior's) is off the node's WSE-width relation; and a dark node on it."""
    with netCDF4.Dataset(path, "a") as ds:
        ds["reach/ice_clim_f"][3] = 2
        ds["reach/width"][10] = 5000.0
        ds["node/wse"][5, 20] = 300.0
        ds["node/dark_frac"][7, 30] = 0.9
        ds["node/width"][7, 30] = 40.0
        ds["node/dark_frac"][8, 31] = 0.9


def _read(path: Path, var: str) -> np.ndarray:
    with netCDF4.Dataset(path) as ds:
        ds.set_auto_mask(False)
        return np.asarray(ds[var][...])


def _ok(result: Result) -> None:
    assert result.exit_code == 0, result.output


def test_structure_matches_reference(mnt: Path, swot_file: Path, run_cli: Callable[..., Result],
                                     shared_data: Path) -> None:
    _ok(run_cli())
    ref_path = shared_data / "reference_outputs" / "prediags" / "77449100071_prediagnostics.nc"
    with netCDF4.Dataset(ref_path) as ref, netCDF4.Dataset(_diag(mnt)) as ours:
        assert list(ours.dimensions) == list(ref.dimensions)
        assert set(ours.groups) == set(ref.groups)
        assert ours.getncattr("reach_id") == REACH_ID and ours.getncattr("reach_id").dtype == np.int64
        for name, var in ref.variables.items():
            assert ours[name].dimensions == var.dimensions and ours[name].dtype == var.dtype
        for group in ref.groups:
            for name, var in ref[group].variables.items():
                mine = ours[group][name]
                assert mine.dimensions == var.dimensions, (group, name)
                assert mine.dtype == var.dtype, (group, name)
                for attr in ("_FillValue", "flag_values", "flag_meanings"):
                    assert mine.getncattr(attr) == var.getncattr(attr), (group, name, attr)
        assert ours["reach/width_outliers"].shape == (154,)
        assert ours["node/width_outliers"].shape == (154, 42)
        assert "skipped" in ours["reach/p_width"].ncattrs()  # no SWORD file in this run folder


def test_planted_bad_values_removed(mnt: Path, swot_file: Path, run_cli: Callable[..., Result]) -> None:
    _plant(swot_file)
    _ok(run_cli())
    for var in ("width", "width_u", "wse", "slope2", "d_x_area", "d_x_area_u"):
        assert _read(swot_file, f"reach/{var}")[3] == FILL, var  # ice: whole observation
    assert _read(swot_file, "reach/width")[10] == FILL
    assert _read(swot_file, "reach/d_x_area")[10] == FILL
    assert _read(swot_file, "node/wse")[5, 20] == FILL
    assert _read(swot_file, "node/d_x_area")[5, 20] == FILL
    assert _read(swot_file, "node/width")[5, 20] != FILL
    assert _read(swot_file, "node/width")[7, 30] == FILL  # dark water off the relation: whole node observation
    assert _read(swot_file, "node/wse")[7, 30] == FILL
    assert _read(swot_file, "node/width")[8, 31] != FILL  # dark water on the relation: kept
    # originals kept, flags written (node flags are [time, node])
    assert _read(swot_file, "original/reach/width")[10] == 5000.0
    assert _read(_diag(mnt), "reach/ice_clim_f")[3] == 1
    assert _read(_diag(mnt), "reach/width_outliers")[10] == 1
    assert _read(_diag(mnt), "node/wse_outliers")[20, 5] == 1
    assert _read(_diag(mnt), "node/dark_frac")[30, 7] == 1
    assert _read(_diag(mnt), "node/dark_frac")[31, 8] == 0
    # untouched fields stay as they were
    with netCDF4.Dataset(swot_file) as ds:
        assert netCDF4.chartostring(ds["reach/time_str"][0]) == "-999.0"
        assert ds.getncattr("title") == f"SWOT Data for {REACH_ID}"


def test_counts_in_flags_file_and_json(mnt: Path, swot_file: Path, run_cli: Callable[..., Result]) -> None:
    _plant(swot_file)
    _ok(run_cli())
    summary = json.loads((mnt / "diagnostics" / "prediagnostics" / f"{REACH_ID}_prediagnostics.json").read_text())
    assert summary["reach_id"] == REACH_ID and summary["swot_file_updated"] is True
    reach = summary["reach"]
    assert reach["observations"] == 154
    assert reach["removed_by"]["ice_clim_f"] == 1 and reach["removed_by"]["width_outliers"] >= 1
    assert reach["removed"] == reach["observations"] - reach["kept"]
    assert reach["removed"] <= sum(reach["removed_by"].values())
    node = summary["node"]
    assert node["removed_by"]["dark_frac"] == 1 and node["removed_by"]["wse_outliers"] >= 1
    with netCDF4.Dataset(_diag(mnt)) as ds:
        assert ds.getncattr("n_passes") == 154
        assert ds.getncattr("n_passes_removed") == reach["removed"]
        assert ds.getncattr("n_passes_kept") == reach["kept"]
        assert ds.getncattr("n_node_observations_kept") == node["kept"]
        for name, n in reach["removed_by"].items():
            assert ds["reach"][name].getncattr("n_removed") == n, name
            assert int(np.asarray(ds["reach"][name][:]).sum()) == n, name
        assert ds["reach/removed"].getncattr("n_removed") == reach["removed"]


def test_idempotent(mnt: Path, swot_file: Path, run_cli: Callable[..., Result]) -> None:
    _plant(swot_file)
    _ok(run_cli())
    first, first_diag = _data(swot_file), _data(_diag(mnt))
    _ok(run_cli())
    assert _data(swot_file) == first
    assert _data(_diag(mnt)) == first_diag
    assert not list(swot_file.parent.glob(".*.part"))


def test_config_override_recorded(mnt: Path, swot_file: Path, run_cli: Callable[..., Result],
                                  tmp_path: Path) -> None:
    config = tmp_path / "prediag.toml"
    config.write_text("outlier_k = 3.0\nnode_p_width_min = 100\n")
    _ok(run_cli(env={"CONFLUENCE_PREDIAG_CONFIG": str(config)}))
    with netCDF4.Dataset(_diag(mnt)) as ds:
        assert ds.getncattr("prediag_outlier_k") == 3.0
        assert ds.getncattr("prediag_node_p_width_min") == 100.0
        assert ds.getncattr("prediag_dark_frac_max") == 0.6
        assert ds.getncattr("config_file") == str(config)


def test_all_removed_leaves_swot_untouched(mnt: Path, swot_file: Path, run_cli: Callable[..., Result],
                                           tmp_path: Path) -> None:
    config = tmp_path / "strict.toml"
    config.write_text("xovr_cal_q_max = 0\n")  # every reference observation has xovr_cal_q = 1
    before = hashlib.sha256(swot_file.read_bytes()).hexdigest()
    result = run_cli("--config", str(config))
    _ok(result)
    assert "all" in result.stderr and "left untouched" in result.stderr
    assert hashlib.sha256(swot_file.read_bytes()).hexdigest() == before
    with netCDF4.Dataset(_diag(mnt)) as ds:
        assert ds.getncattr("usable") == 0
        assert ds["reach/xovr_cal_q"][:].all()
        assert ds.getncattr("n_passes_kept") == 0
    summary = json.loads(_diag(mnt).with_suffix(".json").read_text())
    assert summary["swot_file_updated"] is False
    assert summary["reach"]["removed_by"]["xovr_cal_q"] == summary["reach"]["observations"] == 154
    assert summary["reach"]["kept"] == 0


def test_bad_config_is_one_error(mnt: Path, swot_file: Path, run_cli: Callable[..., Result],
                                 tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("dark_frac = 0.5\n")
    result = run_cli("--config", str(config))
    assert result.exit_code == 1
    assert str(config) in result.stderr and "dark_frac" in result.stderr
    assert not _diag(mnt).exists()


def test_missing_swot_file(mnt: Path, swot_file: Path, run_cli: Callable[..., Result]) -> None:
    swot_file.unlink()
    result = run_cli()
    assert result.exit_code == 1
    assert swot_file.name in result.stderr and "file not found" in result.stderr
    assert not _diag(mnt).exists()


def test_corrupt_swot_file(mnt: Path, swot_file: Path, run_cli: Callable[..., Result]) -> None:
    swot_file.write_bytes(b"not a netcdf file")
    result = run_cli()
    assert result.exit_code == 1
    assert swot_file.name in result.stderr
    assert swot_file.read_bytes() == b"not a netcdf file"
    assert not _diag(mnt).exists()
    assert not list(swot_file.parent.glob(".*.part"))


def test_sword_prior_width(mnt: Path, swot_file: Path, run_cli: Callable[..., Result],
                           write_sword: Callable[..., None]) -> None:
    node_ids = _read(swot_file, "node/node_id")
    widths = np.full(node_ids.size, 200.0)
    widths[:5] = 50.0  # narrower than 70 m
    write_sword(mnt / "input" / "sword" / "na_sword_v16.nc", 40.0, 12000.0, node_ids, widths)
    _ok(run_cli())
    assert (_read(swot_file, "reach/width") == FILL).all()  # reach narrower than 60 m
    node_width = _read(swot_file, "node/width")
    assert (node_width[:5] == FILL).all()
    assert (node_width[5:] != FILL).any()
    assert _read(_diag(mnt), "reach/p_width").all()
    assert not _read(_diag(mnt), "reach/p_length").any()
    assert _read(_diag(mnt), "node/p_width")[:, :5].any()


def test_older_input_with_slope(mnt: Path, swot_file: Path, run_cli: Callable[..., Result]) -> None:
    with netCDF4.Dataset(swot_file, "a") as ds:
        for group in ("reach", "node"):
            ds[group].renameVariable("slope2", "slope")
            ds[group].renameVariable("slope2_u", "slope_u")
        ds["reach/slope"][40] = -2e-3  # a slope far from the slopes of the passes at that stage
    _ok(run_cli())
    with netCDF4.Dataset(_diag(mnt)) as ds:
        assert "skipped" in ds["reach/slope2_outliers"].ncattrs()
        assert "skipped" not in ds["reach/slope_outliers"].ncattrs()
        flagged = np.asarray(ds["reach/slope_outliers"][:], dtype=bool)
        node_flagged = np.asarray(ds["node/slope_outliers"][:], dtype=bool)  # [time, node]
    assert np.flatnonzero(flagged).tolist() == [40]
    assert node_flagged[40].any() and not node_flagged[41].any()
    assert _read(swot_file, "reach/slope")[40] == FILL
    assert (_read(swot_file, "node/slope")[:, 40] == FILL).all()


def test_help() -> None:
    from click.testing import CliRunner
    from confluence_prediagnostics.cli import main

    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and "--config" in result.output


@pytest.mark.parametrize("index", ["1"])
def test_index_out_of_range(mnt: Path, swot_file: Path, index: str) -> None:
    from click.testing import CliRunner
    from confluence_prediagnostics.cli import main

    result = CliRunner().invoke(main, ["--index", index])
    assert result.exit_code == 1 and "reaches.json" in result.stderr


def test_minimal_swot_file(mnt: Path, swot_file: Path, run_cli: Callable[..., Result]) -> None:
    """Only the reach group with width and wse: every other check is skipped, nothing crashes."""
    swot_file.unlink()
    with netCDF4.Dataset(swot_file, "w") as ds:
        ds.createDimension("nt", 7)
        ds.createDimension("nx", 2)
        reach = ds.createGroup("reach")
        reach.createVariable("width", "f8", ("nt",), fill_value=FILL)[:] = [100, 101, 99, 100, 500, FILL, 100]
        reach.createVariable("wse", "f8", ("nt",), fill_value=FILL)[:] = [10, 10.1, 9.9, 10, 10, FILL, 10.05]
    result = run_cli("--verbose")
    _ok(result)
    assert "skipped" in result.stderr
    assert _read(swot_file, "reach/width").tolist() == [100, 101, 99, 100, FILL, FILL, 100]
    with netCDF4.Dataset(_diag(mnt)) as ds:
        assert ds["node/width_outliers"].shape == (7, 2)
        assert ds["reach/width_outliers"][:].tolist() == [0, 0, 0, 0, 1, 0, 0]
