"""The shared library: ids, index resolution, atomic writes, NetCDF helpers."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest
from confluence_core import atomic, ids, index, jsonio, ncio
from confluence_core.errors import ConfluenceError, InputError
from confluence_core.fill import FLOAT_FILL, from_nan, to_nan
from confluence_core.volumes import volume_path


def test_ids():
    assert ids.continent_of(74269800011) == "na"
    assert ids.continent_of("31241100011") == "as"
    assert ids.basin_of(74269800011) == 7426
    assert ids.reach_type(74269800014) == 4
    assert ids.is_river("74269800011") and not ids.is_river("74269800013")
    assert ids.reach_of_node(74269800010011) == "74269800011"
    with pytest.raises(ValueError, match="is not 11 digits"):
        ids.reach_str(7426980001)
    with pytest.raises(ValueError, match="no SWORD continent"):
        ids.continent_of("04269800011")


def test_resolve_index(monkeypatch):
    monkeypatch.delenv(index.ARRAY_INDEX_ENV, raising=False)
    with pytest.raises(ConfluenceError, match="give --index N or set AWS_BATCH_JOB_ARRAY_INDEX"):
        index.resolve_index(None)
    monkeypatch.setenv(index.ARRAY_INDEX_ENV, "7")
    assert index.resolve_index(None) == 7
    monkeypatch.setenv(index.OFFSET_ENV, "10000")
    assert index.resolve_index(None) == 10007
    assert index.resolve_index(3) == 3
    monkeypatch.setenv(index.ARRAY_INDEX_ENV, "x")
    with pytest.raises(ConfluenceError, match="is not an integer"):
        index.resolve_index(None)


def test_chunks():
    assert index.chunks(25_000) == [(0, 10_000), (10_000, 10_000), (20_000, 5_000)]
    assert index.chunks(0) == []


def test_entry_errors(tmp_path):
    path = tmp_path / "reaches.json"
    jsonio.write_json(path, [{"reach_id": 1}])
    assert index.entry(path, 0) == {"reach_id": 1}
    with pytest.raises(ConfluenceError, match="has 1 entries, no index 5"):
        index.entry(path, 5)
    path.write_text("{not json")
    with pytest.raises(InputError, match=r"reaches\.json: not valid JSON"):
        jsonio.read_json(path)


def test_atomic_path_leaves_nothing_on_error(tmp_path):
    dest = tmp_path / "out.txt"
    atomic.write_text(dest, "old")
    with pytest.raises(RuntimeError), atomic.atomic_path(dest) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert dest.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_ncio_roundtrip_fills_and_atomicity(tmp_path):
    path = tmp_path / "x.nc"
    with ncio.create(path, title="t") as ds:
        ds.createDimension("nt", 3)
        ds.createDimension("chartime", ncio.CHARTIME)
        grp = ds.createGroup("reach")
        ncio.write_var(grp, "wse", [1.0, np.nan, 3.0], ("nt",), attrs={"units": "m"})
        ncio.write_var(grp, "flag", [0, 1, 2], ("nt",), dtype="i4")
        ncio.write_strings(grp, "time_str", ["2023-01-01T00:00:00Z", "no_data", ""], ("nt",))
    with ncio.open_dataset(path) as ds:
        grp = ncio.get_group(ds, "reach")
        raw = grp["wse"][:]
        assert raw[1] == FLOAT_FILL
        np.testing.assert_array_equal(ncio.read_float(grp, "wse"), [1.0, np.nan, 3.0])
        assert ncio.read_float(grp, "slope") is None
        assert list(ncio.read_strings(grp, "time_str")) == ["2023-01-01T00:00:00Z", "no_data", ""]
        assert grp["wse"].units == "m" and ds.title == "t"
    with pytest.raises(ValueError), ncio.create(tmp_path / "y.nc") as ds:
        raise ValueError("fail while writing")
    assert not (tmp_path / "y.nc").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.nc"]


def test_open_dataset_errors(tmp_path):
    with pytest.raises(InputError, match=r"missing\.nc: file not found"), ncio.open_dataset(tmp_path / "missing.nc"):
        pass
    bad = tmp_path / "bad.nc"
    bad.write_bytes(b"not netcdf")
    with pytest.raises(InputError, match=r"bad\.nc: not a readable NetCDF file"), ncio.open_dataset(bad):
        pass


def test_fill_conversions():
    np.testing.assert_array_equal(to_nan(np.array([1.0, FLOAT_FILL])), [1.0, np.nan])
    np.testing.assert_array_equal(from_nan(np.array([1.0, np.nan])), [1.0, FLOAT_FILL])


def test_volume_path(monkeypatch, tmp_path):
    monkeypatch.setenv("CONFLUENCE_MNT", str(tmp_path))
    assert volume_path("flpe", "momma") == tmp_path / "flpe" / "momma"
    monkeypatch.delenv("CONFLUENCE_MNT")
    assert str(volume_path("input", "reaches.json")) == "/mnt/data/input/reaches.json"
    with pytest.raises(KeyError, match="unknown volume"):
        volume_path("attic")


def test_flpe_outputs_read_the_reference_files(shared_data):
    from confluence_core import flpe

    root = shared_data / "reference_outputs" / "flpe"
    momma = flpe.read_result(flpe.algorithms()["momma"], root, 77449100071)
    assert momma is not None and momma.q.shape == (25,) and momma.valid
    assert np.isnan(momma.q[1]) and momma.q[0] > 0
    bam = flpe.read_result(flpe.algorithms()["neobam"], root, 74269800011)
    assert bam is not None and bam.q.shape == (154,) and set(bam.params) == {"n", "Wb", "Db", "r"}
    with netCDF4.Dataset(root / "geobam" / "74269800011_geobam.nc") as ds:  # "exp:" paths, chains averaged
        n_chains = np.mean([np.exp(float(ds[f"logn/mean{c}"][...])) for c in (1, 2, 3)])
    assert bam.params["n"] == pytest.approx(n_chains)
    metro = flpe.read_result(flpe.algorithms()["metroman"], root, 77449100071)  # from the set file, its row
    assert metro is not None and metro.q.shape == (25,) and metro.q[0] == pytest.approx(102.185283, rel=1e-6)
    assert np.isnan(metro.q[1]) and set(metro.params) == {"Abar", "na", "x1"}
    # MetroMan's q_u is relative (q_u_relative in its row): readers get m3/s
    assert flpe.algorithms()["metroman"].q_u_relative and metro.q_u is not None
    ok = np.isfinite(metro.q_u)
    assert ok.any() and np.all(metro.q_u[ok] > 1.0)  # m3/s on a ~100 m3/s river, not a ratio
    cons = flpe.read_result(flpe.consensus(), root, 74223700011)
    assert cons is not None and cons.q.shape == (55,)
    assert {s.offline for s in flpe.algorithms().values()} >= {"metro", "bam", "hivdi", "momma", "sads"}


def test_flpe_summary_counts_valid_flagged_and_missing_reaches(shared_data, tmp_path):
    """What run.json records per FLPE step: a reference file (valid), a flagged copy, a missing reach."""
    import shutil

    from confluence_core import flpe

    spec = flpe.algorithms()["momma"]
    root = tmp_path / "flpe"
    (root / "momma").mkdir(parents=True)
    shutil.copy(shared_data / "reference_outputs" / "flpe" / "momma" / "77449100071_momma.nc", root / "momma")
    for rid in (77449100081, 77449100091):
        flagged = root / "momma" / f"{rid}_momma.nc"
        shutil.copy(root / "momma" / "77449100071_momma.nc", flagged)
        with netCDF4.Dataset(flagged, "a") as ds:
            ds.valid = np.int32(0)
            ds.reason = f"reach {rid}: 2 valid observations, momma needs 3"
    got = flpe.summarise(spec, root, [77449100071, 77449100081, 77449100091, 77449100101])
    assert got == {"reaches": 4, "valid": 1, "flagged": 2, "missing": 1, "unreadable": 0,
                   "reasons": {"reach {reach}: 2 valid observations, momma needs 3": 2}}
    assert flpe.read_result(spec, root, 77449100081).reason.endswith("momma needs 3")


def test_sum_counts_adds_numbers_and_skips_ids_and_text():
    from confluence_core.jsonio import sum_counts

    a = {"reach_id": 11, "reach": {"removed_by": {"ice": 3, "dark": 1}, "kept": 10}, "updated": True, "note": "x"}
    b = {"reach_id": 21, "reach": {"removed_by": {"ice": 2, "slope": 4}, "kept": 5.5}, "updated": False}
    assert sum_counts([a, b]) == {"reach": {"removed_by": {"ice": 5, "dark": 1, "slope": 4}, "kept": 15.5}}
    assert sum_counts([]) == {}


def test_a_row_summary_must_be_a_json_pattern_in_a_volume(tmp_path):
    from confluence_core import workflow

    table = workflow.packaged_text().replace(
        'summary = "diagnostics:prediagnostics/{reach_id}_prediagnostics.json"',
        'summary = "attic:prediagnostics/{reach_id}.txt"')
    path = tmp_path / "workflow.toml"
    path.write_text(table)
    with pytest.raises(ConfluenceError, match="summary 'attic:prediagnostics/"):
        workflow.load(path)
    step = workflow.packaged().step("prediagnostics")
    assert step.summary is not None and step.summary.volume == "diagnostics"
