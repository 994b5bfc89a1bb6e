"""``confluence-flpe hivdi --index 0`` on a one-reach set of the reference SWOT file (real data plumbing)."""

from __future__ import annotations

import shutil
from pathlib import Path

import netCDF4
import numpy as np
from click.testing import CliRunner
from confluence_core import ncio
from confluence_core.jsonio import write_json
from confluence_flpe.cli import main

RID = 74269800011
SOS = "na_sword_v16_SOS_priors.nc"


def test_cli_runs_the_reference_swot_reach(mnt: Path, shared_data: Path) -> None:
    (mnt / "input" / "swot").mkdir(parents=True, exist_ok=True)
    shutil.copy(shared_data / "reference_outputs" / "swot" / f"{RID}_SWOT.nc", mnt / "input" / "swot")
    (mnt / "input" / "sos").mkdir(exist_ok=True)
    with ncio.create(mnt / "input" / "sos" / SOS) as ds:
        ds.createDimension("num_reaches", 1)
        ncio.write_var(ds.createGroup("reaches"), "reach_id", np.asarray([RID]), ("num_reaches",), dtype="i8")
        ncio.write_var(ds.createGroup("model"), "mean_q", np.full(1, 250.0), ("num_reaches",))
    write_json(mnt / "input" / "hivdisets.json", [[{"reach_id": RID, "swot": f"{RID}_SWOT.nc", "sos": SOS}]])
    res = CliRunner().invoke(main, ["hivdi", "--index", "0"])
    assert res.exit_code == 0, res.output
    path = mnt / "flpe" / "hivdi" / f"{RID}_hivdi.nc"
    with netCDF4.Dataset(path) as ds:
        assert ds.valid == 1 and ds.status == 1 and ds.reach_id == str(RID)
        q = ds["reach/Q"][:].filled(np.nan)
        assert ds.dimensions["nt"].size == 154 and np.isfinite(q).sum() == 154 and np.nanmin(q) > 0
        assert float(ds["reach/A0"][...]) > 0 and float(ds["reach/alpha"][...]) > 0
        assert ds["reach/n_node_obs"][...] > 5000  # the 42 node profiles were used
