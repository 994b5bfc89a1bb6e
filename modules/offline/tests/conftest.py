"""A small run folder for offline: SWOT files, the consensus file, MOI integrator files with flow-law parameters."""

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
        for paths in spec.params.values():
            for p in paths:
                _var(ds, p.removeprefix("exp:"), 1.0)
    return path


#: Integrated flow-law parameters of each algorithm's MOI group in :func:`build_run` (by flow law).
PARAMS = {
    "manning": {"n": 0.03, "a0": 400.0},
    "metroman": {"Abar": 400.0, "na": 0.03, "x1": 0.2},
    "hivdi": {"Abar": 400.0, "alpha": 30.0, "beta": -0.2},
    "momma": {"B": 6.0, "H": 11.8, "nb": 0.03, "x": 0.5},
    "bam": {"n": 0.03, "Wb": 130.0, "Db": 4.0, "r": 1.5},
}


def write_integrator(root: Path, reach_id: int, groups: dict[str, dict[str, float]], nt: int) -> Path:
    """``moi/{reach_id}_integrator.nc``: one group per MOI name with ``q`` (fill), its parameters, the means."""
    path = root / "moi" / f"{reach_id}_integrator.nc"
    path.parent.mkdir(parents=True, exist_ok=True)
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("nt", nt)
        for name, params in groups.items():
            grp = ds.createGroup(name)
            grp.createVariable("q", "f8", ("nt",), fill_value=FILL)[:] = np.full(nt, FILL)
            for p, value in {**params, "qbar_reachScale": 1.0, "qbar_basinScale": 1.0}.items():
                grp.createVariable(p, "f8", (), fill_value=FILL).assignValue(value)
    return path


def write_sos(root: Path, constrained: bool) -> Path:
    """An SoS priors file holding only the global attribute ``priors_constrained``."""
    path = root / "input" / "sos" / "na_sword_v16_SOS_priors.nc"
    path.parent.mkdir(parents=True, exist_ok=True)
    with netCDF4.Dataset(path, "w") as ds:
        ds.setncattr("priors_constrained", np.int32(constrained))
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
                  "width_u": np.full(nt, 5.0), "wse_u": np.full(nt, 0.1),
                  "slope": np.full(nt, 1e-4), "slope_u": np.full(nt, 1e-5)}
        if dA is not None:
            fields |= {"d_x_area": dA, "d_x_area_u": np.full(nt, 10.0)}
        for name, values in fields.items():
            grp.createVariable(name, "f8", ("nt",), fill_value=FILL)[:] = np.where(np.isfinite(values), values,
                                                                                    FILL)
    return path


def build_run(root: Path, reach_id: int = REACH, nt: int = NT, swot: bool = True) -> Path:
    """reaches.json, a SWOT file, the consensus file and the MOI file (every group) of one reach."""
    for sub in ("input", "flpe", "moi", "offline"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    entry = {"reach_id": reach_id, "sword": "na_sword_v16.nc", "swot": f"{reach_id}_SWOT.nc",
             "sos": "na_sword_v16_SOS_priors.nc"}
    (root / "input" / "reaches.json").write_text(json.dumps([entry]))
    if swot:
        wse = 10.0 + 0.2 * np.arange(nt)
        write_swot(root, reach_id, 100.0 + 2.0 * np.arange(nt), wse, dA=None)
    write_flpe(root, flpe.consensus(), reach_id, np.ones(nt), contributing_algos=["neobam", "momma", "sad"])
    write_integrator(root, reach_id, {s.moi: PARAMS[s.flowlaw] for s in flpe.algorithms().values()}, nt)
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
