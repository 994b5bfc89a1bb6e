"""Reading and writing for the priors module: the SoS, SWOT observations, S3.

SoS layout: :mod:`confluence_core.sos`. On top of it this module writes one
group of its own, ``model_original`` (dimension ``num_model_original_reaches``
at the root): ``reach_id`` and, for every reach a constrained run ever
replaced, the ``model`` values (:data:`~confluence_core.sos.MODEL_Q_VARS`,
``overwritten_indexes``, ``overwritten_source``) as they were before the
first replacement (see :mod:`confluence_priors.constrain`).

A new SoS version is written whole through :func:`confluence_core.ncio.create`
(a reader sees the old file or the complete new one). Everything the module
does not recompute (reaches, nodes, the other ``model`` variables, unknown
groups and attributes) is copied unchanged.

Versions
    ``product_version`` (text, ``"0001"``) is raised by one, keeping its width.
    Before ``input/sos/{name}`` is replaced, the previous file is kept as
    ``input/sos/versions/{old_version}/{name}`` (never overwritten). In S3 a
    version lives at ``{prefix}/{version}/{name}``; the current SoS is the
    highest such version, else ``{prefix}/{name}``.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import netCDF4
import numpy as np
from confluence_core import ncio, s3
from confluence_core.atomic import atomic_path
from confluence_core.errors import InputError
from confluence_core.fill import INT_FILL
from confluence_core.sos import (
    EXCEEDANCE,
    MODEL_Q_VARS,
    MONTH_DIM,
    N_MONTHS,
    NODE_DIM,
    PROB_DIM,
    REACH_DIM,
    agency_days_dim,
    agency_dim,
)

from .constrain import ModelState
from .sources import GaugeSeries
from .stats import GaugeStats

LOG = logging.getLogger("confluence-priors")

REQUIRED_GROUPS = ("reaches", "nodes", "model")
ORIGINAL_GROUP = "model_original"
ORIGINAL_DIM = "num_model_original_reaches"
GB_GROUP = "gbpriors"
VERSION_WIDTH = 4
_MODEL_DIMS = {"monthly_q": (REACH_DIM, MONTH_DIM), "flow_duration_q": (REACH_DIM, PROB_DIM)}
_STAT_SUFFIXES = MODEL_Q_VARS


# --- SoS reading -----------------------------------------------------------------------------

@dataclass
class Sos:
    """What the priors module needs from an SoS file."""

    path: Path
    attrs: dict[str, Any]
    reach_id: np.ndarray  # int64 [num_reaches]
    node_id: np.ndarray  # int64 [num_nodes]
    node_reach_id: np.ndarray  # int64 [num_nodes]
    model: ModelState
    original: ModelState | None
    gauges: list[GaugeSeries] = field(default_factory=list)
    gauge_cal: dict[tuple[str, str], int] = field(default_factory=dict)
    agencies: list[str] = field(default_factory=list)

    @property
    def version(self) -> str:
        return str(self.attrs.get("product_version", "0000"))


def next_version(version: str, where: Path | str) -> str:
    """``"0001"`` -> ``"0002"`` (the width of the text is kept, at least 4 digits)."""
    text = str(version).strip()
    if not text.isdigit():
        raise InputError(f"product_version {version!r} is not a number", where)
    return str(int(text) + 1).zfill(max(len(text), VERSION_WIDTH))


def _req_var(group: Any, gpath: str, name: str, path: Path) -> Any:
    if not ncio.has_var(group, name):
        raise InputError(f"SoS group '{gpath}' has no variable '{name}'", path)
    return group.variables[name]


def _ids(group: Any, name: str) -> np.ndarray:
    var = group.variables[name]
    if var.dtype == str or var.dtype.kind in "SU" or var.dtype == "S1":
        texts = cast(np.ndarray, ncio.read_strings(group, name))  # present: read above
        return np.asarray([int(v) for v in texts], dtype=np.int64)
    return np.asarray(var[...], dtype=np.int64)


def _texts(group: Any, name: str, n: int, default: str = "") -> np.ndarray:
    if not ncio.has_var(group, name):
        return np.full(n, default, dtype=object)
    var = group.variables[name]
    if var.dtype != str and var.dtype.kind in "iuf":
        return np.asarray([str(int(v)) for v in np.asarray(var[...]).ravel()], dtype=object)
    vals = cast(np.ndarray, ncio.read_strings(group, name))  # present: has_var above
    return np.asarray(["" if v in ("no_data", "n") else v for v in vals], dtype=object)


def _model_state(group: Any, gpath: str, reach_id: np.ndarray, path: Path) -> ModelState:
    n = reach_id.size
    values = {}
    for name in MODEL_Q_VARS:
        var = _req_var(group, gpath, name, path)
        values[name] = cast(np.ndarray, ncio.read_float(group, name)).reshape(n, *var.shape[1:])  # present
    ow = ncio.read_int(group, "overwritten_indexes")
    ow = np.zeros(n, dtype=np.int64) if ow is None else np.asarray(ow, dtype=np.int64).reshape(n)
    return ModelState(reach_id, values, ow, _texts(group, "overwritten_source", n))


def read_sos(path: str | Path) -> Sos:
    """Read an SoS priors file (reaches, nodes, model, preserved originals, gauge groups).

    Raises
    ------
    InputError
        Missing or unreadable file, a missing required group (named) or variable.
    """
    path = Path(path)
    with ncio.open_dataset(path) as ds:
        for g in REQUIRED_GROUPS:
            if g not in ds.groups:
                raise InputError(f"SoS has no group '{g}' (needs {', '.join(REQUIRED_GROUPS)})", path)
        reaches, nodes, model = (ds.groups[g] for g in REQUIRED_GROUPS)
        _req_var(reaches, "reaches", "reach_id", path)
        _req_var(nodes, "nodes", "node_id", path)
        reach_id = _ids(reaches, "reach_id")
        node_id = _ids(nodes, "node_id")
        node_reach = _ids(nodes, "reach_id") if ncio.has_var(nodes, "reach_id") else \
            np.asarray([int(str(n)[:10] + str(n)[-1]) for n in node_id], dtype=np.int64)
        state = _model_state(model, "model", reach_id, path)
        original = None
        if ORIGINAL_GROUP in ds.groups:
            og = ds.groups[ORIGINAL_GROUP]
            _req_var(og, ORIGINAL_GROUP, "reach_id", path)
            original = _model_state(og, ORIGINAL_GROUP, _ids(og, "reach_id"), path)
        attrs = {k: ds.getncattr(k) for k in ds.ncattrs()}
        agencies = agency_names(ds, path)
        gauges, cal = [], {}
        for agency in agencies:
            for series, c in _read_agency(ds.groups[agency], agency, path):
                gauges.append(series)
                cal[series.key] = c
    return Sos(path, attrs, reach_id, node_id, node_reach, state, original, gauges, cal, agencies)


def agency_names(ds: netCDF4.Dataset, path: Path) -> list[str]:
    """Agencies of the SoS: the ``gauge_agency`` attribute plus any group holding ``{A}_reach_id``."""
    listed = [a.strip() for a in str(getattr(ds, "gauge_agency", "")).replace(",", ";").split(";") if a.strip()]
    for a in listed:
        if a not in ds.groups:
            raise InputError(f"SoS lists gauge agency '{a}' but has no group '{a}'", path)
    found = [g for g in ds.groups if ncio.has_var(ds.groups[g], f"{g}_reach_id")]
    return list(dict.fromkeys(listed + found))


def _read_agency(group: Any, a: str, path: Path) -> Iterable[tuple[GaugeSeries, int]]:
    for suffix in ("reach_id", "id", "q", "qt"):
        _req_var(group, a, f"{a}_{suffix}", path)
    reach = _ids(group, f"{a}_reach_id")
    n = reach.size
    site = _texts(group, f"{a}_id", n)
    if n == 0:
        return
    # present: _req_var above
    q = cast(np.ndarray, ncio.read_float(group, f"{a}_q")).reshape(n, -1)
    qt = cast(np.ndarray, ncio.read_float(group, f"{a}_qt"))
    qt = np.broadcast_to(qt, q.shape) if qt.ndim == 1 else qt.reshape(n, -1)
    cal = ncio.read_int(group, f"{a}_CAL")
    if cal is None:  # the published SoS (PO.DAAC) names it CAL inside the agency's group
        cal = ncio.read_int(group, "CAL")
    cal = np.zeros(n, dtype=np.int64) if cal is None else np.asarray(cal).reshape(n)
    for g in range(n):
        ok = np.isfinite(qt[g])
        days = qt[g][ok].astype(np.int64)
        order = np.argsort(days, kind="stable")
        yield GaugeSeries(a, str(site[g]), int(reach[g]), days[order], q[g][ok][order], int(cal[g]),
                          f"SoS {a}"), int(cal[g])


# --- SWOT observations ----------------------------------------------------------------------

@dataclass
class SwotObs:
    """Observations of one reach from ``{reach_id}_SWOT.nc`` (m, m/m, m2; NaN missing)."""

    width: np.ndarray  # [nt]
    slope: np.ndarray  # [nt]
    width_u: np.ndarray | None
    slope_u: np.ndarray | None
    d_x_area_u: np.ndarray | None
    node_id: np.ndarray  # [nx]
    node_width: np.ndarray  # [nx, nt]
    node_width_u: np.ndarray | None


def read_swot(path: str | Path) -> SwotObs:
    """Read widths, slopes and their uncertainties; ``slope2`` stands in for an absent ``slope``."""
    path = Path(path)
    with ncio.open_dataset(path) as ds:
        reach, node = ncio.get_group(ds, "reach"), ncio.get_group(ds, "node")
        if reach is None:
            raise InputError("SWOT file has no group 'reach'", path)
        width = ncio.read_float(reach, "width")
        if width is None:
            raise InputError("SWOT file has no reach width", path)
        slope = ncio.read_float(reach, "slope", ncio.read_float(reach, "slope2"))
        slope_u = ncio.read_float(reach, "slope_u", ncio.read_float(reach, "slope2_u"))
        nt = width.size
        node_id = np.asarray(node.variables["node_id"][...], dtype=np.int64).ravel() \
            if ncio.has_var(node, "node_id") else np.zeros(0, dtype=np.int64)
        node_width = ncio.read_float(node, "width", np.full((node_id.size, nt), np.nan))
        return SwotObs(
            width=width.ravel(), slope=np.full(nt, np.nan) if slope is None else slope.ravel(),
            width_u=ncio.read_float(reach, "width_u"), slope_u=slope_u,
            d_x_area_u=ncio.read_float(reach, "d_x_area_u"),
            node_id=node_id, node_width=node_width.reshape(node_id.size, nt),  # nt: a file may have no nodes
            node_width_u=ncio.read_float(node, "width_u"),
        )


# --- SoS writing ----------------------------------------------------------------------------

@dataclass
class AgencyTable:
    """The gauges of one agency as written to its SoS group."""

    agency: str
    series: list[GaugeSeries]
    stats: list[GaugeStats]
    cal: list[int]


@dataclass
class SosUpdate:
    """What a priors run changes in the SoS."""

    version: str
    model: ModelState | None = None  # None: ``model`` copied unchanged
    original: ModelState | None = None  # None: no ``model_original`` group
    gbpriors: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # "reach"/"node"
    agencies: list[AgencyTable] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)
    #: Other ``model`` variables on the reach dimension to (re)write: name -> (values, attributes);
    #: float, int or text (object) values.
    model_vars: dict[str, tuple[np.ndarray, dict[str, Any]]] = field(default_factory=dict)
    #: Attributes to add to ``model`` variables (e.g. ``mean_q``) after they are written.
    model_attrs: dict[str, dict[str, Any]] = field(default_factory=dict)


def read_model_var(path: str | Path, name: str) -> np.ndarray | None:
    """One ``model`` variable of an SoS (float, or text as objects); None when absent."""
    with ncio.open_dataset(path) as ds:
        model = ncio.get_group(ds, "model")
        if not ncio.has_var(model, name):
            return None
        var = model.variables[name]
        if var.dtype == str or var.dtype.kind in "SU" or var.dtype == "S1":
            return np.asarray(ncio.read_strings(model, name), dtype=object)
        return ncio.read_float(model, name)


def write_sos(src: str | Path, dest: str | Path, update: SosUpdate) -> Path:
    """Write a new SoS at ``dest``: ``src`` copied, with the groups of ``update`` rewritten.

    ``src`` may be ``dest`` itself: the new file replaces it atomically.
    """
    src, dest = Path(src), Path(dest)
    with ncio.open_dataset(src) as old:
        old_agencies = agency_names(old, src)
        new_agencies = [t.agency for t in update.agencies]
        rewritten = set(old_agencies) | set(new_agencies) | {ORIGINAL_GROUP, GB_GROUP}
        redefined = {d for a in rewritten for d in (agency_dim(a), agency_days_dim(a))} | {ORIGINAL_DIM}
        with ncio.create(dest) as new:
            attrs = {k: old.getncattr(k) for k in old.ncattrs()}
            attrs.update(update.attrs, product_version=update.version,
                         gauge_agency=";".join(new_agencies))
            new.setncatts(attrs)
            model_vars = {*MODEL_Q_VARS, "overwritten_indexes", "overwritten_source"} if update.model else set()
            model_vars |= set(update.model_vars)
            ncio.copy_group(old, new, attrs=False, skip_dims=redefined,
                            skip=rewritten | {f"model/{v}" for v in model_vars})
            _ensure_dim(new, MONTH_DIM, N_MONTHS)
            _ensure_dim(new, PROB_DIM, len(EXCEEDANCE))
            if update.model is not None:
                _write_model(new.groups["model"], old.groups["model"], update.model, "model")
            if update.original is not None and update.original.reach_id.size:
                new.createDimension(ORIGINAL_DIM, update.original.reach_id.size)
                og = new.createGroup(ORIGINAL_GROUP)
                og.setncatts({"description": "model values before the first gauge replacement "
                              "(constrained runs), one row per replaced reach"})
                ncio.write_var(og, "reach_id", update.original.reach_id, (ORIGINAL_DIM,), "i8", fill=None)
                _write_model(og, None, update.original, ORIGINAL_GROUP, dim=ORIGINAL_DIM)
            _write_model_extra(new.groups["model"], old.groups["model"], update)
            _write_gbpriors(new, old, update.gbpriors)
            for table in update.agencies:
                _write_agency(new, table)
    return dest


def _write_model_extra(group: Any, old: Any, update: SosUpdate) -> None:
    """``update.model_vars`` (reach dimension) and ``update.model_attrs`` into the new ``model`` group."""
    for name, (values, attrs) in update.model_vars.items():
        arr = np.asarray(values)
        if arr.dtype == object:
            _write_text(group, name, arr, (REACH_DIM,), old)
        else:
            kind = "i4" if arr.dtype.kind in "iu" else "f8"
            ncio.write_var(group, name, arr, (REACH_DIM,), kind, attrs={**_attrs_of(old, name), **attrs})
        if arr.dtype == object and attrs:
            group.variables[name].setncatts(attrs)
    for name, attrs in update.model_attrs.items():
        if ncio.has_var(group, name):
            group.variables[name].setncatts(attrs)


def _ensure_dim(ds: netCDF4.Dataset, name: str, size: int) -> None:
    if name not in ds.dimensions:
        ds.createDimension(name, size)


def _attrs_of(old: Any, name: str) -> dict[str, Any]:
    if not ncio.has_var(old, name):
        return {}
    var = old.variables[name]
    return {k: var.getncattr(k) for k in var.ncattrs() if k != "_FillValue"}


def _write_text(group: Any, name: str, values: np.ndarray, dims: tuple[str, ...], old: Any = None) -> None:
    attrs = _attrs_of(old, name)
    if ncio.has_var(old, name) and old.variables[name].dtype == "S1":
        var = old.variables[name]
        char_dim = var.dimensions[-1]
        _ensure_dim(group, char_dim, len(var.get_dims()[-1]))
        ncio.write_strings(group, name, [str(v) for v in values], dims, char_dim=char_dim, attrs=attrs)
        return
    var = group.createVariable(name, str, dims)
    var.setncatts(attrs)
    if len(values):
        var[:] = np.asarray([str(v) for v in values], dtype=object)


def _write_model(group: Any, old: Any, state: ModelState, gpath: str, dim: str = REACH_DIM) -> None:
    for name in MODEL_Q_VARS:
        dims: tuple[str, ...] = _MODEL_DIMS.get(name, (REACH_DIM,))
        if ncio.has_var(old, name):
            dims = old.variables[name].dimensions
        dims = (dim, *dims[1:])
        ncio.write_var(group, name, state.values[name], dims, "f8",
                       attrs=_attrs_of(old, name) or {"units": "m^3/s"})
    ncio.write_var(group, "overwritten_indexes", state.overwritten_indexes, (dim,), "i4",
                   attrs=_attrs_of(old, "overwritten_indexes") or
                   {"description": "1 where gauge statistics replaced the model values"})
    _write_text(group, "overwritten_source", state.overwritten_source, (dim,), old)
    LOG.debug("wrote %s (%d reaches)", gpath, state.reach_id.size)


def _write_gbpriors(new: netCDF4.Dataset, old: netCDF4.Dataset, priors: Mapping[str, Mapping[str, np.ndarray]]) -> None:
    old_gb = ncio.get_group(old, GB_GROUP)
    if not priors:
        if old_gb is not None:
            ncio.copy_group(old_gb, new.createGroup(GB_GROUP))
        return
    gb = new.createGroup(GB_GROUP)
    if old_gb is not None:
        gb.setncatts({k: old_gb.getncattr(k) for k in old_gb.ncattrs()})
    for level, dim in (("reach", REACH_DIM), ("node", NODE_DIM)):
        values = priors.get(level)
        if values is None:
            continue
        grp = gb.createGroup(level)
        old_level = ncio.get_group(old, f"{GB_GROUP}/{level}")
        for name, arr in values.items():
            if name == "river_type":
                arr = np.where(np.isfinite(arr) & (arr > 0), arr, INT_FILL).astype(np.int32)
            ncio.write_var(grp, name, arr, (dim,), "i4" if name == "river_type" else "f8",
                           attrs=_attrs_of(old_level, name))


def _write_agency(new: netCDF4.Dataset, table: AgencyTable) -> None:
    a, n = table.agency, len(table.series)
    days = max([1, *(s.qt.size for s in table.series)])
    new.createDimension(agency_dim(a), n)
    new.createDimension(agency_days_dim(a), days)
    g = new.createGroup(a)
    gd, dd = agency_dim(a), agency_days_dim(a)
    q = np.full((n, days), np.nan)
    qt = np.full((n, days), np.nan)
    for i, s in enumerate(table.series):
        q[i, :s.q.size] = s.q
        qt[i, :s.qt.size] = s.qt
    ncio.write_var(g, f"{a}_reach_id", [s.reach_id for s in table.series], (gd,), "i8", fill=None)
    _write_text(g, f"{a}_id", np.asarray([s.site for s in table.series], dtype=object), (gd,))
    ncio.write_var(g, f"{a}_q", q, (gd, dd), attrs={"units": "m^3/s"})
    ncio.write_var(g, f"{a}_qt", qt, (gd, dd), attrs={"units": "days since 0001-01-01",
                                                      "calendar": "proleptic_gregorian"})
    for name in _STAT_SUFFIXES:
        dims = {"monthly_q": (gd, MONTH_DIM), "flow_duration_q": (gd, PROB_DIM)}.get(name, (gd,))
        vals = np.asarray([st.as_dict()[name] for st in table.stats], dtype=np.float64)
        if n == 0:
            vals = vals.reshape((0, *[len(new.dimensions[d]) for d in dims[1:]]))
        ncio.write_var(g, f"{a}_{name}", vals, dims, attrs={"units": "m^3/s"})
    ncio.write_var(g, f"{a}_CAL", table.cal, (gd,), "i4",
                   attrs={"description": "1 calibration gauge, 0 validation gauge"})


# --- versions on disk and in S3 --------------------------------------------------------------

def backup_previous(src: Path, sos_dir: Path, name: str, version: str) -> Path:
    """Keep ``src`` as ``sos_dir/versions/{version}/{name}`` (an existing copy is never replaced)."""
    dest = sos_dir / "versions" / version / name
    if dest.exists():
        LOG.info("previous SoS version %s already kept at %s", version, dest)
        return dest
    with atomic_path(dest) as tmp:
        shutil.copyfile(src, tmp)
    LOG.info("kept previous SoS version %s at %s", version, dest)
    return dest


_VERSION_RE = re.compile(r"^\d{4,}$")
#: What an SoS key holds, in the "never written over" message.
SOS_OBJECT = "an SoS version"


def versioned_key(prefix: str, version: str, name: str) -> str:
    """S3 key of an SoS version: ``{prefix}/{version}/{name}``."""
    return s3.join_key(prefix, version, name)


def latest_sos_key(client: Any, bucket: str, prefix: str, name: str) -> str:
    """The key of the newest SoS under ``prefix``: highest ``{prefix}/{version}/{name}``, else ``{prefix}/{name}``."""
    base = s3.join_key(prefix, name)
    best: tuple[int, str] | None = None
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=s3.join_key(prefix) + "/" if prefix else ""):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            rest = key[len(s3.join_key(prefix)) + 1:] if prefix else key
            parts = rest.split("/")
            if len(parts) == 2 and parts[1] == name and _VERSION_RE.match(parts[0]):
                cand = (int(parts[0]), key)
                best = cand if best is None or cand > best else best
    return best[1] if best else base


def download_sos(client: Any, bucket: str, prefix: str, name: str, dest: Path) -> str:
    """Download the newest SoS under ``s3://bucket/prefix`` to ``dest``; return its key."""
    key = latest_sos_key(client, bucket, prefix, name)
    s3.download(client, bucket, key, dest)
    return key


def upload_sos(client: Any, path: Path, bucket: str, key: str) -> str:
    """Upload ``path`` to ``s3://bucket/key``, never over an existing object."""
    s3.upload(client, path, bucket, key, SOS_OBJECT)
    return key
