"""The SoS branch flag is read once per job and file version (a grouped job's reaches share the file)."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
from confluence_offline import io


def _sos(path: Path, constrained: bool, comment: str = "") -> Path:
    with netCDF4.Dataset(path, "w") as ds:
        ds.setncattr("priors_constrained", np.int32(constrained))
        if comment:
            ds.setncattr("comment", comment)
    return path


def test_branch_read_once_per_file_version(tmp_path: Path, opened_files: list[Path]) -> None:
    io.clear_caches()
    opened = opened_files
    path = _sos(tmp_path / "na_sword_v16_SOS_priors.nc", True)
    assert [io.read_branch(path) for _ in range(3)] == ["constrained"] * 3
    assert len(opened) == 1
    _sos(path, False, comment="a later version of the file")  # another size: another version
    assert io.read_branch(path) == "unconstrained" and len(opened) == 2
    io.clear_caches()
    assert io.read_branch(path) == "unconstrained" and len(opened) == 3
    assert io.read_branch(tmp_path / "absent.nc") == "unconstrained"
