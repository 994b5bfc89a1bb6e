"""The SoS gauges are read once per job and file version (a grouped job's reaches share the file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from confluence_core import ncio
from confluence_validation import io
from validation_builders import write_sos


def _gauge(reach_id: int, gid: str, cal: int, n: int) -> dict[str, Any]:
    return {"reach_id": reach_id, "id": gid, "cal": cal, "qt": list(range(738000, 738000 + n)),
            "q": [10.0 + k for k in range(n)]}


def test_gauges_read_once_per_file_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    io.clear_caches()
    opened: list[Any] = []
    real = ncio.open_dataset
    monkeypatch.setattr(ncio, "open_dataset", lambda p, *a, **k: opened.append(p) or real(p, *a, **k))
    path = write_sos(tmp_path / "na_sword_v16_SOS_priors.nc",
                     {"USGS": [_gauge(71000000011, "A", 0, 4), _gauge(71000000021, "B", 1, 3)]})
    first = io.read_gauges(path, 71000000011)
    assert [(g.gauge_id, g.cal) for g in first] == [("A", 0)]
    np.testing.assert_array_equal(first[0].q, [10.0, 11.0, 12.0, 13.0])
    first[0].q[:] = -1.0  # a caller's change never reaches the shared table
    np.testing.assert_array_equal(io.read_gauges(path, 71000000011)[0].q, [10.0, 11.0, 12.0, 13.0])
    assert io.read_gauges(path, 71000000021) == []  # CAL 1: not a validation gauge
    assert [g.gauge_id for g in io.read_gauges(path, 71000000021, cal=None)] == ["B"]
    assert len(opened) == 1
    write_sos(path, {"USGS": [_gauge(71000000021, "C", 0, 6)]})  # a new file: another version
    assert [g.gauge_id for g in io.read_gauges(path, 71000000021)] == ["C"]
    assert len(opened) == 2
