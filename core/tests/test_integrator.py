"""The one reader of MOI's ``{reach_id}_integrator.nc`` (postdiagnostics, offline, validation)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from confluence_core import ncio
from confluence_core.errors import InputError
from confluence_core.integrator import MEAN_FLOWS, read_integrator


def test_reference_file(shared_data: Path) -> None:
    groups = read_integrator(shared_data / "reference_outputs" / "moi" / "77449100071_integrator.nc")
    assert groups is not None
    assert list(groups) == ["geobam", "hivdi", "metroman", "momma", "sad", "sic4dvar"]
    geobam = groups["geobam"]
    assert geobam.q.shape == (25,) and np.isnan(geobam.q[1]) and geobam.q[0] == pytest.approx(192.88313623)
    assert set(geobam.params) == {"a0", "n", "qbar_reachScale", "qbar_basinScale"}
    assert geobam.params["qbar_basinScale"] == pytest.approx(5435.2047287015175)
    assert geobam.flow_law == {"a0": geobam.params["a0"], "n": 0.001}
    assert set(groups["metroman"].flow_law) == {"Abar", "na", "x1"}
    assert np.isnan(groups["sic4dvar"].params["a0"])  # fill -> NaN
    assert geobam.attrs == {} and geobam.valid  # the public file has no group attributes


def test_generic_groups_attributes_and_absent_file(tmp_path: Path) -> None:
    path = tmp_path / "1_integrator.nc"
    with ncio.create(path, reach_id=np.int64(1)) as ds:
        ds.createDimension("nt", 3)
        ncio.write_var(ds, "nt", [1, 2, 3], ("nt",), "i4", fill=None)
        grp = ds.createGroup("newalgo")
        grp.setncatts({"valid": np.int32(0), "status": "no result in the basin"})
        ncio.write_var(grp, "q", [np.nan, 2.0, 3.0], ("nt",))
        ncio.write_var(grp, "brand_new_parameter", 0.25, ())
        ncio.write_var(grp, "iterations", 12, (), "i4")
        for name in MEAN_FLOWS:
            ncio.write_var(grp, name, np.nan, ())
        ds.createGroup("notes").setncattr("comment", "no q: not an algorithm")
    groups = read_integrator(path)
    assert groups is not None and list(groups) == ["newalgo"]
    g = groups["newalgo"]
    assert g.flow_law == {"brand_new_parameter": 0.25, "iterations": 12.0}
    assert set(g.params) == {"brand_new_parameter", "iterations", *MEAN_FLOWS}
    assert g.attrs["status"] == "no result in the basin" and not g.valid
    assert read_integrator(tmp_path / "2_integrator.nc") is None


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "3_integrator.nc"
    path.write_bytes(b"not netcdf")
    with pytest.raises(InputError, match=f"{path}: not a readable NetCDF file"):
        read_integrator(path)
