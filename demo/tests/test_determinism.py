"""Same seed, same world; other seed, other world; generation time; CLI; bench kind."""

from __future__ import annotations

import hashlib

import netCDF4
import numpy as np
import pytest
from click.testing import CliRunner
from confluence_core.errors import ConfluenceError
from confluence_demo import generate
from confluence_demo.cli import demo
from confluence_demo.shapefile import format_numbers


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
    print(f"\ndemo world generated in {again.seconds:.2f} s")
    assert again.seconds < 60
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


@pytest.mark.slow
def test_bench_world_is_fast(tmp_path) -> None:
    info = generate(tmp_path / "bench", kind="bench")
    print(f"\nbench world (1000 reaches, 50 passes) generated in {info.seconds:.1f} s")
    assert info.n_reaches == 1000 and info.n_passes == 50
    assert info.seconds < 60


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


def test_format_numbers() -> None:
    text = format_numbers(np.array([0.5, -0.0004, -999999999999.0, 12.9999999, -3.0]), 20, 6)
    got = [t.decode().strip() for t in text.view("S20").ravel()]
    assert got == ["0.500000", "-0.000400", "-999999999999.000000", "13.000000", "-3.000000"]
    with pytest.raises(ValueError):
        format_numbers(np.array([123456.0]), 5, 0)
