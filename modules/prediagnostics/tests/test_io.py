"""SWORD read once per job; the SWOT file rewritten from one open copy, untouched when nothing is written."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
import pytest
from confluence_core import ncio
from confluence_prediagnostics import io


def _sword(path: Path, widths: list[float]) -> Path:
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("num_reaches", 2)
        ds.createDimension("num_nodes", 3)
        r = ds.createGroup("reaches")
        r.createVariable("reach_id", "i8", ("num_reaches",))[:] = [71000000011, 71000000021]
        r.createVariable("width", "f8", ("num_reaches",))[:] = widths
        r.createVariable("reach_length", "f8", ("num_reaches",))[:] = [1000.0, -9999.0]
        n = ds.createGroup("nodes")
        n.createVariable("node_id", "i8", ("num_nodes",))[:] = [71000000020013, 71000000010011, 71000000010021]
        n.createVariable("width", "f8", ("num_nodes",))[:] = [30.0, 10.0, -9999.0]
    return path


def test_prior_read_once_per_file_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    io.clear_caches()
    opened: list[Any] = []
    real = ncio.open_dataset
    monkeypatch.setattr(ncio, "open_dataset", lambda p, *a, **k: opened.append(p) or real(p, *a, **k))
    path = _sword(tmp_path / "na_sword_v16.nc", [50.0, 60.0])
    nodes = np.array([71000000010011, 71000000010021, 71000000010031])
    prior = io.read_prior(path, 71000000011, nodes)
    assert prior is not None and prior.p_width == 50.0 and prior.p_length == 1000.0
    np.testing.assert_array_equal(prior.node_p_width, [10.0, np.nan, np.nan])
    other = io.read_prior(path, 71000000021, None)
    assert other is not None and other.p_width == 60.0 and np.isnan(other.p_length) and other.node_p_width is None
    assert len(opened) == 1
    io.clear_caches()
    _sword(path, [55.0, 65.0])
    again = io.read_prior(path, 71000000011, nodes)
    assert again is not None and again.p_width == 55.0 and len(opened) == 2
    assert io.read_prior(tmp_path / "absent.nc", 71000000011, nodes) is None


def test_update_left_untouched_without_write_or_on_error(tmp_path: Path) -> None:
    path = tmp_path / "71000000011_SWOT.nc"
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("nt", 2)
        ds.createGroup("reach").createVariable("wse", "f8", ("nt",))[:] = [1.0, 2.0]
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with io.update_swot(path, 71000000011) as update:
        assert update.data.nt == 2 and update.data.raw[("reach", "wse")].tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="boom"), io.update_swot(path, 71000000011):
        raise RuntimeError("boom")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no copy left behind
