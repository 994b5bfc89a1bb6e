"""Fixtures of the prediagnostics tests: a run folder holding a copy of the reference SWOT file."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from click.testing import CliRunner, Result

REACH_ID = 74269800011
SWOT_NAME = f"{REACH_ID}_SWOT.nc"


@pytest.fixture()
def swot_file(mnt: Path, shared_data: Path) -> Path:
    """``input/swot/74269800011_SWOT.nc`` (a writable copy of the reference) and ``input/reaches.json``."""
    dest = mnt / "input" / "swot" / SWOT_NAME
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shared_data / "reference_outputs" / "swot" / SWOT_NAME, dest)
    dest.chmod(0o644)
    entry = {"reach_id": REACH_ID, "sword": "na_sword_v16.nc", "swot": SWOT_NAME,
             "sos": "na_sword_v16_SOS_priors.nc"}
    (mnt / "input" / "reaches.json").write_text(json.dumps([entry]))
    return dest


@pytest.fixture()
def run_cli() -> Callable[..., Result]:
    """Invoke ``confluence-prediagnostics`` in-process with the given arguments."""
    from confluence_prediagnostics.cli import main

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(main, ["--index", "0", *args], env=env, catch_exceptions=False)

    return run


@pytest.fixture()
def write_sword() -> Callable[..., None]:
    """Return a writer of minimal SWORD files (contracts.md section 7)."""
    return _write_sword


def _write_sword(path: Path, reach_width: float, reach_length: float, node_ids: np.ndarray,
                 node_widths: np.ndarray) -> None:
    """A SWORD file with the fields prediagnostics reads, for the reference reach and a neighbour."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with netCDF4.Dataset(path, "w") as ds:
        reaches = ds.createGroup("reaches")
        reaches.createDimension("num_reaches", 2)
        reaches.createVariable("reach_id", "i8", ("num_reaches",))[:] = [REACH_ID - 10, REACH_ID]
        reaches.createVariable("width", "f8", ("num_reaches",))[:] = [500.0, reach_width]
        reaches.createVariable("reach_length", "f8", ("num_reaches",))[:] = [9000.0, reach_length]
        nodes = ds.createGroup("nodes")
        nodes.createDimension("num_nodes", node_ids.size + 1)
        nodes.createVariable("node_id", "i8", ("num_nodes",))[:] = np.r_[node_ids[::-1], 74269800000011]
        nodes.createVariable("width", "f8", ("num_nodes",))[:] = np.r_[node_widths[::-1], 500.0]
        nodes.createVariable("reach_id", "i8", ("num_nodes",))[:] = np.r_[
            np.full(node_ids.size, REACH_ID), REACH_ID - 10]
