"""Read the SoS, the SWOT time axes and any module's per-reach file; write the results file.

Inputs (contracts.md sections 6, 8 and 9):

- ``input/sos/{c}_sword_v{N}_SOS_priors.nc``: groups ``reaches`` (reach_id ...)
  and ``nodes`` (node_id, reach_id ...) give the order of every results array.
- ``input/swot/{reach_id}_SWOT.nc``: ``reach/time`` (seconds since 2000-01-01)
  of each pass and ``node/node_id`` (the order of a reach's nodes in the
  per-reach files).
- Every module's per-reach file (:mod:`confluence_output.sources`), read
  generically: each variable of each group, whatever its name.

Output: ``output/{c}_sword_v{N}_SOS_results_{branch}.nc`` written whole through
``confluence_core.ncio.create`` (a reader sees the complete file or none).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import netCDF4
import numpy as np
from confluence_core import ncio
from confluence_core.errors import ConfluenceError, InputError
from confluence_core.fill import STR_FILL
from confluence_core.sos import NODE_DIM, REACH_DIM

from .gather import LABEL, PAD, TIME, TIME_DIM, Collector, Field, VarSpec, default_fill
from .sources import Layout, Source

log = logging.getLogger("confluence-output")

#: SoS groups copied whole into the results file.
SOS_GROUPS = ("reaches", "nodes")
#: Exceptions a damaged NetCDF file raises past its header.
READ_ERRORS = (OSError, RuntimeError, ValueError, IndexError, KeyError, TypeError)


# --- the SoS ------------------------------------------------------------------------------------


@dataclass
class Sos:
    """The SoS order: reach ids, node ids and the reach of each node."""

    path: Path
    reach_id: np.ndarray
    node_id: np.ndarray
    node_reach_id: np.ndarray
    product_version: str
    sword_version: str | None

    def __post_init__(self) -> None:
        self._node_order = np.argsort(self.node_id, kind="stable")
        self._node_sorted = self.node_id[self._node_order]
        self._by_reach = np.argsort(self.node_reach_id, kind="stable")
        self._reach_sorted = self.node_reach_id[self._by_reach]
        self.row_of = {int(r): i for i, r in enumerate(self.reach_id.tolist())}

    def node_rows(self, node_ids: np.ndarray) -> np.ndarray:
        """SoS row of each node id, -1 where the SoS has no such node."""
        ids = np.asarray(node_ids, dtype=np.int64).ravel()
        if self._node_sorted.size == 0:
            return np.full(ids.shape, -1, dtype=np.intp)
        pos = np.clip(np.searchsorted(self._node_sorted, ids), 0, self._node_sorted.size - 1)
        rows = self._node_order[pos]
        return np.where(self._node_sorted[pos] == ids, rows, -1).astype(np.intp)

    def nodes_of(self, reach_id: int) -> np.ndarray:
        """SoS rows of the reach's nodes, in SoS order."""
        lo, hi = np.searchsorted(self._reach_sorted, [reach_id, reach_id + 1])
        return np.sort(self._by_reach[lo:hi])


def read_sos(path: Path) -> Sos:
    """Read the reach and node order of the SoS.

    Raises
    ------
    InputError
        When the file is missing, unreadable, or has no ``reaches/reach_id``.
    """
    try:
        with ncio.open_dataset(path) as ds:
            reaches = ncio.get_group(ds, "reaches")
            if not ncio.has_var(reaches, "reach_id"):
                raise InputError("no reaches/reach_id: not an SoS file (contracts.md section 8)", path)
            reach_id = np.asarray(reaches["reach_id"][:], dtype=np.int64).ravel()
            nodes = ncio.get_group(ds, "nodes")
            if ncio.has_var(nodes, "node_id") and ncio.has_var(nodes, "reach_id"):
                node_id = np.asarray(nodes["node_id"][:], dtype=np.int64).ravel()
                node_reach = np.asarray(nodes["reach_id"][:], dtype=np.int64).ravel()
            else:
                log.warning("%s: no nodes/node_id and nodes/reach_id: node variables are left out", path)
                node_id = node_reach = np.zeros(0, dtype=np.int64)
            attrs = {k: ds.getncattr(k) for k in ds.ncattrs()}
    except ConfluenceError:
        raise
    except READ_ERRORS as exc:
        raise InputError(f"cannot read the SoS ({type(exc).__name__}: {exc})", path) from None
    sword = attrs.get("sword_version")
    return Sos(Path(path), reach_id, node_id, node_reach, str(attrs.get("product_version", "unknown")),
               None if sword is None else str(sword))


# --- SWOT time axis and node order ----------------------------------------------------------------


@dataclass
class SwotAxes:
    """A reach's pass times (raw, with their fill and attributes) and node order."""

    nt: int
    time: np.ndarray | None
    time_fill: Any
    time_attrs: dict[str, Any]
    node_id: np.ndarray | None


def read_swot_axes(path: Path) -> SwotAxes:
    """Read ``nt``, ``reach/time`` and ``node/node_id`` of a ``{reach_id}_SWOT.nc``.

    Raises
    ------
    InputError
        When the file is unreadable or has no ``nt`` dimension.
    """
    try:
        with ncio.open_dataset(path) as ds:
            ds.set_auto_maskandscale(False)
            if "nt" not in ds.dimensions:
                raise InputError("no root dimension 'nt': not a SWOT reach file", path)
            nt = len(ds.dimensions["nt"])
            reach = ncio.get_group(ds, "reach")
            time, fill, attrs = None, None, {}
            if ncio.has_var(reach, "time"):
                var = reach["time"]
                time = np.asarray(var[...]).ravel()
                fill = var.getncattr("_FillValue") if "_FillValue" in var.ncattrs() else None
                attrs = {k: var.getncattr(k) for k in var.ncattrs() if not k.startswith("_")}
            node = ncio.get_group(ds, "node")
            node_id = np.asarray(node["node_id"][:], dtype=np.int64).ravel() if ncio.has_var(node, "node_id") else None
    except ConfluenceError:
        raise
    except READ_ERRORS as exc:
        raise InputError(f"cannot read the SWOT file ({type(exc).__name__}: {exc})", path) from None
    return SwotAxes(nt, time, fill, attrs, node_id)


# --- any module's per-reach file ---------------------------------------------------------------------


def read_module_file(path: Path, source: Source, lay: Layout, reach_id: int) -> tuple[list[Field], list[str]]:
    """Read every variable of a per-reach file as :class:`Field` objects.

    Returns
    -------
    fields : list of Field
        One per carried variable (and one per numeric root attribute, such as ``valid``).
    dropped : list of str
        ``group/name: why`` of the variables that cannot be placed on the SoS.

    Raises
    ------
    InputError
        When the file is not readable NetCDF (the caller fills the reach and goes on).
    """
    try:
        with ncio.open_dataset(path) as ds:
            ds.set_auto_maskandscale(False)
            ds.set_auto_chartostring(False)
            return _FileReader(ds, source, lay, reach_id).fields()
    except ConfluenceError:
        raise
    except READ_ERRORS as exc:
        raise InputError(f"cannot read ({type(exc).__name__}: {exc})", path) from None


def _walk(group: Any, rel: str = "") -> list[tuple[str, Any]]:
    out = [(rel, group)]
    for sub in group.groups.values():
        out.extend(_walk(sub, f"{rel}/{sub.name}" if rel else sub.name))
    return out


def _is_text(var: netCDF4.Variable[Any]) -> bool:
    return var.dtype is str or (np.dtype(var.dtype).kind == "S" and var.ndim > 0)


def _unragged(values: np.ndarray, dtype: np.dtype, fill: Any) -> np.ndarray:
    """A variable-length array (object array of 1-D arrays) as a regular one with one more axis, padded."""
    rows = [np.asarray(v, dtype=dtype).ravel() for v in values.ravel()]
    width = max((r.size for r in rows), default=0)
    out = np.full((len(rows), width), fill, dtype=dtype)
    for i, r in enumerate(rows):
        out[i, :r.size] = r
    return out.reshape((*values.shape, width))


def _text_dims(var: netCDF4.Variable[Any]) -> tuple[str, ...]:
    """Dimensions of a text variable without the character dimension of an S1 array."""
    return tuple(var.dimensions) if var.dtype is str else tuple(var.dimensions[:-1])


class _FileReader:
    """Turns one open per-reach dataset into fields (see :func:`read_module_file`)."""

    def __init__(self, ds: netCDF4.Dataset, source: Source, lay: Layout, reach_id: int) -> None:
        self.ds, self.source, self.lay, self.reach_id = ds, source, lay, reach_id
        self.groups = _walk(ds)
        self.special = lay.time_dims | lay.node_dims | lay.set_dims
        self.labels: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.label_vars: set[tuple[str, str]] = set()
        self.node_ids: dict[str, np.ndarray] = {}
        self.dropped: list[str] = []
        self.set_row = self._set_row()
        self._find_axes()

    def _set_row(self) -> int | None:
        """Row of this reach on the set dimension (MetroMan ``nr``), None when there is none."""
        set_dims = [d for d in self.ds.dimensions if d in self.lay.set_dims]
        if not set_dims:
            return None
        var = self.ds.variables.get("reach_id")
        if var is not None and var.ndim == 1 and var.dimensions[0] in self.lay.set_dims:
            ids = np.asarray(var[:]).astype(np.int64)
            hits = np.flatnonzero(ids == self.reach_id)
            return int(hits[0]) if hits.size else None
        return 0 if len(self.ds.dimensions[set_dims[0]]) == 1 else None

    def _find_axes(self) -> None:
        """Label variables (text on one plain dimension) and node ids named by the file."""
        for rel, grp in self.groups:
            for var in grp.variables.values():
                if _is_text(var):
                    dims = _text_dims(var)
                    if len(dims) == 1 and dims[0] not in self.special and dims[0] not in self.labels:
                        values = cast(np.ndarray, ncio.read_strings(grp, var.name))  # var is in grp
                        self.labels[dims[0]] = (var.name, tuple(str(v) for v in values))
                        self.label_vars.add((rel, var.name))
                elif var.name == "node_id" and var.ndim == 1 and var.dimensions[0] in self.lay.node_dims:
                    self.node_ids[var.dimensions[0]] = np.asarray(var[:], dtype=np.int64)

    def fields(self) -> tuple[list[Field], list[str]]:
        out: list[Field] = []
        for rel, grp in self.groups:
            for var in grp.variables.values():
                if (rel, var.name) in self.label_vars:
                    continue
                fld = self._field(rel, grp, var)
                if fld is not None:
                    out.append(fld)
        out.extend(self._attr_fields())
        return out, self.dropped

    def _group(self, rel: str) -> str:
        return f"{self.source.group}/{rel}" if rel else self.source.group

    def _drop(self, rel: str, name: str, why: str) -> None:
        self.dropped.append(f"{self._group(rel)}/{name}: {why}")

    def _field(self, rel: str, grp: Any, var: netCDF4.Variable[Any]) -> Field | None:
        name = var.name
        dims = list(var.dimensions)
        if name in self.lay.skip or (len(dims) == 1 and dims[0] == name):
            return None  # the axes themselves, and index coordinates (nt, nr, num_algos ...)
        text = _is_text(var)
        if text:
            dims = list(_text_dims(var))
            values = np.asarray(ncio.read_strings(grp, name), dtype=object)
            fill = None
        else:
            values = np.asarray(var[...])
            fill = var.getncattr("_FillValue") if "_FillValue" in var.ncattrs() else None
            if isinstance(var.datatype, netCDF4.VLType):  # ragged: pad each row's values on a new dimension
                fill = default_fill(np.dtype(var.dtype)) if fill is None else fill
                values = _unragged(values, np.dtype(var.dtype), fill)
                dims.append(f"{name}_n")
        for i, d in reversed(list(enumerate(dims))):
            if d in self.lay.set_dims:
                if self.set_row is None:
                    self._drop(rel, name, f"reach {self.reach_id} is not a row of dimension {d}")
                    return None
                values = np.take(values, self.set_row, axis=i)
                del dims[i]
        node_axes = [i for i, d in enumerate(dims) if d in self.lay.node_dims]
        if len(node_axes) > 1:
            self._drop(rel, name, "more than one node dimension")
            return None
        node_ids = None
        if node_axes:
            node_dim = dims.pop(node_axes[0])
            values = np.moveaxis(values, node_axes[0], 0)
            axis = "node"
            node_ids = self.node_ids.get(node_dim)
        else:
            axis = "reach"
            values = values[np.newaxis, ...]
        if text and dims:
            if not all(d in self.lay.time_dims for d in dims):
                self._drop(rel, name, f"text on dimensions {tuple(dims)} is not carried")
            return None  # text on time (time_str): the results file has the numeric time
        out_dims, kinds = [], []
        labels: list[tuple[str, ...] | None] = []
        label_var: list[str | None] = []
        for d in dims:
            if d in self.lay.time_dims:
                out_dims.append(TIME_DIM)
                kinds.append(TIME)
                labels.append(None)
                label_var.append(None)
            elif d in self.labels:
                out_dims.append(d)
                kinds.append(LABEL)
                labels.append(self.labels[d][1])
                label_var.append(self.labels[d][0])
            else:
                out_dims.append(d)
                kinds.append(PAD)
                labels.append(None)
                label_var.append(None)
        attrs = {k: var.getncattr(k) for k in var.ncattrs() if not k.startswith("_")}
        return Field(self.source.group, self._group(rel), name, axis, tuple(out_dims), tuple(kinds), values,
                     tuple(labels), tuple(label_var), fill, attrs, node_ids)

    def _attr_fields(self) -> list[Field]:
        """Numeric scalar root attributes (``valid``, ``n_algos`` ...) as one value per reach."""
        out = []
        root_vars = set(self.ds.variables)
        for key in self.ds.ncattrs():
            value = self.ds.getncattr(key)
            if key in self.lay.skip or isinstance(value, str) or np.ndim(value) != 0:
                continue
            arr = np.asarray(value)
            if arr.dtype.kind not in "iufb":
                continue
            if arr.dtype.kind == "b":
                arr = arr.astype(np.int8)
            name = f"attr_{key}" if key in root_vars else key
            attrs = {"comment": f"global attribute {key!r} of the per-reach file {self.source.file}"}
            out.append(Field(self.source.group, self.source.group, name, "reach", (), (), arr.reshape(1),
                             attrs=attrs))
        return out


# --- destination checks -------------------------------------------------------------------------------


def check_writable(folder: Path) -> None:
    """Make sure files can be created in ``folder`` (created if absent).

    Raises
    ------
    ConfluenceError
        When the folder cannot be made or written to (read-only volume, a file in the way).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".confluence-output-probe.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ConfluenceError(f"results destination is not writable ({exc.strerror or exc})", folder) from None


# --- writing the results file ------------------------------------------------------------------------------


def _group_at(root: netCDF4.Dataset, path: str) -> Any:
    grp: Any = root
    for part in [p for p in path.split("/") if p]:
        grp = grp.groups[part] if part in grp.groups else grp.createGroup(part)
    return grp


def _copy_sos_groups(src: netCDF4.Dataset, dst: netCDF4.Dataset) -> None:
    """Copy the SoS ``reaches`` and ``nodes`` groups (every variable and attribute, raw values)."""
    for name in SOS_GROUPS:
        grp = ncio.get_group(src, name)
        if grp is not None:
            ncio.copy_group(grp, dst.createGroup(name), compress=True, default_attrs=_sos_attrs(name))


def _sos_attrs(group: str) -> Callable[[netCDF4.Variable[Any]], dict[str, str]]:
    """The default attributes of a variable copied from the SoS ``group``: a long_name."""
    return lambda var: {"long_name": f"{var.name} of the SoS {group} group"}


def _attrs_for(spec: VarSpec, lay: Layout, source_label: str) -> dict[str, Any]:
    """The source's attributes, completed with units / long_name from ``layout.toml`` or a generated long_name."""
    attrs = dict(spec.attrs)
    known = lay.attributes.get(spec.name, {})
    for key in ("units", "long_name"):
        if key not in attrs and key in known:
            attrs[key] = known[key]
    if "long_name" not in attrs:
        sub = spec.group[len(spec.scope):].strip("/")
        attrs["long_name"] = f"{sub + '/' if sub else ''}{spec.name} from {source_label}"
    return attrs


def write_results(
    dest: Path, sos: Sos, collector: Collector, group_attrs: dict[str, dict[str, Any]],
    labels: dict[str, str], lay: Layout, global_attrs: dict[str, Any],
    left_out: tuple[np.ndarray, dict[str, Any]] | None = None,
) -> Path:
    """Write the results file atomically: SoS groups, then every module group, whole arrays.

    Parameters
    ----------
    dest : pathlib.Path
    sos : Sos
        Its ``reaches`` and ``nodes`` groups are copied; its order sizes every array.
    collector : Collector
        Every variable met in the module files, with the pieces of every reach.
    group_attrs : dict
        Results group path -> attributes (which files fed it, how many reaches).
    labels : dict
        Module scope -> short description used in generated ``long_name``.
    lay : Layout
    global_attrs : dict
        Run id, versions, software version ...
    left_out : (numpy.ndarray, dict), optional
        Why the run left each SoS reach out (object array of str, ``""`` when it did
        not) and the attributes of ``reaches/left_out``, written beside the SoS variables.

    Raises
    ------
    ConfluenceError
        When the destination cannot be written (nothing is left behind).
    """
    n_reaches, n_nodes = sos.reach_id.size, sos.node_id.size
    try:
        with ncio.create(dest, **global_attrs) as out, ncio.open_dataset(sos.path) as src:
            for dim, size in ((REACH_DIM, n_reaches), (NODE_DIM, n_nodes), (TIME_DIM, collector.n_times)):
                out.createDimension(dim, size)
            _copy_sos_groups(src, out)
            if left_out is not None:
                _write_left_out(_group_at(out, "reaches"), *left_out)
            for path, attrs in group_attrs.items():
                _group_at(out, path).setncatts(attrs)
            for dspec in collector.dims.values():
                grp = _group_at(out, dspec.scope)
                grp.createDimension(dspec.name, dspec.size)
                if dspec.kind == LABEL and dspec.label_var:
                    var = grp.createVariable(dspec.label_var, str, (dspec.name,), fill_value=STR_FILL)
                    var.long_name = f"names along {dspec.name} (union over the continent's reaches)"
                    var[:] = np.asarray(dspec.labels, dtype=object)
            for spec, arr in collector.arrays(n_reaches, n_nodes):
                _write_var(_group_at(out, spec.group), spec, arr,
                           _attrs_for(spec, lay, labels.get(spec.scope, spec.scope)))
    except ConfluenceError:
        raise
    except OSError as exc:
        raise ConfluenceError(f"cannot write the results file ({exc.strerror or exc})", dest) from None
    return dest


def _write_left_out(grp: Any, reasons: np.ndarray, attrs: dict[str, Any]) -> None:
    """``reaches/left_out[num_reaches]``: a string per SoS reach (no ``_FillValue``: empty is "not left out")."""
    if "left_out" in grp.variables:
        raise ConfluenceError("the SoS reaches group already has a left_out variable")
    var = grp.createVariable("left_out", str, (REACH_DIM,))
    var.setncatts(attrs)
    var[:] = np.asarray(reasons, dtype=object)


def _write_var(grp: Any, spec: VarSpec, arr: np.ndarray, attrs: dict[str, Any]) -> None:
    if spec.name in grp.variables:
        raise ConfluenceError(f"results variable {spec.group}/{spec.name} defined twice")
    if spec.text:
        var = grp.createVariable(spec.name, str, spec.result_dims(), fill_value=STR_FILL)
    else:
        var = grp.createVariable(spec.name, spec.dtype, spec.result_dims(), fill_value=spec.fill,
                                 zlib=True, complevel=4, shuffle=True)
    var.set_auto_maskandscale(False)
    var.setncatts(attrs)
    var[...] = arr
