"""Read FLPE / MOI results and SoS flow bounds; write the diagnostics files.

Inputs (contracts.md sections 8 and 9):

- FLPE results through ``confluence_core.flpe`` (``flpe_outputs.toml``): no
  algorithm is imported, a new algorithm in the table is checked with no change here.
- ``moi/{reach_id}_integrator.nc``: one group per algorithm (the table's ``moi``
  name) holding ``q[nt]`` (m3/s), flow-law parameter scalars, ``qbar_reachScale``
  and ``qbar_basinScale``.
- ``input/sos/{c}_sword_v{N}_SOS_priors.nc``: ``reaches/reach_id`` and
  ``model/min_q``, ``model/max_q`` (m3/s), the prior flow bounds.

Outputs, written whole or not at all (``ncio.create``), in the layout of the
public workflow's ``{reach}_flpe_diag.nc`` / ``{reach}_moi_diag.nc``: root
attribute ``reach_id`` (int64), dimension ``num_algos``, variables
``num_algos`` (int32 1..n), ``algo_names`` (str), ``realism_flags``,
``stability_flags`` and (MOI) ``prepost_flags`` (int32, fill -999, meanings in
``flag_values`` / ``flag_meanings``), then ours: ``realism_reasons`` (str) and
the means and relative changes behind the flags (float64, fill -999999999999).
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from confluence_core import flpe, integrator, ncio
from confluence_core.errors import InputError

from .checks import FLAGGED, NO_REFERENCE, NO_RESULT, PASS

log = logging.getLogger("confluence-postdiagnostics")

@dataclass
class Result:
    """One algorithm's discharge (m3/s, NaN where missing) and flow-law parameters for one reach."""

    q: np.ndarray
    params: dict[str, float] = field(default_factory=dict)
    valid: bool = True


def diag_name(spec: flpe.FlpeOutput) -> str:
    """Name of an algorithm in ``algo_names``: its MOI/public name (``geobam`` for neobam), else its table name."""
    return spec.moi or spec.name


def read_flpe(spec: flpe.FlpeOutput, flpe_root: Path, reach_id: int) -> Result | None:
    """Read one algorithm's result for a reach by the output contract; None when it wrote no file.

    Raises
    ------
    InputError
        When the file exists but cannot be read as that algorithm's result.
    """
    path = spec.path(flpe_root, reach_id)
    try:
        res = flpe.read_result(spec, flpe_root, reach_id)
    except InputError:
        raise
    except (OSError, RuntimeError, IndexError, KeyError, ValueError) as exc:
        raise InputError(f"cannot read {spec.name} results ({type(exc).__name__}: {exc})", path) from None
    if res is None:
        return None
    return Result(q=res.q, params=dict(res.params), valid=res.valid)


def read_integrator(path: Path) -> dict[str, Result] | None:
    """MOI group name -> integrated ``q`` and flow-law parameters; None when the file is absent.

    Read by :func:`confluence_core.integrator.read_integrator`; the mean flows
    (``qbar_reachScale``, ``qbar_basinScale``) are not flow-law parameters and are left out.

    Raises
    ------
    InputError
        When the file exists but is not a readable integrator file.
    """
    groups = integrator.read_integrator(path)
    if groups is None:
        return None
    return {name: Result(q=g.q, params=g.flow_law) for name, g in groups.items()}


def read_bounds(sos_path: Path | None, reach_ids: Sequence[int]) -> dict[int, tuple[float, float]]:
    """Prior flow bounds ``(min_q, max_q)`` (m3/s) per reach from the SoS ``model`` group.

    Tolerant: an absent or unreadable SoS, or a reach it does not hold, gives no
    entry (one log line) and the bound check is skipped for that reach.
    """
    if sos_path is None:
        return {}
    try:
        ids, lo, hi = _bounds_table(Path(sos_path))
    except (InputError, OSError, RuntimeError, KeyError) as exc:
        log.warning("%s: prior flow bounds not read (%s); bound checks skipped", sos_path,
                    getattr(exc, "reason", exc))
        return {}
    if ids is None or (lo is None and hi is None):
        log.warning("%s: no reaches/reach_id or model/min_q, max_q; bound checks skipped", sos_path)
        return {}
    ids = np.asarray(ids, dtype=np.int64).ravel()
    want = np.asarray(list(reach_ids), dtype=np.int64)
    order = np.argsort(ids)
    pos = np.clip(np.searchsorted(ids, want, sorter=order), 0, max(ids.size - 1, 0))
    rows = order[pos] if ids.size else np.zeros(0, dtype=np.int64)
    out = {}
    for rid, row in zip(want.tolist(), rows.tolist(), strict=False):
        if ids.size and ids[row] == rid:
            out[rid] = (float(lo[row]) if lo is not None else math.nan,
                        float(hi[row]) if hi is not None else math.nan)
        else:
            log.info("%s: reach %s not in the SoS; bound checks skipped", sos_path, rid)
    return out


BoundsTable = tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]


def _bounds_table(path: Path) -> BoundsTable:
    """SoS ``reaches/reach_id``, ``model/min_q`` and ``model/max_q`` (m3/s), each None when absent.

    Read once per process and file version (inode, size, modification time): the reaches of a grouped
    job share their continent's SoS.
    """
    try:
        stat = path.stat()
    except OSError:
        return _read_bounds_table(str(path))  # raises the reader's error, naming the file
    return _cached_bounds_table(str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _cached_bounds_table(path: str, _inode: int, _size: int, _mtime_ns: int) -> BoundsTable:
    return _read_bounds_table(path)


def clear_caches() -> None:
    """Forget the SoS tables read once per process (a job starts with none: its inputs are fixed while it runs)."""
    _cached_bounds_table.cache_clear()


def _read_bounds_table(path: str) -> BoundsTable:
    with ncio.open_dataset(path) as ds:
        ids = ncio.read_int(ncio.get_group(ds, "reaches"), "reach_id")
        model = ncio.get_group(ds, "model")
        return ids, ncio.read_float(model, "min_q"), ncio.read_float(model, "max_q")


#: Attributes of each flag variable: what it means and every value it takes.
FLAG_ATTRS: dict[str, dict[str, Any]] = {
    "realism_flags": {
        "long_name": "discharge and flow-law parameters physically realistic",
        "flag_values": np.array([PASS, FLAGGED], dtype=np.int32),
        "flag_meanings": "realistic unrealistic",
        "comment": "1: negative, infinite or no finite discharge, discharge outside the SoS model "
                   "[min_q/bounds_factor, max_q*bounds_factor], or a flow-law parameter outside its "
                   "physical range (see realism_reasons, global attribute parameter_ranges); "
                   "-999: the algorithm wrote no result for this reach.",
    },
    "stability_flags": {
        "long_name": "mean discharge stable against the previous run",
        "flag_values": np.array([PASS, FLAGGED, NO_REFERENCE], dtype=np.int32),
        "flag_meanings": "stable unstable no_reference",
        "comment": "1: |mean_q - previous_mean_q| / |previous_mean_q| > stability_threshold, or the "
                   "previous run had a flow and this one has none; 2: no previous result to compare "
                   "with (no previous run, no or unreadable previous file, no finite previous flow); "
                   "-999: the algorithm wrote no result for this reach.",
    },
    "prepost_flags": {
        "long_name": "mean discharge kept by the integration (MOI)",
        "flag_values": np.array([PASS, FLAGGED, NO_REFERENCE], dtype=np.int32),
        "flag_meanings": "consistent changed no_reference",
        "comment": "1: |mean integrated q - mean FLPE q| / |mean FLPE q| > prepost_threshold, or the "
                   "FLPE result has a flow and the integrated one none; 2: no FLPE result to compare "
                   "with; -999: no integrated result for this reach.",
    },
}

#: Our extra float variables: name -> attributes.
EXTRA_ATTRS: dict[str, dict[str, str]] = {
    "mean_q": {"long_name": "mean of the finite discharge of this run", "units": "m^3/s"},
    "previous_mean_q": {"long_name": "mean of the finite discharge of the previous run", "units": "m^3/s"},
    "stability_rel_change": {"long_name": "relative change of mean_q from previous_mean_q", "units": "1"},
    "flpe_mean_q": {"long_name": "mean of the finite FLPE (pre-integration) discharge", "units": "m^3/s"},
    "prepost_rel_change": {"long_name": "relative change of mean_q from flpe_mean_q", "units": "1"},
}


def write_diag(path: Path, reach_id: int, names: Sequence[str], flags: Mapping[str, np.ndarray],
               reasons: Sequence[str], extras: Mapping[str, np.ndarray], attrs: Mapping[str, Any]) -> Path:
    """Write one diagnostics file (layout above) atomically and return its path."""
    n = len(names)
    path.parent.mkdir(parents=True, exist_ok=True)
    with ncio.create(path) as ds:
        ds.setncattr("reach_id", np.int64(reach_id))
        ds.setncatts(dict(attrs))
        ds.createDimension("num_algos", n)
        ncio.write_var(ds, "num_algos", np.arange(1, n + 1, dtype=np.int32), ("num_algos",), dtype="i4",
                       fill=None, attrs={"units": "number of algorithms"})
        ds.createVariable("algo_names", str, ("num_algos",))[:] = np.asarray(list(names), dtype=object)
        for name, values in flags.items():
            ncio.write_var(ds, name, np.asarray(values, dtype=np.int32), ("num_algos",), dtype="i4",
                           fill=NO_RESULT, attrs=FLAG_ATTRS[name])
        var = ds.createVariable("realism_reasons", str, ("num_algos",))
        var.setncatts({"long_name": "why realism_flags is not 0 ('' when realistic, 'no result' when absent)"})
        var[:] = np.asarray(list(reasons), dtype=object)
        for name, values in extras.items():
            ncio.write_var(ds, name, np.asarray(values, dtype=np.float64), ("num_algos",),
                           attrs=EXTRA_ATTRS[name])
    return path
