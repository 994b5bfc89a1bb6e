"""Reading SWOT files and SoS priors by the contract (sections 6 and 8)."""

from __future__ import annotations

import shutil
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from confluence_core.errors import InputError
from confluence_flpe.interface import ReachObs
from confluence_flpe.io import add_sword, clear_caches, read_priors, read_swot

from .conftest import REACH, write_sos

SWOT = Path("reference_outputs") / "swot" / f"{REACH}_SWOT.nc"


def test_reference_swot_file(shared_data: Path) -> None:
    obs = read_swot(shared_data / SWOT)
    assert obs.reach_id == REACH
    assert obs.nt == 154 and obs.node_width.shape == (42, 154) and obs.node_id.shape == (42,)
    with netCDF4.Dataset(shared_data / SWOT) as ds:
        slope2 = ds["reach"]["slope2"][:].filled(np.nan)
    np.testing.assert_array_equal(obs.slope, slope2)  # no `slope` in the file: slope2
    assert not obs.dA_from_obs and np.isfinite(obs.d_x_area).all()
    assert obs.time_str[0].startswith("20") or obs.time_str[0] == "no_data"
    assert obs.n_valid > 100


def test_d_x_area_computed_when_absent(shared_data: Path, tmp_path: Path) -> None:
    path = tmp_path / SWOT.name
    shutil.copy(shared_data / SWOT, path)
    with netCDF4.Dataset(path, "a") as ds:
        ds["reach"].renameVariable("d_x_area", "unused")
        ds["node"].renameVariable("d_x_area", "unused")
    obs = read_swot(path)
    assert obs.dA_from_obs
    ok = obs.valid
    assert np.isfinite(obs.d_x_area[ok]).all()
    assert abs(np.median(obs.d_x_area[ok])) < 1.0  # relative to the median stage
    assert obs.node_d_x_area.shape == (42, 154)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_swot(tmp_path / "nope_SWOT.nc")
    bad = tmp_path / "bad_SWOT.nc"
    with netCDF4.Dataset(bad, "w") as ds:
        ds.createGroup("reach")
    with pytest.raises(InputError, match="no reach/width"):
        read_swot(bad)


def test_priors(tmp_path: Path) -> None:
    nodes = [74269800010011, 74269800010021, 74269800020011]
    write_sos(tmp_path / "sos.nc", [REACH, 74269800021], nodes, mean_q=123.0)
    pri = read_priors(tmp_path / "sos.nc", REACH, node_ids=np.array([74269800010021, 74269800010011, 1]))
    assert pri.mean_q == 123.0 and pri.max_q == 615.0 and np.isnan(pri.two_year_return_q)
    assert pri.monthly_q.shape == (12,) and pri.flow_duration_q.shape == (20,)
    assert pri.gb["logA0_hat"] == 5.5
    np.testing.assert_array_equal(pri.gb_node["logWb_hat"], [1.0, 0.0, np.nan])


def test_priors_tolerate_absent_parts(tmp_path: Path) -> None:
    write_sos(tmp_path / "sos.nc", [REACH], [74269800010011], with_gb=False)
    pri = read_priors(tmp_path / "sos.nc", REACH)
    assert pri.gb == {} and pri.gb_node == {}
    assert np.isnan(read_priors(tmp_path / "sos.nc", 74269800099).mean_q)  # reach not in the SoS
    assert np.isnan(read_priors(tmp_path / "missing.nc", REACH).mean_q)  # no SoS file


def test_prior_sd_read_when_the_sos_has_it(tmp_path: Path) -> None:
    write_sos(tmp_path / "sos.nc", [REACH, 74269800021], [74269800010011], mean_q=123.0)
    assert np.isnan(read_priors(tmp_path / "sos.nc", REACH).mean_q_sd_ln)  # a real SoS: none, NaN
    with netCDF4.Dataset(tmp_path / "sos.nc", "a") as ds:
        var = ds["model"].createVariable("mean_q_sd_ln", "f8", ("num_reaches",))
        var[:] = [0.9, 1.4]
    assert read_priors(tmp_path / "sos.nc", 74269800021).mean_q_sd_ln == 1.4


def _sword(path: Path, reach_ids: list[int], width: float) -> Path:
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("num_reaches", len(reach_ids))
        g = ds.createGroup("reaches")
        g.createVariable("reach_id", "i8", ("num_reaches",))[:] = reach_ids
        for name, value in (("reach_length", 1000.0), ("width", width), ("facc", 5e3)):
            g.createVariable(name, "f8", ("num_reaches",))[:] = np.full(len(reach_ids), value)
    return path


def test_a_grouped_job_reads_sos_and_sword_once_per_file_version(tmp_path: Path, opened_files: list[Path]) -> None:
    reaches = [REACH, 74269800021, 74269800031]
    nodes = [74269800010011, 74269800020011, 74269800030011]
    sos_path, sword_path = tmp_path / "sos.nc", _sword(tmp_path / "sword.nc", reaches, 80.0)
    write_sos(sos_path, reaches, nodes, mean_q=123.0)
    got = []
    for rid, node in zip(reaches, nodes, strict=True):
        obs = ReachObs.empty(rid)
        add_sword(obs, sword_path)
        got.append((obs.prior_width, read_priors(sos_path, rid, node_ids=np.array([node]))))
    assert sorted(p.name for p in opened_files) == ["sos.nc", "sword.nc"]  # once each for the 3 reaches
    assert [w for w, _ in got] == [80.0] * 3 and [p.mean_q for _, p in got] == [123.0] * 3
    np.testing.assert_array_equal([p.gb_node["logWb_hat"][0] for _, p in got], [0.0, 1.0, 2.0])
    got[0][1].monthly_q[:] = -1.0  # a reader's arrays are its own, not the cached table's
    assert read_priors(sos_path, REACH).monthly_q[0] == 123.0 and len(opened_files) == 2

    write_sos(sos_path, reaches, nodes, mean_q=456.0)  # a new version of each file is read again (new inode)
    _sword(sword_path, [*reaches, 74269800041], 90.0)  # another size (a rewrite may keep the mtime)
    obs = ReachObs.empty(REACH)
    add_sword(obs, sword_path)
    assert read_priors(sos_path, REACH).mean_q == 456.0 and obs.prior_width == 90.0 and len(opened_files) == 4
    clear_caches()
    assert read_priors(sos_path, REACH).mean_q == 456.0 and len(opened_files) == 5
