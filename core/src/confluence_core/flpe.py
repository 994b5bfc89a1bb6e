"""Reading FLPE results by the output contract, for every later step.

The contract of each FLPE algorithm is its workflow-table row: the per-reach
file is the row's ``flpe:`` output with ``{river_id}``, and its
``[steps.flpe]`` sub-table names the discharge, uncertainty and flow-law
parameter variables, the MOI group and the offline prefix
(:mod:`confluence_core.workflow`).  Steps after FLPE (consensus,
postdiagnostics, MOI, offline, validation, output) never import an
algorithm: they read its per-reach file through :func:`read_result`.  Adding
an algorithm is its plug-in and one table row, and no change to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import netCDF4
import numpy as np

from . import ncio, workflow
from .errors import ConfluenceError, InputError

#: One algorithm's output contract (its workflow-table row's, see :class:`confluence_core.workflow.FlpeContract`).
FlpeOutput = workflow.FlpeContract


@dataclass
class FlpeReachResult:
    """One algorithm's results for one reach; NaN where missing. ``valid`` and ``reason`` from the
    file's attributes (``reason``: why a flagged reach has no estimate; "" when none is given)."""

    name: str
    reach_id: int
    q: np.ndarray
    q_u: np.ndarray | None = None
    params: dict[str, float] = field(default_factory=dict)
    valid: bool = True
    reason: str = ""


def contract(step: workflow.Step) -> FlpeOutput:
    """The output contract of an FLPE row."""
    if step.flpe is None:
        raise ConfluenceError(f"step {step.name} is not an FLPE step (no [steps.flpe] in the workflow table)")
    return step.flpe


def algorithms() -> dict[str, FlpeOutput]:
    """Every FLPE algorithm's output contract (the combiner, consensus, not included), in table order."""
    return {s.name: contract(s) for s in workflow.load().flpe_steps() if s.flpe and s.flpe.role == "algorithm"}


def consensus() -> FlpeOutput:
    """The output contract of the combiner (consensus)."""
    for s in workflow.load().flpe_steps():
        if s.flpe is not None and s.flpe.role == "combiner":
            return contract(s)
    raise ConfluenceError("the workflow table has no FLPE combiner (consensus) row")


def get(name: str) -> FlpeOutput:
    """The output contract of the FLPE step ``name`` (algorithm or combiner)."""
    return contract(workflow.load().step(name))


def _read(ds: netCDF4.Dataset, path: str, reach_id: int) -> np.ndarray | None:
    group_path, _, name = path.rpartition("/")
    grp = ncio.get_group(ds, group_path) if group_path else ds
    if grp is None:
        return None
    values = ncio.read_float(grp, name)
    if values is None:
        return None
    if values.ndim == 2 or (values.ndim == 1 and "nr" in grp[name].dimensions):  # [nr, nt] or [nr]
        ids = ncio.read_int(ds, "reach_id")
        row = 0
        if ids is not None and np.ndim(ids) == 1 and int(reach_id) in ids:
            row = int(np.flatnonzero(ids == int(reach_id))[0])
        values = values[row]
    return values


def _param(ds: netCDF4.Dataset, paths: tuple[str, ...], reach_id: int) -> float:
    """A flow-law parameter: the mean of its paths' values (chains), ``exp:`` paths exponentiated."""
    values = []
    for path in paths:
        log = path.startswith("exp:")
        val = _read(ds, path.removeprefix("exp:"), reach_id)
        if val is not None and np.size(val) and np.isfinite(np.ravel(val)[0]):
            x = float(np.ravel(val)[0])
            values.append(float(np.exp(x)) if log else x)
    return float(np.mean(values)) if values else float("nan")


def _mean_of(series: list[np.ndarray]) -> np.ndarray:
    """Per-time mean of several series (chains), NaN where none has a value."""
    if len(series) == 1:
        return series[0]
    stack = np.vstack([np.atleast_1d(s) for s in series])
    count = np.isfinite(stack).sum(axis=0)
    total = np.where(np.isfinite(stack), stack, 0.0).sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def read_result(spec: FlpeOutput, flpe_root: Path, reach_id: int | str) -> FlpeReachResult | None:
    """Read a reach's results, or None when the algorithm wrote no file for it.

    Raises
    ------
    InputError
        When the file exists but is not readable NetCDF.
    """
    path = spec.find(flpe_root, reach_id)
    if path is None:
        return None
    rid = int(reach_id)
    with ncio.open_dataset(path) as ds:
        series = [s for s in (_read(ds, p, rid) for p in spec.q) if s is not None]
        if not series:
            raise InputError(f"has none of the discharge variables {', '.join(spec.q)}", path)
        q = _mean_of(series)
        q_u = _read(ds, spec.q_u, rid) if spec.q_u else None
        params = {key: _param(ds, paths, rid) for key, paths in spec.params.items()}
        valid = int(np.ravel(ds.getncattr("valid"))[0]) != 0 if "valid" in ds.ncattrs() else True
        reason = str(ds.getncattr("reason")) if "reason" in ds.ncattrs() else ""
    q = np.atleast_1d(np.asarray(q, dtype=np.float64))
    q = np.where(q < -1e10, np.nan, q)
    if q_u is not None:
        q_u = np.atleast_1d(np.asarray(q_u, dtype=np.float64))
        q_u = q_u_in_m3s(spec, q, np.where(q_u < -1e10, np.nan, q_u))
    return FlpeReachResult(spec.name, rid, q, q_u, params, valid, reason)


def q_u_in_m3s(spec: FlpeOutput, q: np.ndarray, q_u: np.ndarray) -> np.ndarray:
    """An algorithm's discharge uncertainty in m3/s: ``q_u * q`` when its row says ``q_u_relative``."""
    return np.asarray(q_u, dtype=np.float64) * (q if spec.q_u_relative else 1.0)


def summarise(spec: FlpeOutput, flpe_root: Path, reach_ids: Sequence[int | str]) -> dict[str, Any]:
    """Counts of one algorithm's outputs over ``reach_ids`` for the run record (``run.json``).

    Returns ``{"reaches", "valid", "flagged", "missing", "unreadable", "reasons"}``: ``valid`` reaches
    with an estimate, ``flagged`` ones written with ``valid = 0`` (``reasons``: reason -> count, the
    reach id in a reason replaced by ``{reach}`` so that equal reasons group), ``missing`` with no
    file (e.g. a reach that is not a river), ``unreadable`` files.
    """
    out: dict[str, Any] = {"reaches": len(reach_ids), "valid": 0, "flagged": 0, "missing": 0, "unreadable": 0}
    reasons: dict[str, int] = {}
    for rid in reach_ids:
        try:
            res = read_result(spec, flpe_root, rid)
        except ConfluenceError:
            out["unreadable"] += 1
            continue
        if res is None:
            out["missing"] += 1
        elif res.valid:
            out["valid"] += 1
        else:
            out["flagged"] += 1
            why = (res.reason or "no reason given").replace(str(int(rid)), "{reach}")
            reasons[why] = reasons.get(why, 0) + 1
    out["reasons"] = dict(sorted(reasons.items(), key=lambda kv: -kv[1]))
    return out
