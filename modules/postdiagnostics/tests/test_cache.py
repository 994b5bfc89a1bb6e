"""The SoS flow bounds are read once per job and file version (a grouped job's reaches share the file)."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
from confluence_postdiagnostics import io


def _sos(path: Path, ids: list[int], min_q: float) -> Path:
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("num_reaches", len(ids))
        ds.createGroup("reaches").createVariable("reach_id", "i8", ("num_reaches",))[:] = ids
        model = ds.createGroup("model")
        model.createVariable("min_q", "f8", ("num_reaches",))[:] = np.full(len(ids), min_q)
        model.createVariable("max_q", "f8", ("num_reaches",))[:] = np.arange(len(ids)) + 100.0
    return path


def test_bounds_read_once_per_file_version(tmp_path: Path, opened_files: list[Path]) -> None:
    io.clear_caches()
    opened = opened_files
    path = _sos(tmp_path / "na_sword_v16_SOS_priors.nc", [71000000011, 71000000021], 5.0)
    assert io.read_bounds(path, [71000000021]) == {71000000021: (5.0, 101.0)}
    assert io.read_bounds(path, [71000000011, 71000000031]) == {71000000011: (5.0, 100.0)}
    assert len(opened) == 1
    _sos(path, [71000000011, 71000000021, 71000000031], 7.0)  # another size: another version
    assert io.read_bounds(path, [71000000031]) == {71000000031: (7.0, 102.0)}
    assert len(opened) == 2
    assert io.read_bounds(tmp_path / "absent.nc", [71000000011]) == {}
