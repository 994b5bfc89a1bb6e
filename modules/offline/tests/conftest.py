"""A small run folder for offline: SWOT files, FLPE files by the output contract, MOI integrator files."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from click.testing import CliRunner, Result
from confluence_core import flpe

FILL = -999999999999.0
REF_REACH = 74269800011  # reference_outputs/swot
REACH = 74100100011
NT = 10


def _var(ds: netCDF4.Dataset, path: str, values: np.ndarray | float) -> None:
    group_path, _, name = path.rpartition("/")
    grp = ds
    for part in [p for p in group_path.split("/") if p]:
        grp = grp.groups[part] if part in grp.groups else grp.createGroup(part)
    arr = np.asarray(values, dtype=np.float64)
    var = grp.createVariable(name, "f8", ("nt",) if arr.ndim else (), fill_value=FILL)
    var[...] = np.where(np.isfinite(arr), arr, FILL)


def write_flpe(root: Path, spec: flpe.FlpeOutput, reach_id: int, q: np.ndarray, **attrs: object) -> Path:
    """``spec``'s per-reach file with ``q`` at every discharge path (contract layout)."""
    path = spec.path(root / "flpe", reach_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with netCDF4.Dataset(path, "w") as ds:
        ds.setncattr("valid", np.int32(1))
        ds.setncatts(attrs)
        ds.createDimension("nt", q.size)
        for p in spec.q:
            _var(ds, p, q)
        for p in spec.params.values():
            _var(ds, p, 1.0)
    return path


def write_integrator(root: Path, reach_id: int, series: dict[str, np.ndarray]) -> Path:
    """``moi/{reach_id}_integrator.nc``, one group per MOI name with ``q`` and scalars."""
    path = root / "moi" / f"{reach_id}_integrator.nc"
    path.parent.mkdir(parents=True, exist_ok=True)
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("nt", next(iter(series.values())).size)
        for name, q in series.items():
            grp = ds.createGroup(name)
            grp.createVariable("q", "f8", ("nt",), fill_value=FILL)[:] = np.where(np.isfinite(q), q, FILL)
            for p in ("a0", "n", "qbar_reachScale", "qbar_basinScale"):
                grp.createVariable(p, "f8", (), fill_value=FILL).assignValue(1.0)
    return path


def write_swot(root: Path, reach_id: int, width: np.ndarray, wse: np.ndarray,
               dA: np.ndarray | None = None) -> Path:
    """A minimal ``{reach_id}_SWOT.nc`` (reach group; d_x_area only when given)."""
    path = root / "input" / "swot" / f"{reach_id}_SWOT.nc"
    path.parent.mkdir(parents=True, exist_ok=True)
    nt = width.size
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("nt", nt)
        ds.createDimension("nx", 2)
        grp = ds.createGroup("reach")
        grp.createVariable("reach_id", "i8", ()).assignValue(reach_id)
        fields = {"time": 7.5e8 + 86400.0 * 21 * np.arange(nt), "width": width, "wse": wse,
                  "width_u": np.full(nt, 5.0), "wse_u": np.full(nt, 0.1)}
        if dA is not None:
            fields |= {"d_x_area": dA, "d_x_area_u": np.full(nt, 10.0)}
        for name, values in fields.items():
            grp.createVariable(name, "f8", ("nt",), fill_value=FILL)[:] = np.where(np.isfinite(values), values,
                                                                                    FILL)
    return path


def series(k: float, nt: int = NT) -> np.ndarray:
    """A discharge series (m3/s) scaled by ``k``, unobserved at pass 3."""
    q = k * (100.0 + 10.0 * np.arange(nt))
    q[3] = np.nan
    return q


def build_run(root: Path, reach_id: int = REACH, nt: int = NT, swot: bool = True) -> Path:
    """reaches.json, a SWOT file, every algorithm's, the consensus' and the MOI files of one reach."""
    for sub in ("input", "flpe", "moi", "offline"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    entry = {"reach_id": reach_id, "sword": "na_sword_v16.nc", "swot": f"{reach_id}_SWOT.nc",
             "sos": "na_sword_v16_SOS_priors.nc"}
    (root / "input" / "reaches.json").write_text(json.dumps([entry]))
    if swot:
        wse = 10.0 + 0.2 * np.arange(nt)
        write_swot(root, reach_id, 100.0 + 2.0 * np.arange(nt), wse, dA=None)
    specs = flpe.algorithms()
    for i, spec in enumerate(specs.values()):
        write_flpe(root, spec, reach_id, series(1.0 + i, nt))
    write_flpe(root, flpe.consensus(), reach_id, series(2.0, nt), contributing_algos=["neobam", "momma", "sad"])
    write_integrator(root, reach_id, {s.moi: series(1.0 + i, nt) * 1.1 for i, s in enumerate(specs.values())})
    return root


def copy_reference_swot(root: Path, shared_data: Path) -> Path:
    """The reference SWOT file (reach 74269800011) as the run's SWOT file."""
    dest = root / "input" / "swot" / f"{REF_REACH}_SWOT.nc"
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shared_data / "reference_outputs" / "swot" / f"{REF_REACH}_SWOT.nc", dest)
    dest.chmod(0o644)
    return dest


def read_offline(root: Path, reach_id: int = REACH) -> dict[str, np.ndarray]:
    """Every variable of the offline file, fills as NaN for floats."""
    with netCDF4.Dataset(root / "offline" / f"{reach_id}_offline.nc") as ds:
        ds.set_auto_mask(False)
        out = {}
        for name, var in ds.variables.items():
            arr = np.asarray(var[...])
            out[name] = np.where(arr == FILL, np.nan, arr) if arr.dtype.kind == "f" else arr
        return out


@pytest.fixture()
def world() -> object:
    """This module's builders for the tests."""
    return sys.modules[__name__]


@pytest.fixture()
def run_cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Invoke ``confluence-offline`` in-process on the run folder ``root``."""
    from confluence_offline.cli import main

    def run(root: Path, *args: str) -> Result:
        monkeypatch.setenv("CONFLUENCE_MNT", str(root))
        monkeypatch.delenv("AWS_BATCH_JOB_ARRAY_INDEX", raising=False)
        return CliRunner().invoke(main, ["--index", "0", *args], catch_exceptions=False)

    return run
