"""Same seed, same world; other seed, other world; generation time; CLI; bench kind."""

from __future__ import annotations

import datetime as dt
import hashlib

import netCDF4
import numpy as np
import pytest
from click.testing import CliRunner
from confluence_core.errors import ConfluenceError
from confluence_demo import generate
from confluence_demo.cli import demo
from confluence_demo.schema import Field
from confluence_demo.shapefile import columns, point_wkb, write_shapefile


def _nc_vars(path) -> dict[str, bytes]:
    out = {}
    with netCDF4.Dataset(path) as ds:
        ds.set_auto_mask(False)

        def walk(g, prefix=""):
            for name, var in g.variables.items():
                data = np.asarray(var[...])
                out[prefix + name] = data.tobytes() if data.dtype != object else repr(data.tolist()).encode()
            for name, sub in g.groups.items():
                walk(sub, f"{prefix}{name}/")

        walk(ds)
    return out


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_world(world, tmp_path) -> None:
    again = generate(tmp_path / "again")
    for a, b in [(world.truth, again.truth), *zip(world.sword.values(), again.sword.values(), strict=True),
                 *zip(world.sos.values(), again.sos.values(), strict=True)]:
        assert _nc_vars(a) == _nc_vars(b)
    assert [p.name for pair in world.granules for p in pair] == [p.name for pair in again.granules for p in pair]
    for (ra, na), (rb, nb) in zip(world.granules, again.granules, strict=True):
        assert _digest(ra) == _digest(rb) and _digest(na) == _digest(nb)
    assert world.gauges.read_bytes() == again.gauges.read_bytes()
    assert world.manifest.read_bytes() == again.manifest.read_bytes()


def test_other_seed_other_world(world, tmp_path) -> None:
    other = generate(tmp_path / "other", seed=7, n_passes=12)
    assert _nc_vars(world.truth)["reaches/q"] != _nc_vars(other.truth)["reaches/q"]
    assert other.n_reaches == world.n_reaches


def test_small_bench_world(tmp_path) -> None:
    info = generate(tmp_path / "bench", kind="bench", n_reaches=45, n_passes=12)
    assert info.n_reaches == 45 and info.n_type1 == 45 and info.n_basins == 3
    assert info.planted_bad_fraction < 0.03


def test_bench_kind_world_has_its_size(tmp_path) -> None:
    """A bench-kind world of the asked size (its time for 1,000 reaches is measured by `make bench`)."""
    info = generate(tmp_path / "bench", kind="bench", n_reaches=60, n_passes=8)
    assert info.n_reaches == 60 and info.n_passes == 8


def test_bad_arguments(tmp_path) -> None:
    with pytest.raises(ConfluenceError):
        generate(tmp_path, kind="huge")
    with pytest.raises(ConfluenceError):
        generate(tmp_path, n_reaches=5)


def test_cli(tmp_path) -> None:
    res = CliRunner().invoke(demo, [str(tmp_path / "w"), "--kind", "bench", "--reaches", "20", "--passes", "6"])
    assert res.exit_code == 0, res.output
    assert "20 reaches" in res.output and (tmp_path / "w" / "manifest.json").exists()
    res = CliRunner().invoke(demo, [str(tmp_path / "w"), "--reaches", "3"])
    assert res.exit_code != 0 and "at least" in res.output


def test_dbf_fields_and_number_text() -> None:
    """GDAL writes each value with the declared width and decimals; misfits raise, never truncate."""
    fields = [Field("q", "F", 20, 6), Field("n", "I", 5, small=True), Field("id", "C", 11)]
    values = [0.5, -0.0004, -999999999999.0, 12.9999999, -3.0, -0.0000001, np.nan]
    n = len(values)
    data = {"q": np.array(values), "n": np.arange(n) - 3.4, "id": np.array(["Rhône"] + [f"r{i}" for i in range(1, n)])}
    files = write_shapefile(fields, columns(fields, data, n), point_wkb(np.arange(n), np.zeros(n)), "Point",
                            dt.date(2023, 7, 21))
    dbf = files["dbf"]
    assert dbf[1:4] == bytes([123, 7, 21]) and int.from_bytes(dbf[4:8], "little") == n
    descriptors = [dbf[32 + 32 * i: 64 + 32 * i] for i in range(3)]
    assert [(d[:11].rstrip(b"\0"), d[11:12], d[16], d[17]) for d in descriptors] == [
        (b"q", b"N", 20, 6), (b"n", b"N", 5, 0), (b"id", b"C", 11, 0)]
    records = np.frombuffer(dbf[32 * 4 + 1: -1], dtype="S37")
    got = [r[1:21].decode().strip() for r in records]
    assert got == ["0.500000", "-0.000400", "-999999999999.000000", "13.000000", "-3.000000", "0.000000",
                   "-999999999999.000000"]
    assert [r[21:26].decode().strip() for r in records] == ["-3", "-2", "-1", "0", "1", "2", "3"]
    assert records[0][26:] == "Rhône".encode("latin-1").ljust(11)  # ISO-8859-1, as readers assume
    with pytest.raises(ValueError, match="does not fit"):
        columns([Field("n", "I", 5)], {"n": np.array([123456.0])}, 1)
    with pytest.raises(ValueError, match="longer than"):
        columns([Field("id", "C", 3)], {"id": np.array(["abcd"])}, 1)
