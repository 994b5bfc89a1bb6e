"""ncio.copy_group / copy_variable: the one NetCDF group copy of priors, output and prediagnostics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
from confluence_core import ncio
from confluence_core.fill import FLOAT_FILL


def _source(path: Path) -> Path:
    with ncio.create(path, title="src", product_version="0001") as ds:
        ds.createDimension("nt", 4)
        ds.createDimension("rec", None)
        ds.createDimension("nchar", 3)
        ncio.write_var(ds, "nt", np.arange(4), ("nt",), "i4", fill=None, attrs={"units": "steps"})
        reach = ds.createGroup("reach")
        reach.setncatts({"b": 2, "a": "first set second"})
        ncio.write_var(reach, "wse", [1.0, np.nan, 3.0, 4.0], ("nt",), attrs={"units": "m", "long_name": "wse"},
                       zlib=True, complevel=6, shuffle=False, chunksizes=[2])
        ncio.write_var(reach, "flag", [0, 1, -999, 2], ("nt",), "i4")
        ncio.write_var(reach, "scalar", 7.5, ())
        ncio.write_strings(reach, "code", ["ab", "c", "", "xyz"], ("nt",), char_dim="nchar")
        names = reach.createVariable("name", str, ("nt",))
        names[:] = np.array(["one", "two", "", "four"], dtype=object)
        packed = reach.createVariable("packed", "i2", ("nt",), fill_value=-1)
        packed.setncatts({"scale_factor": 0.5, "add_offset": 1.0})
        packed.set_auto_maskandscale(False)
        packed[:] = np.array([2, 4, -1, 8], dtype=np.int16)
        ncio.write_var(ds, "rec_values", [5.0, 6.0], ("rec",))
        sub = reach.createGroup("deeper")
        ncio.write_var(sub, "x", [1, 2, 3, 4], ("nt",), "i8", fill=None)
        ds.createGroup("gone").setncattr("note", "skipped")
    return path


def _tree(path: Path) -> dict[str, Any]:
    """Everything a reader sees: attributes in order, dims, variable types, dims, fills and raw values."""
    out: dict[str, Any] = {}
    with netCDF4.Dataset(path) as ds:
        def walk(g: Any, p: str) -> None:
            out[p + "@"] = [(k, np.asarray(g.getncattr(k)).tolist()) for k in g.ncattrs()]
            out[p + "#"] = [(n, len(d), d.isunlimited()) for n, d in g.dimensions.items()]
            for n, v in g.variables.items():
                v.set_auto_maskandscale(False)
                v.set_auto_chartostring(False)
                out[p + n] = (str(v.dtype), v.dimensions, [(k, np.asarray(v.getncattr(k)).tolist())
                                                           for k in v.ncattrs()], np.asarray(v[...]).tolist())
            for n, s in g.groups.items():
                walk(s, f"{p}{n}/")
        walk(ds, "/")
    return out


def test_copy_group_is_a_faithful_copy(tmp_path: Path) -> None:
    src = _source(tmp_path / "src.nc")
    with ncio.open_dataset(src) as s, ncio.create(tmp_path / "dst.nc") as d:
        ncio.copy_group(s, d)
        assert s["reach"]["wse"].scale and s["reach"]["code"].chartostring  # the reader's settings are kept
    assert _tree(tmp_path / "dst.nc") == _tree(src)
    with netCDF4.Dataset(tmp_path / "dst.nc") as ds:
        wse = ds["reach"]["wse"]
        assert wse.filters()["zlib"] and wse.filters()["complevel"] == 6 and not wse.filters()["shuffle"]
        assert wse.chunking() == [2]
        assert ds.dimensions["rec"].isunlimited()


def test_skip_replace_and_root_attributes(tmp_path: Path) -> None:
    src = _source(tmp_path / "src.nc")
    new_wse = np.array([FLOAT_FILL, 2.0, FLOAT_FILL, 4.0])
    with ncio.open_dataset(src) as s, ncio.create(tmp_path / "dst.nc", title="mine") as d:
        d.createDimension("rec", 9)  # the caller defines this one itself
        ncio.copy_group(s, d, attrs=False, skip={"gone", "rec_values", "reach/flag", "reach/deeper"},
                        skip_dims={"rec"},
                        replace={"reach/wse": new_wse})
    got, want = _tree(tmp_path / "dst.nc"), _tree(src)
    assert got["/@"] == [("title", "mine")]
    assert ("rec", 9, False) in got["/#"]
    assert "/gone/@" not in got and "/rec_values" not in got and "/reach/flag" not in got
    assert "/reach/deeper/@" not in got
    assert got["/reach/wse"][3] == new_wse.tolist() and got["/reach/wse"][:3] == want["/reach/wse"][:3]
    assert got["/reach/code"] == want["/reach/code"] and got["/reach/@"] == want["/reach/@"]


def test_group_into_another_file_with_compression_and_default_attributes(tmp_path: Path) -> None:
    src = _source(tmp_path / "src.nc")
    with ncio.open_dataset(src) as s, ncio.create(tmp_path / "dst.nc") as d:
        ncio.copy_group(s["reach"], d.createGroup("copied"), compress=True,
                        default_attrs=lambda var: {"long_name": f"{var.name} copied", "units": "1"})
    got, want = _tree(tmp_path / "dst.nc"), _tree(src)
    assert ("nt", 4, False) in got["/#"]  # the dimension the variables need, made at the root
    assert got["/copied/wse"] == want["/reach/wse"]  # its own long_name and units are kept
    _, _, attrs, values = got["/copied/flag"]
    assert attrs[-2:] == [("long_name", "flag copied"), ("units", "1")] and values == want["/reach/flag"][3]
    with netCDF4.Dataset(tmp_path / "dst.nc") as ds:
        flag, scalar = ds["copied"]["flag"], ds["copied"]["scalar"]
        assert flag.filters()["zlib"] and flag.filters()["complevel"] == 4 and flag.filters()["shuffle"]
        assert not scalar.filters()["zlib"] and not ds["copied"]["name"].filters()["zlib"]


def test_copy_variable_with_new_values(tmp_path: Path) -> None:
    src = _source(tmp_path / "src.nc")
    with ncio.open_dataset(src) as s, ncio.create(tmp_path / "dst.nc") as d:
        ncio.copy_group(s, d, skip={"reach"})
        ncio.copy_variable(s["reach"]["packed"], d.createGroup("kept"), np.array([1, 2, 3, 4], dtype=np.int16),
                           compress=True)
    with netCDF4.Dataset(tmp_path / "dst.nc") as ds:
        var = ds["kept"]["packed"]
        var.set_auto_maskandscale(False)
        assert var[:].tolist() == [1, 2, 3, 4] and var.scale_factor == 0.5 and var._FillValue == -1

