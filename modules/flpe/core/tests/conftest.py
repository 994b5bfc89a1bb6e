"""Fixtures of the FLPE framework tests: a run folder with one reach built from real files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from confluence_core import ncio, sos
from confluence_core.jsonio import write_json
from confluence_flpe import io

REACH = 74269800011  # the reach of reference_outputs/swot/74269800011_SWOT.nc
SOS_NAME = sos.sos_name("na")


def write_sos(path: Path, reach_ids: list[int], node_ids: list[int], mean_q: float = 300.0,
              with_gb: bool = True) -> None:
    """A small SoS priors file in the layout of confluence_core.sos (one value per reach)."""
    nr, nn = len(reach_ids), len(node_ids)
    with ncio.create(path, product_version="0001", sword_version="16", continent="na") as ds:
        ds.createDimension(sos.REACH_DIM, nr)
        ds.createDimension(sos.NODE_DIM, nn)
        ds.createDimension(sos.MONTH_DIM, sos.N_MONTHS)
        ds.createDimension(sos.PROB_DIM, len(sos.EXCEEDANCE))
        g = ds.createGroup("reaches")
        ncio.write_var(g, "reach_id", np.asarray(reach_ids, dtype=np.int64), (sos.REACH_DIM,), dtype="i8")
        g = ds.createGroup("nodes")
        ncio.write_var(g, "node_id", np.asarray(node_ids, dtype=np.int64), (sos.NODE_DIM,), dtype="i8")
        node_reach = [int(str(n)[:10] + str(n)[-1]) for n in node_ids]
        ncio.write_var(g, "reach_id", np.asarray(node_reach, dtype=np.int64), (sos.NODE_DIM,), dtype="i8")
        m = ds.createGroup("model")
        q = np.full(nr, mean_q)
        ncio.write_var(m, "mean_q", q, (sos.REACH_DIM,))
        ncio.write_var(m, "min_q", q / 5, (sos.REACH_DIM,))
        ncio.write_var(m, "max_q", q * 5, (sos.REACH_DIM,))
        ncio.write_var(m, "two_year_return_q", np.full(nr, np.nan), (sos.REACH_DIM,))
        ncio.write_var(m, "monthly_q", np.tile(q[:, None], 12), (sos.REACH_DIM, sos.MONTH_DIM))
        ncio.write_var(m, "flow_duration_q", np.tile(q[:, None], 20), (sos.REACH_DIM, sos.PROB_DIM))
        if with_gb:
            gb = ds.createGroup("gbpriors")
            r = gb.createGroup("reach")
            ncio.write_var(r, "logA0_hat", np.full(nr, 5.5), (sos.REACH_DIM,))
            ncio.write_var(r, "logn_hat", np.full(nr, -3.5), (sos.REACH_DIM,))
            n = gb.createGroup("node")
            ncio.write_var(n, "logWb_hat", np.arange(nn, dtype=float), (sos.NODE_DIM,))


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Each test starts with no SWORD / SoS table read (confluence_flpe.io reads each once per process)."""
    io.clear_caches()


@pytest.fixture()
def run_folder(mnt: Path, shared_data: Path) -> Path:
    """A run folder with the reference SWOT file, a small SoS and reaches.json (no SWORD file)."""
    swot = shared_data / "reference_outputs" / "swot" / f"{REACH}_SWOT.nc"
    (mnt / "input" / "swot").mkdir(parents=True, exist_ok=True)
    shutil.copy(swot, mnt / "input" / "swot" / swot.name)
    with ncio.open_dataset(swot) as ds:
        nodes = [int(n) for n in ds["node"]["node_id"][:]]
    (mnt / "input" / "sos").mkdir(parents=True, exist_ok=True)
    write_sos(mnt / "input" / "sos" / SOS_NAME, [REACH, 74269800021], nodes)
    entry = {"reach_id": REACH, "sword": "na_sword_v16.nc", "swot": f"{REACH}_SWOT.nc", "sos": SOS_NAME}
    write_json(mnt / "input" / "reaches.json", [entry,
               {"reach_id": 74269800034, "sword": "na_sword_v16.nc", "swot": "74269800034_SWOT.nc", "sos": SOS_NAME},
               {"reach_id": 74269800041, "sword": "na_sword_v16.nc", "swot": "74269800041_SWOT.nc", "sos": SOS_NAME}])
    return mnt
