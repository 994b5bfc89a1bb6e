"""Read a basin's SWORD topology, SoS priors, FLPE results and time axes; write ``{reach}_integrator.nc``.

Inputs (contracts.md sections 4, 7, 8, 9):

- ``input/sword/{sword}``: ``reaches`` group (reach_id, rch_id_up, rch_id_dn,
  facc, dist_out) through ``confluence_core.sword.read_reaches``.  Required.
- ``input/sos/{sos}``: ``reaches/reach_id``, ``model/mean_q`` and the optional
  ``model/overwritten_indexes`` (1 where a gauge replaced the model value).
  Optional: without it the integration uses the FLPE results alone.
- ``flpe/<algo>/...``: each algorithm's per-reach file, read only through
  ``confluence_core.flpe.read_result`` (the table ``flpe_outputs.toml``).
- ``input/swot/{swot}``: only the length of its ``nt`` dimension, the time axis
  of the output (falls back to the FLPE series length).

Output: ``moi/{reach_id}_integrator.nc`` in the layout of the public
workflow's file (``reference_outputs/moi``): root dimension and int32
variable ``nt`` (units "time steps", no fill), one group per algorithm with
``q[nt]``, the algorithm's parameter scalars, ``qbar_reachScale`` and
``qbar_basinScale`` (float64, fill -999999999999).
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from confluence_core import ncio, sword
from confluence_core.errors import InputError

log = logging.getLogger("confluence-moi")

#: Attributes of the output variables (the reference file has only ``_FillValue``: these are ours).
Q_ATTRS = {"units": "m^3/s", "long_name": "discharge scaled to the integrated mean flow"}
QBAR_ATTRS = {
    "qbar_reachScale": {"units": "m^3/s", "long_name": "the algorithm's mean flow of this reach (before integration)"},
    "qbar_basinScale": {"units": "m^3/s", "long_name": "mean flow after integration over the basin network"},
}


@dataclass
class Priors:
    """SoS model mean flow per requested reach (NaN where absent) and whether a gauge overwrote it."""

    mean_q: np.ndarray
    gauged: np.ndarray


@dataclass
class GroupOut:
    """One algorithm's group of an integrator file."""

    name: str
    q: np.ndarray  # [nt], NaN = fill
    params: dict[str, float] = field(default_factory=dict)
    qbar_reach: float = float("nan")
    qbar_basin: float = float("nan")
    attrs: dict[str, Any] = field(default_factory=dict)


def read_topology(path: Path) -> sword.Reaches:
    """The SWORD reach table; a missing or unreadable file is an :class:`InputError`."""
    return sword.read_reaches(path)


def read_priors(path: Path, reach_id: np.ndarray) -> Priors:
    """SoS ``model/mean_q`` (m3/s) for ``reach_id``; all NaN (with a warning) when the file is absent.

    Raises
    ------
    InputError
        When the file exists but is not readable NetCDF or has no ``reaches/reach_id``.
    """
    n = reach_id.size
    empty = Priors(np.full(n, np.nan), np.zeros(n, dtype=bool))
    if not path.exists():
        log.warning("%s: file not found; integrating without SoS priors", path)
        return empty
    with ncio.open_dataset(path) as ds:
        ids = ncio.read_int(ncio.get_group(ds, "reaches"), "reach_id")
        if ids is None:
            raise InputError("no reaches/reach_id: not a SoS file", path)
        model = ncio.get_group(ds, "model")
        mean_q = ncio.read_float(model, "mean_q")
        over = ncio.read_int(model, "overwritten_indexes")
    if mean_q is None:
        log.warning("%s: no model/mean_q; integrating without SoS priors", path)
        return empty
    ids = np.asarray(ids, dtype=np.int64)
    order = np.argsort(ids)
    pos = np.clip(np.searchsorted(ids[order], reach_id), 0, max(ids.size - 1, 0))
    found = ids[order][pos] == reach_id if ids.size else np.zeros(n, bool)
    row = order[pos]
    q = np.where(found, mean_q[row], np.nan)
    gauged = found & (np.asarray(over)[row] == 1) if over is not None else np.zeros(n, dtype=bool)
    return Priors(q, gauged)


def swot_nt(path: Path) -> int | None:
    """Length of the ``nt`` dimension of a reach's SWOT file, None when the file is absent or has none."""
    if not path.exists():
        return None
    with ncio.open_dataset(path) as ds:
        return len(ds.dimensions["nt"]) if "nt" in ds.dimensions else None


def write_integrator(path: Path, nt: int, groups: Sequence[GroupOut], attrs: Mapping[str, Any]) -> Path:
    """Write ``{reach}_integrator.nc`` atomically (groups in the given order)."""
    stamp = _dt.datetime.now(_dt.UTC).strftime("%d-%b-%Y %H:%M:%S")
    with ncio.create(path, production_date=stamp, **attrs) as ds:
        ds.createDimension("nt", nt)
        ncio.write_var(ds, "nt", np.arange(nt, dtype=np.int32), ("nt",), "i4", fill=None,
                       attrs={"units": "time steps"})
        for g in groups:
            grp = ds.createGroup(g.name)
            if g.attrs:
                grp.setncatts(dict(g.attrs))
            ncio.write_var(grp, "q", np.asarray(g.q, dtype=np.float64), ("nt",), attrs=Q_ATTRS)
            for name, value in g.params.items():
                ncio.write_var(grp, name, np.float64(value), ())
            ncio.write_var(grp, "qbar_reachScale", np.float64(g.qbar_reach), (), attrs=QBAR_ATTRS["qbar_reachScale"])
            ncio.write_var(grp, "qbar_basinScale", np.float64(g.qbar_basin), (), attrs=QBAR_ATTRS["qbar_basinScale"])
    return path
