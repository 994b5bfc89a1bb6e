"""``confluence-flpe metroman --index 0`` on a three-reach set built from the reference SWOT file."""

from __future__ import annotations

import shutil
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from click.testing import CliRunner
from confluence_core import ncio
from confluence_core.jsonio import write_json
from confluence_flpe.cli import main

SET = [74269800031, 74269800021, 74269800011]  # upstream to downstream (ids grow upstream)
SOS = "na_sword_v16_SOS_priors.nc"


@pytest.fixture()
def run_folder(mnt: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    src = shared_data / "reference_outputs" / "swot" / "74269800011_SWOT.nc"
    (mnt / "input" / "swot").mkdir(parents=True, exist_ok=True)
    for rid in SET:
        shutil.copy(src, mnt / "input" / "swot" / f"{rid}_SWOT.nc")
    (mnt / "input" / "sos").mkdir(exist_ok=True)
    with ncio.create(mnt / "input" / "sos" / SOS) as ds:
        ds.createDimension("num_reaches", len(SET))
        ncio.write_var(ds.createGroup("reaches"), "reach_id", np.asarray(SET), ("num_reaches",), dtype="i8")
        ncio.write_var(ds.createGroup("model"), "mean_q", np.full(len(SET), 250.0), ("num_reaches",))
    write_json(mnt / "input" / "metrosets.json", [[{"reach_id": r, "swot": f"{r}_SWOT.nc", "sos": SOS} for r in SET]])
    monkeypatch.setenv("CONFLUENCE_METROMAN_N_ITER", "1500")
    monkeypatch.setenv("CONFLUENCE_METROMAN_BURN_IN", "500")
    return mnt


def test_cli_writes_set_and_reach_files(run_folder: Path) -> None:
    res = CliRunner().invoke(main, ["metroman", "--index", "0"])
    assert res.exit_code == 0, res.output
    out = run_folder / "flpe" / "metroman"
    name = "-".join(map(str, SET)) + "_metroman.nc"
    assert sorted(p.name for p in out.iterdir()) == sorted([name, *(f"{r}_metroman.nc" for r in SET)])
    with netCDF4.Dataset(out / name) as ds:
        assert ds.set_id == name and ds.valid == 1
        assert ds["reach_id"][:].tolist() == SET
        q = ds["allq"][:].filled(np.nan)
    assert q.shape[0] == 3 and np.isfinite(q).sum() > 10 and np.nanmin(q) > 0
    # the same reach data three times: mass conservation makes the three series agree
    assert np.nanmax(np.abs(np.log(q[0] / q[2]))) < 0.3
