"""datagen -> combine_data -> input on the simulated granules; values, structure, bad input."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import netCDF4
import numpy as np
import pytest
from click.testing import CliRunner
from confluence_combine_data.cli import main as combine_main
from confluence_core import riversp, skips
from confluence_datagen.cli import main as datagen_main
from confluence_input.cli import main as input_main

pyogrio = pytest.importorskip("pyogrio")

FLOAT_FILL = -999999999999.0
R = 74269800011  # the reference file's reach


def invoke(cmd: click.Command, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cmd, list(args))
    return result.exit_code, result.output


def prepare(mnt: Path) -> None:
    """datagen (na) and combine_data, as the workflow runs them before input."""
    code, out = invoke(datagen_main, "--index", "3")
    assert code == 0, out
    code, out = invoke(combine_main)
    assert code == 0, out


def raw(path: Path) -> dict[str, np.ndarray]:
    shp = path.name.replace(".zip", ".shp")
    meta, *_, arrays = pyogrio.raw.read(f"/vsizip/{path}/{shp}", read_geometry=False)
    return dict(zip(meta["fields"], arrays, strict=True))


def read_nc(path: Path) -> netCDF4.Dataset:
    ds = netCDF4.Dataset(path)
    ds.set_auto_mask(False)
    return ds


@pytest.fixture()
def run_all(mnt: Path, source: Path) -> Path:
    prepare(mnt)
    code, out = invoke(input_main, "--index", "0")
    assert code == 0, out
    return mnt / "input" / "swot"


def test_values_equal_the_shapefile_records(run_all: Path, source: Path) -> None:
    files = sorted(run_all.glob("*_SWOT.nc"))
    assert len(files) == 11
    cps = json.loads((run_all.parent / "cycle_passes.json").read_text())
    checked = 0
    for zpath in sorted(source.glob("*.zip")):
        name = riversp.parse_granule_name(zpath.name)
        rec = raw(zpath)
        obs = cps[name.cycle_pass]
        rids = rec["reach_id"].astype(np.int64)
        for i in np.linspace(0, rids.size - 1, 7).astype(int):  # several records per granule
            with read_nc(run_all / f"{rids[i]}_SWOT.nc") as ds:
                t = int(np.flatnonzero(ds["observations"][:] == obs)[0])
                if name.feature == "Reach":
                    g = ds["reach"]
                    for f in ("wse", "wse_u", "width", "slope", "slope2", "slope2_u", "d_x_area_u", "dark_frac",
                              "obs_frac_n", "p_width", "p_length", "p_lat", "p_lon", "time"):
                        assert g[f][t] == pytest.approx(float(rec[f][i]), abs=0, rel=1e-12), (zpath.name, f)
                    for f in ("reach_q", "n_good_nod", "xovr_cal_q", "ice_clim_f", "partial_f"):
                        assert g[f][t] == rec[f][i], (zpath.name, f)
                    assert g["xtrk_dist"][t] == FLOAT_FILL  # -9999 int fill in PGA2
                    nodes = ds["node"]
                    assert (nodes["slope2"][:, t] == g["slope2"][t]).all()  # tiled
                else:
                    g = ds["node"]
                    x = int(np.flatnonzero(g["node_id"][:] == int(rec["node_id"][i]))[0])
                    for f in ("wse", "wse_u", "width", "width_u", "dark_frac", "p_width", "time"):
                        assert g[f][x, t] == pytest.approx(float(rec[f][i]), abs=0, rel=1e-12), (zpath.name, f)
                    for f in ("node_q", "n_good_pix", "xovr_cal_q", "ice_dyn_f", "partial_f"):
                        assert g[f][x, t] == rec[f][i], (zpath.name, f)
                    assert g["node_q_b"][x, t] == -999  # a version D field
                checked += 1
    assert checked == 70


def test_layout_of_one_file(run_all: Path) -> None:
    with read_nc(run_all / f"{R}_SWOT.nc") as ds:
        assert ds.getncattr("title") == f"SWOT Data for {R}" and ds.getncattr("continent") == "NA"
        assert ds.getncattr("reach_id") == R
        obs = ds["observations"][:]
        assert obs.tolist() == [1051, 1372, 2051, 2372, 3051]
        time = ds["reach"]["time"][:]
        assert (np.diff(time) > 0).all()  # ascending
        assert ds["nt"][:].tolist() == list(range(5)) and ds["nx"][:].tolist() == list(range(1, 43))
        node_id = ds["node"]["node_id"][:]
        assert (np.diff(node_id) > 0).all() and node_id[0] == 74269800010011
        ts = netCDF4.chartostring(ds["reach"]["time_str"][:])
        assert ts[0] == "2010-08-16T18:40:30Z"  # derived from time: the PGA2 time_str is all fill


def test_structure_matches_reference(run_all: Path, shared_data: Path) -> None:
    """Same groups, variables, dimensions, dtypes, fill values and attribute names as the public file."""
    from confluence_input import schema

    ours_extra = {"reach": {n for n, _, _ in schema.EXTRA_REACH}, "node": {n for n, _, _ in schema.EXTRA_NODE},
                  "/": set()}
    with read_nc(shared_data / "reference_outputs" / "swot" / f"{R}_SWOT.nc") as ref, \
            read_nc(run_all / f"{R}_SWOT.nc") as ours:
        assert set(ref.ncattrs()) == set(ours.ncattrs())
        assert set(ref.groups) == set(ours.groups)
        for gname in ("/", "reach", "node"):
            a = ref if gname == "/" else ref[gname]
            b = ours if gname == "/" else ours[gname]
            assert {d: len(v) for d, v in a.dimensions.items() if d == "chartime"} == \
                   {d: len(v) for d, v in b.dimensions.items() if d == "chartime"}
            assert set(a.dimensions) == set(b.dimensions)
            assert set(b.variables) - set(a.variables) == ours_extra[gname]
            assert list(a.variables) == [v for v in b.variables if v not in ours_extra[gname]]
            for name, va in a.variables.items():
                vb = b[name]
                assert (va.dtype, va.dimensions) == (vb.dtype, vb.dimensions), (gname, name)
                assert set(va.ncattrs()) == set(vb.ncattrs()), (gname, name)
                for attr in va.ncattrs():
                    x, y = va.getncattr(attr), vb.getncattr(attr)
                    assert type(x) is type(y) and np.all(x == y), (gname, name, attr)


def test_each_granule_read_once(mnt: Path, source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prepare(mnt)
    calls: list[str] = []
    real = riversp.read_granule

    def counting(path: str | os.PathLike[str], *args: Any, **kwargs: Any) -> Any:
        calls.append(str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(riversp, "read_granule", counting)
    code, out = invoke(input_main, "--index", "0")
    assert code == 0, out
    assert len(calls) == len(set(calls)) == 10  # 11 reaches, 10 granules, each opened once


# ----------------------------------------------------------------------------- bad input


def test_corrupt_granule_other_reaches_written(mnt: Path, source: Path) -> None:
    prepare(mnt)
    bad = next(source.glob("SWOT_L2_HR_RiverSP_Node_2_51_*.zip"))
    bad.write_bytes(b"PK\x03\x04 truncated")
    code, out = invoke(input_main, "--index", "0")
    assert code == 0, out
    assert skips.parse(out.splitlines()) == [skips.Skip("granule", bad.name, "corrupt zip (File is not a zip file)")]
    assert len(list((mnt / "input" / "swot").glob("*.nc"))) == 11
    with read_nc(mnt / "input" / "swot" / f"{R}_SWOT.nc") as ds:
        t = int(np.flatnonzero(ds["observations"][:] == 2051)[0])
        assert (ds["node"]["wse"][:, t] == FLOAT_FILL).all()  # that pass's nodes are fill
        assert ds["reach"]["wse"][t] != FLOAT_FILL


def test_missing_required_field(mnt: Path, source: Path, drop_field: Callable[[Path, str], None]) -> None:
    prepare(mnt)
    bad = next(source.glob("SWOT_L2_HR_RiverSP_Reach_1_372_*.zip"))
    drop_field(bad, "wse")
    code, out = invoke(input_main, "--index", "0")
    assert code == 0, out
    reason = "Reach granule lacks required field(s) wse"
    assert skips.parse(out.splitlines()) == [skips.Skip("granule", bad.name, reason)]
    with read_nc(mnt / "input" / "swot" / f"{R}_SWOT.nc") as ds:
        assert ds.dimensions["nt"].size == 5  # the pass stays: its nodes were observed
        t = int(np.flatnonzero(ds["observations"][:] == 1372)[0])
        assert ds["reach"]["wse"][t] == FLOAT_FILL and (ds["node"]["wse"][:, t] != FLOAT_FILL).any()


def test_other_sword_version(mnt: Path, source: Path, add_xml: Callable[[Path, str], None]) -> None:
    prepare(mnt)
    bad = next(source.glob("SWOT_L2_HR_RiverSP_Reach_3_51_*.zip"))
    add_xml(bad, "/sword/na_sword_v15.nc")
    code, out = invoke(input_main, "--index", "0")
    assert code == 0, out
    [found] = skips.parse(out.splitlines())
    assert (found.kind, found.item) == ("granule", bad.name) and found.reason.startswith("built on SWORD v15")


def test_reach_with_no_observations(mnt: Path, source: Path) -> None:
    prepare(mnt)
    basin = json.loads((mnt / "input" / "basin.json").read_text())
    basin[0]["reach_id"].append("74269999991")  # in no granule
    (mnt / "input" / "basin.json").write_text(json.dumps(basin))
    s3_reach = json.loads((mnt / "input" / "s3_reach.json").read_text())
    s3_reach["74269999991"] = s3_reach[str(R)]
    (mnt / "input" / "s3_reach.json").write_text(json.dumps(s3_reach))
    code, out = invoke(input_main, "--index", "0")
    assert code == 0, out
    assert skips.parse(out.splitlines()) == [skips.Skip(
        "reach", "74269999991", "no observation in its 10 granules: 74269999991_SWOT.nc not written")]
    assert len(list((mnt / "input" / "swot").glob("*.nc"))) == 11


def test_every_granule_failed(mnt: Path, source: Path) -> None:
    prepare(mnt)
    for f in source.glob("*.zip"):
        f.write_bytes(b"junk")
    code, out = invoke(input_main, "--index", "0")
    assert code == 1
    last = out.strip().splitlines()[-1]
    assert last.startswith("error: confluence-input: ") and "all 10 granules failed" in last
    assert not list((mnt / "input" / "swot").glob("*"))  # nothing half-written


def test_bad_index(mnt: Path, source: Path) -> None:
    prepare(mnt)
    code, out = invoke(input_main, "--index", "5")
    assert code == 1 and "basin.json: has 1 entries, no index 5" in out


# ----------------------------------------------------------------------------- rows of the job only


def nc_content(path: Path) -> dict[str, Any]:
    """Every group's attributes, dimensions and variables (dtype, dims, attributes, values) but ``history``."""
    out: dict[str, Any] = {}
    with read_nc(path) as ds:
        for gname, g in (("/", ds), ("reach", ds["reach"]), ("node", ds["node"])):
            out[gname] = {a: np.asarray(g.getncattr(a)).tolist() for a in g.ncattrs() if a != "history"}
            out[gname + ":dims"] = {d: len(v) for d, v in g.dimensions.items()}
            for name, v in g.variables.items():
                out[f"{gname}/{name}"] = (str(v.dtype), v.dimensions,
                                          {a: np.asarray(v.getncattr(a)).tolist() for a in v.ncattrs()},
                                          np.asarray(v[:]).tobytes())
    return out


def test_rows_of_the_job_give_the_files_of_whole_granules(mnt: Path, source: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading only the job's rows writes the same files as reading every row and keeping the job's."""
    from confluence_input.cli import run_basin

    prepare(mnt)
    reaches = [int(r) for r in json.loads((mnt / "input" / "basin.json").read_text())[0]["reach_id"]]
    job = reaches[::3]  # the granules also hold the other reaches
    real = riversp.read_granule
    rows: list[tuple[int, int]] = []

    def selected(path: str, *args: Any, **kwargs: Any) -> Any:
        data, meta = real(path, *args, **kwargs)
        rows.append((len(data["reach_id"]), meta.n_records))
        return data, meta

    monkeypatch.setattr(riversp, "read_granule", selected)
    assert run_basin(job, 16) == (len(job), 0)
    assert 0 < sum(r for r, _ in rows) < sum(n for _, n in rows) / 2  # only the job's rows were converted
    swot = mnt / "input" / "swot"
    ours = {p.name: nc_content(p) for p in sorted(swot.glob("*.nc"))}
    for p in swot.glob("*.nc"):
        p.unlink()

    def whole(path: str, columns: Any = None, s3: Any = None, reach_ids: Any = None) -> Any:
        data, meta = real(path, columns, s3=s3)  # every row, as before issue 18
        keep = np.isin(data["reach_id"], reach_ids)
        return {k: v[keep] for k, v in data.items()}, meta

    monkeypatch.setattr(riversp, "read_granule", whole)
    assert run_basin(job, 16) == (len(job), 0)
    before = {p.name: nc_content(p) for p in sorted(swot.glob("*.nc"))}
    assert sorted(ours) == sorted(before) == sorted(f"{r}_SWOT.nc" for r in job)
    for name in ours:
        assert ours[name].keys() == before[name].keys()
        for key in ours[name]:
            assert ours[name][key] == before[name][key], (name, key)
