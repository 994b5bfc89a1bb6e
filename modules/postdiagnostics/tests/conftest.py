"""A small run folder built directly: SoS bounds, FLPE files by the output contract, MOI files."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from click.testing import CliRunner, Result
from confluence_core import flpe

FILL = -999999999999.0
REACHES = [74100100011, 74100100021, 74100100031]
NT = 12
SOS = "na_sword_v16_SOS_priors.nc"


def base_q(reach_id: int) -> np.ndarray:
    """A plausible discharge series (m3/s) of a reach, with one unobserved pass (NaN)."""
    t = np.arange(NT)
    q = 100.0 + 10.0 * (reach_id % 100) / 10 + 30.0 * np.sin(t / 2.0)
    q[4] = np.nan
    return q


#: Plausible parameters of each algorithm (names from flpe_outputs.toml).
PARAMS = {
    "neobam": {"r": 2.0, "logn": np.log(0.03), "logWb": np.log(80.0), "logDb": np.log(3.0)},
    "metroman": {"A0": 300.0, "na": 0.035, "x1": -0.2},
    "momma": {"zero_flow_stage": 10.0, "bankfull_stage": 14.0, "Qmean": 110.0},
    "sad": {"A0": 320.0, "n": 0.04},
    "hivdi": {"A0": 310.0, "alpha": 30.0, "beta": -0.2},
    "sic4dvar": {"A0": 305.0, "n": 0.03},
}


def _var(ds: netCDF4.Dataset, path: str, values: np.ndarray | float) -> None:
    group_path, _, name = path.rpartition("/")
    grp = ds
    for part in [p for p in group_path.split("/") if p]:
        grp = grp.groups[part] if part in grp.groups else grp.createGroup(part)
    arr = np.asarray(values, dtype=np.float64)
    var = grp.createVariable(name, "f8", ("nt",) if arr.ndim else (), fill_value=FILL)
    var[...] = np.where(np.isfinite(arr), arr, FILL)


def write_flpe(root: Path, spec: flpe.FlpeOutput, reach_id: int, q: np.ndarray,
               params: dict[str, float] | None = None, valid: bool = True) -> Path:
    """Write ``spec``'s per-reach file with ``q`` at every discharge path and ``params`` (contract layout)."""
    path = spec.path(root / "flpe", reach_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    with netCDF4.Dataset(path, "w") as ds:
        ds.set_auto_mask(False)
        ds.setncattr("valid", np.int32(valid))
        ds.createDimension("nt", q.size)
        for p in spec.q:
            _var(ds, p, q)
        if spec.q_u:
            _var(ds, spec.q_u, 0.1 * q)
        for key, paths in spec.params.items():
            value = (params or {}).get(key, np.nan)
            for p in paths:  # several paths: chains; "exp:" paths store the natural log
                _var(ds, p.removeprefix("exp:"), np.log(value) if p.startswith("exp:") else value)
    return path


def write_integrator(root: Path, reach_id: int, series: dict[str, np.ndarray],
                     params: dict[str, dict[str, float]] | None = None) -> Path:
    """``moi/{reach_id}_integrator.nc`` in the layout of the reference file (group per MOI name)."""
    path = root / "moi" / f"{reach_id}_integrator.nc"
    path.parent.mkdir(parents=True, exist_ok=True)
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("nt", NT)
        ds.createVariable("nt", "i4", ("nt",))[:] = np.arange(NT)
        for name, q in series.items():
            grp = ds.createGroup(name)
            var = grp.createVariable("q", "f8", ("nt",), fill_value=FILL)
            var[:] = np.where(np.isfinite(q), q, FILL)
            for pname, value in {**(params or {}).get(name, {"a0": 300.0, "n": 0.03}),
                                 "qbar_reachScale": float(np.nanmean(q)), "qbar_basinScale": 500.0}.items():
                grp.createVariable(pname, "f8", (), fill_value=FILL).assignValue(value)
    return path


def write_sos(root: Path, reach_ids: Iterable[int], min_q: float = 20.0, max_q: float = 400.0) -> Path:
    """SoS with ``reaches/reach_id`` and ``model/min_q``, ``max_q`` (the fields postdiagnostics reads)."""
    ids = list(reach_ids)
    path = root / "input" / "sos" / SOS
    path.parent.mkdir(parents=True, exist_ok=True)
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("num_reaches", len(ids))
        ds.createGroup("reaches").createVariable("reach_id", "i8", ("num_reaches",))[:] = ids[::-1]
        model = ds.createGroup("model")
        model.createVariable("min_q", "f8", ("num_reaches",))[:] = np.full(len(ids), min_q)
        model.createVariable("max_q", "f8", ("num_reaches",))[:] = np.full(len(ids), max_q)
    return path


def build_run(root: Path, scale: dict[int, float] | None = None) -> Path:
    """A run folder: lists, SoS, every algorithm's and the consensus' files, MOI files, for :data:`REACHES`.

    ``scale`` multiplies the flows of the given reaches (a changed reach between runs).
    """
    scale = scale or {}
    for sub in ("input", "flpe", "moi", "diagnostics"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    entries = [{"reach_id": r, "sword": "na_sword_v16.nc", "swot": f"{r}_SWOT.nc", "sos": SOS} for r in REACHES]
    (root / "input" / "reaches.json").write_text(json.dumps(entries))
    basin = {"basin_id": 7410, "reach_id": [str(r) for r in REACHES], "sword": "na_sword_v16.nc", "sos": SOS,
             "swot": [f"{r}_SWOT.nc" for r in REACHES]}
    (root / "input" / "basin.json").write_text(json.dumps([basin]))
    write_sos(root, REACHES)
    for rid in REACHES:
        q = base_q(rid) * scale.get(rid, 1.0)
        for name, spec in flpe.algorithms().items():
            write_flpe(root, spec, rid, q, PARAMS.get(name))
        write_flpe(root, flpe.consensus(), rid, q)
        write_integrator(root, rid, {s.moi: q * 1.05 for s in flpe.algorithms().values() if s.moi})
    return root


@pytest.fixture()
def run_cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Invoke ``confluence-postdiagnostics`` in-process on the run folder ``root``."""
    from confluence_postdiagnostics.cli import main

    def run(root: Path, *args: str) -> Result:
        monkeypatch.setenv("CONFLUENCE_MNT", str(root))
        monkeypatch.delenv("CONFLUENCE_PREVIOUS", raising=False)
        monkeypatch.delenv("AWS_BATCH_JOB_ARRAY_INDEX", raising=False)
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return run


def read_diag(root: Path, reach_id: int, step: str = "flpe") -> dict[str, np.ndarray]:
    """Every variable of a diagnostics file, raw (fills kept)."""
    path = root / "diagnostics" / "postdiagnostics" / f"{reach_id}_{step}_diag.nc"
    with netCDF4.Dataset(path) as ds:
        ds.set_auto_mask(False)
        return {name: np.asarray(var[...]) for name, var in ds.variables.items()}


@pytest.fixture()
def world() -> object:
    """This module's builders (``build_run``, ``write_flpe``, ``read_diag`` ...) for the tests."""
    import sys

    return sys.modules[__name__]
