"""``confluence-flpe ALGO --index N`` on a reach built from the reference SWOT file."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest
from click.testing import CliRunner
from confluence_flpe import registry
from confluence_flpe.cli import main

from .conftest import REACH

pytestmark = pytest.mark.skipif("momma" not in registry.names(), reason="momma plug-in not installed")


def _run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args))
    return res.exit_code, res.output


def test_reach_runs_and_writes(run_folder: Path) -> None:
    code, out = _run("momma", "--index", "0")
    assert code == 0, out
    path = run_folder / "flpe" / "momma" / f"{REACH}_momma.nc"
    with netCDF4.Dataset(path) as ds:
        assert ds.valid == 1 and ds.reach_id == REACH
        assert len(ds.dimensions["nt"]) == 154
        q = ds["Q"][:].filled(np.nan)
    assert np.isfinite(q).sum() > 100 and np.nanmin(q) > 0
    assert not list((run_folder / "flpe" / "momma").glob(".*.part"))


def test_non_river_reach_writes_nothing(run_folder: Path) -> None:
    code, out = _run("momma", "--index", "1")  # type 4 (dam)
    assert code == 0, out
    assert not list(run_folder.glob("flpe/momma/*.nc"))


def test_missing_swot_file_gives_flagged_output(run_folder: Path) -> None:
    code, out = _run("momma", "--index", "2")
    assert code == 0, out
    with netCDF4.Dataset(run_folder / "flpe" / "momma" / "74269800041_momma.nc") as ds:
        assert ds.valid == 0 and len(ds.dimensions["nt"]) == 0


def test_too_few_observations_flagged(run_folder: Path) -> None:
    path = run_folder / "input" / "swot" / f"{REACH}_SWOT.nc"
    with netCDF4.Dataset(path, "a") as ds:
        w = ds["reach"]["width"]
        w[3:] = w._FillValue
    code, out = _run("momma", "--index", "0")
    assert code == 0, out
    with netCDF4.Dataset(run_folder / "flpe" / "momma" / f"{REACH}_momma.nc") as ds:
        assert ds.valid == 0 and len(ds.dimensions["nt"]) == 154
        assert ds["Q"][:].mask.all()


def test_no_mean_flow_prior_flagged(run_folder: Path) -> None:
    with netCDF4.Dataset(run_folder / "input" / "sos" / "na_sword_v16_SOS_priors.nc", "a") as ds:
        ds["model"]["mean_q"][:] = ds["model"]["mean_q"]._FillValue
    assert _run("momma", "--index", "0")[0] == 0
    with netCDF4.Dataset(run_folder / "flpe" / "momma" / f"{REACH}_momma.nc") as ds:
        assert ds.valid == 0


def test_errors_are_one_line(run_folder: Path) -> None:
    code, out = _run("nosuch", "--index", "0")
    assert code == 1 and "unknown FLPE algorithm 'nosuch'; known:" in out and "momma" in out
    code, out = _run("momma", "--index", "7")
    assert code == 1 and "reaches.json: has 3 entries, no index 7" in out
    code, out = _run("momma")
    assert code == 1 and "no job index" in out


@pytest.mark.skipif("consensus" not in registry.names(), reason="consensus plug-in not installed")
def test_consensus_after_momma(run_folder: Path) -> None:
    assert _run("momma", "--index", "0")[0] == 0
    code, out = _run("consensus", "--index", "0")
    assert code == 0, out
    with netCDF4.Dataset(run_folder / "flpe" / "consensus" / f"{REACH}_consensus.nc") as ds:
        q = ds["consensus_q"][:].filled(np.nan)
        n_algos, used, valid = ds.n_algos, ds.contributing_algos, ds.valid
    with netCDF4.Dataset(run_folder / "flpe" / "momma" / f"{REACH}_momma.nc") as ds:
        qm = ds["Q"][:].filled(np.nan)
    assert np.nanstd(qm, ddof=1) / np.nanmean(qm) > 0.3  # this reach's MOMMA series varies enough
    assert (n_algos, used, valid) == ("1", "momma", 1)
    np.testing.assert_array_equal(q, qm)
