"""Read a reach's observations, MOI parameters, branch and consensus contributors; write ``{reach}_offline.nc``.

Inputs:

- ``input/swot/{reach_id}_SWOT.nc`` through the FLPE framework's reader
  (``confluence_flpe.io.read_swot``, the one the algorithms use: the same ``d_x_area``, computed
  from width and wse when the file has none);
- ``moi/{reach_id}_integrator.nc`` through ``confluence_core.integrator``: each algorithm's
  group (``moi`` name of its workflow row) with its integrated flow-law parameters;
- the SoS priors file's global attribute ``priors_constrained`` (1 when the priors step replaced
  model mean flows by gauge statistics: a gauge-constrained run);
- ``flpe/consensus/{reach_id}_consensus.nc``: its ``contributing_algos`` attribute.

Output ``offline/{reach_id}_offline.nc`` in the layout of the public workflow's file
(``reference_outputs/offline``): root attribute ``reach_id`` (int64), dimension ``nt``, variables
``nt`` (int32 ``YYYYMMDD`` of each pass, no fill attribute; -999 for a pass without a time),
``d_x_area``, ``d_x_area_u``, then ``{prefix}_q_c`` and ``{prefix}_q_uc`` (float64, m3/s, fill
-999999999999) for each ``offline`` prefix of the table; then ours: ``{prefix}_q_c_u`` and
``{prefix}_q_uc_u``, the random 1-sigma uncertainty of each algorithm's discharge.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from confluence_core import integrator, ncio
from confluence_core.errors import InputError

log = logging.getLogger("confluence-offline")

def read_integrator(path: Path) -> dict[str, integrator.IntegratorGroup] | None:
    """``{reach}_integrator.nc``: MOI group name -> its group (``confluence_core.integrator``)."""
    return integrator.read_integrator(path)


def read_branch(path: Path) -> str:
    """``constrained`` when the SoS priors file says its priors are gauge-constrained, else ``unconstrained``.

    A missing file or attribute is the unconstrained branch (the default of the workflow).  Each
    SoS file is opened once per process and file version (a grouped job's reaches share it).
    """
    if not path.exists():
        return "unconstrained"
    stat = path.stat()
    return _branch(str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _branch(path: str, _inode: int, _size: int, _mtime_ns: int) -> str:
    """:func:`read_branch` of one file version (inode, size and modification time are the cache key)."""
    with ncio.open_dataset(path) as ds:
        flag = ds.getncattr("priors_constrained") if "priors_constrained" in ds.ncattrs() else 0
    return "constrained" if int(np.ravel(flag)[0]) == 1 else "unconstrained"


def clear_caches() -> None:
    """Forget the files read once per process (a job starts with none: its inputs are fixed while it runs)."""
    _branch.cache_clear()


def read_contributing(path: Path) -> list[str] | None:
    """The consensus file's ``contributing_algos`` attribute as a list of names; None when unknown."""
    if not path.exists():
        return None
    try:
        with ncio.open_dataset(path) as ds:
            if "contributing_algos" not in ds.ncattrs():
                return None
            raw: Any = ds.getncattr("contributing_algos")
    except InputError as exc:
        log.warning("%s", exc)
        return None
    items = [raw] if isinstance(raw, str) else list(np.ravel(raw))
    return [n.strip() for item in items for n in str(item).replace(";", ",").split(",") if n.strip()]


Q_ATTRS = {
    "c": {"long_name": "discharge of the gauge-constrained run: the flow law with MOI's integrated parameters",
          "units": "m^3/s"},
    "uc": {"long_name": "discharge of the unconstrained run: the flow law with MOI's integrated parameters",
           "units": "m^3/s"},
}


def write_offline(path: Path, reach_id: int, dates: np.ndarray, dA: np.ndarray, dA_u: np.ndarray,
                  products: Mapping[str, Mapping[str, np.ndarray]], attrs: Mapping[str, Any],
                  var_attrs: Mapping[str, Mapping[str, Any]]) -> Path:
    """Write ``{reach_id}_offline.nc`` (layout in the module docstring) atomically.

    ``products`` maps an offline prefix to its series on ``nt`` (m3/s, NaN missing), keyed ``c``,
    ``uc`` and, where known, ``c_u``, ``uc_u``; ``var_attrs`` adds attributes (a fill's reason) by
    variable name.
    """
    nt = int(np.size(dates))
    path.parent.mkdir(parents=True, exist_ok=True)
    with ncio.create(path) as ds:
        ds.setncattr("reach_id", np.int64(reach_id))
        ds.setncatts(dict(attrs))
        ds.createDimension("nt", nt)
        ncio.write_var(ds, "nt", np.asarray(dates, dtype=np.int32), ("nt",), dtype="i4", fill=None,
                       attrs={"units": "time steps", "comment": "UTC date YYYYMMDD of each pass; -999 unknown"})
        ncio.write_var(ds, "d_x_area", dA, ("nt",), attrs={"long_name": "change in cross-sectional area",
                                                          "units": "m^2"})
        ncio.write_var(ds, "d_x_area_u", dA_u, ("nt",), attrs={"long_name": "uncertainty of d_x_area",
                                                              "units": "m^2"})
        for kind in ("c", "uc"):  # the reference layout: every _q_c, then every _q_uc
            for prefix, series in products.items():
                name = f"{prefix}_q_{kind}"
                ncio.write_var(ds, name, series[kind], ("nt",), attrs={**Q_ATTRS[kind], **var_attrs.get(name, {})})
        for kind in ("c", "uc"):
            for prefix, series in products.items():
                if f"{kind}_u" in series:
                    name = f"{prefix}_q_{kind}_u"
                    ncio.write_var(ds, name, series[f"{kind}_u"], ("nt",),
                                   attrs={"long_name": f"random 1-sigma uncertainty of {prefix}_q_{kind} "
                                                       "(first-order propagation of the observation errors)",
                                          "units": "m^3/s", **var_attrs.get(name, {})})
    return path
