"""Read a reach's SWOT file, FLPE results and MOI integrated series; write ``{reach}_offline.nc``.

Inputs:

- ``input/swot/{reach_id}_SWOT.nc`` group ``reach`` (contracts.md section 6):
  ``time``, ``d_x_area``, ``d_x_area_u``, ``width(_u)``, ``wse(_u)``, all optional
  but the group itself.
- unconstrained discharge: each FLPE algorithm's and the consensus' result,
  through ``confluence_core.flpe`` (``flpe_outputs.toml``; no algorithm imported);
- constrained discharge: ``moi/{reach_id}_integrator.nc``, group = the table's
  ``moi`` name, variable ``q[nt]``.

Output ``offline/{reach_id}_offline.nc`` in the layout of the public workflow's
file: root attribute ``reach_id`` (int64), dimension ``nt``, variables ``nt``
(int32 ``YYYYMMDD`` of each pass, no fill attribute; -999 for a pass without a
time), ``d_x_area``, ``d_x_area_u``, then ``{prefix}_q_c`` and ``{prefix}_q_uc``
(float64, m3/s, fill -999999999999) for each ``offline`` prefix of the table.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from confluence_core import flpe, integrator, ncio
from confluence_core.errors import InputError

log = logging.getLogger("confluence-offline")

SWOT_FIELDS = ("time", "d_x_area", "d_x_area_u", "width", "width_u", "wse", "wse_u")


@dataclass
class SwotReach:
    """The reach-level SWOT fields offline needs, fills as NaN, None when absent."""

    path: Path
    nt: int
    fields: dict[str, np.ndarray | None]


def read_swot(path: Path, reach_id: int) -> SwotReach:
    """Read ``{reach_id}_SWOT.nc``'s ``nt`` and reach fields.

    Raises
    ------
    InputError
        Missing or unreadable file, no ``reach`` group or ``nt`` dimension, another reach's file.
    """
    try:
        with ncio.open_dataset(path) as ds:
            grp = ncio.get_group(ds, "reach")
            if grp is None or "nt" not in ds.dimensions:
                raise InputError("no 'reach' group or 'nt' dimension: not a SWOT reach file", path)
            stored = ncio.read_int(grp, "reach_id")
            if stored is not None and np.size(stored) and int(np.ravel(stored)[0]) > 0 \
                    and int(np.ravel(stored)[0]) != reach_id:
                raise InputError(f"holds reach {int(np.ravel(stored)[0])}, not {reach_id}", path)
            nt = len(ds.dimensions["nt"])
            fields = {name: ncio.read_float(grp, name) for name in SWOT_FIELDS}
    except InputError:
        raise
    except (OSError, RuntimeError, IndexError, KeyError, ValueError) as exc:
        raise InputError(f"cannot read the reach group ({type(exc).__name__}: {exc})", path) from None
    for name, values in fields.items():
        if values is not None and values.shape != (nt,):
            log.warning("%s: reach/%s has shape %s, not (nt,) = (%d,); ignored", path, name, values.shape, nt)
            fields[name] = None
    return SwotReach(path=path, nt=nt, fields=fields)


def read_integrator(path: Path) -> dict[str, np.ndarray] | None:
    """``{reach}_integrator.nc``: MOI group name -> integrated ``q`` (m3/s); None when the file is absent.

    Read by :func:`confluence_core.integrator.read_integrator`.

    Raises
    ------
    InputError
        When the file exists but cannot be read.
    """
    groups = integrator.read_integrator(path)
    return None if groups is None else {name: g.q for name, g in groups.items()}


def read_flpe_q(spec: flpe.FlpeOutput, flpe_root: Path, reach_id: int) -> np.ndarray | None:
    """An algorithm's unconstrained discharge (m3/s) by the output contract; None when it wrote no file.

    Raises
    ------
    InputError
        When the file exists but cannot be read as that algorithm's result.
    """
    try:
        res = flpe.read_result(spec, flpe_root, reach_id)
    except InputError:
        raise
    except (OSError, RuntimeError, IndexError, KeyError, ValueError) as exc:
        raise InputError(f"cannot read {spec.name} results ({type(exc).__name__}: {exc})",
                         spec.path(flpe_root, reach_id)) from None
    return None if res is None else res.q


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
    "c": {"long_name": "discharge constrained by the basin integration (MOI)", "units": "m^3/s"},
    "uc": {"long_name": "unconstrained discharge of the flow-law algorithm (FLPE)", "units": "m^3/s"},
}


def write_offline(path: Path, reach_id: int, dates: np.ndarray, dA: np.ndarray, dA_u: np.ndarray,
                  products: Mapping[str, tuple[np.ndarray, np.ndarray]], attrs: Mapping[str, Any]) -> Path:
    """Write ``{reach_id}_offline.nc`` (layout in the module docstring) atomically.

    ``products`` maps an offline prefix to its ``(q_c, q_uc)`` series on ``nt`` (m3/s, NaN missing).
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
        for kind, index in (("c", 0), ("uc", 1)):
            for prefix, pair in products.items():
                ncio.write_var(ds, f"{prefix}_q_{kind}", pair[index], ("nt",), attrs=Q_ATTRS[kind])
    return path
