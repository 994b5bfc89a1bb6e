"""Place per-reach values into continent-wide arrays aligned on the SoS (no file access).

A per-reach file is read into :class:`Field` objects (one per variable).  The
:class:`Collector` keeps, for every results variable, the pieces of every reach
(rows on the SoS axis, positions on each other dimension, values) and the
dimensions met so far.  :func:`assemble` turns the pieces of one variable into
one array with a handful of vectorised assignments (pieces with the same
positions are stacked and written at once), so a continent of ~100k reaches is
written whole-array.

Dimension kinds after the SoS axis (``num_reaches`` or ``num_nodes``):

- ``time``: the reach's observation index, results dimension ``num_times``
  (the longest series of the continent; shorter ones padded with fill);
- ``label``: a dimension named by a text variable (``algo_names``): the
  results dimension is the union of the labels in first-seen order;
- ``pad``: any other dimension, padded to its longest length.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from confluence_core import ncio
from confluence_core.fill import INT_FILL, STR_FILL

#: Results dimension of observation time (root of the results file).
TIME_DIM = "num_times"
#: Results dimensions of the two SoS axes.
AXIS_DIMS = {"reach": "num_reaches", "node": "num_nodes"}
TIME, LABEL, PAD = "time", "label", "pad"


@dataclass
class Field:
    """One variable of one reach's file, ready to place.

    Attributes
    ----------
    scope : str
        Results group of the module (where its label and padded dimensions live).
    group : str
        Results group of the variable (``scope`` or a sub-group of it).
    name : str
    axis : str
        ``"reach"`` (values has one row) or ``"node"`` (one row per node of the file).
    dims, kinds : tuple of str
        Results dimensions after the axis and their kinds (``time``, ``label``, ``pad``).
    values : numpy.ndarray
        Shape ``(rows, *lengths)``; ``object`` of ``str`` for text.
    labels : tuple
        Per dimension: the labels of a ``label`` dimension, else None.
    label_var : tuple
        Per dimension: the name of the text variable holding the labels, else None.
    fill : scalar or None
        The source's ``_FillValue`` (values equal to it are missing).
    attrs : dict
        The source's attributes (without ``_FillValue``).
    node_ids : numpy.ndarray or None
        For ``axis == "node"``: node ids of the rows when the file names them.
    """

    scope: str
    group: str
    name: str
    axis: str
    dims: tuple[str, ...]
    kinds: tuple[str, ...]
    values: np.ndarray
    labels: tuple[tuple[str, ...] | None, ...] = ()
    label_var: tuple[str | None, ...] = ()
    fill: Any = None
    attrs: dict[str, Any] = field(default_factory=dict)
    node_ids: np.ndarray | None = None

    @property
    def text(self) -> bool:
        return self.values.dtype == object


@dataclass
class DimSpec:
    """A label or padded dimension of a module group."""

    scope: str
    name: str
    kind: str
    size: int = 0
    label_var: str | None = None
    labels: list[str] = field(default_factory=list)
    _index: dict[str, int] = field(default_factory=dict)

    def positions(self, length: int, labels: tuple[str, ...] | None) -> np.ndarray:
        """Positions of a reach's ``length`` entries on this dimension (new labels appended)."""
        if self.kind == LABEL and labels is not None:
            pos = []
            for text in labels:
                if text not in self._index:
                    self._index[text] = len(self.labels)
                    self.labels.append(text)
                pos.append(self._index[text])
            self.size = len(self.labels)
            return np.asarray(pos, dtype=np.intp)
        self.size = max(self.size, length)
        return np.arange(length, dtype=np.intp)


@dataclass
class VarSpec:
    """A results variable: its layout, type, fill, attributes and the pieces of every reach."""

    scope: str
    group: str
    name: str
    axis: str
    dims: tuple[str, ...]
    kinds: tuple[str, ...]
    dtype: np.dtype
    fill: Any
    attrs: dict[str, Any]
    pieces: list[tuple[np.ndarray, tuple[np.ndarray, ...], np.ndarray]] = field(default_factory=list)
    whole: np.ndarray | None = None

    @property
    def text(self) -> bool:
        return self.dtype == np.dtype(object)

    def result_dims(self) -> tuple[str, ...]:
        """Dimension names in the results file (axis first)."""
        return (AXIS_DIMS[self.axis], *self.dims)


def default_fill(dtype: np.dtype) -> Any:
    """The workflow's fill for ``dtype``: ``ncio.default_fill`` (floats, integers), -999 for booleans,
    ``no_data`` for text."""
    if np.dtype(dtype).kind == "b":
        return INT_FILL
    fill = ncio.default_fill(dtype)
    return STR_FILL if fill is None else fill


def results_fill(dtype: np.dtype, source_fill: Any = None) -> Any:
    """Fill of a results variable: the workflow's (:func:`default_fill`) whenever ``dtype`` can hold it,
    else the source's own fill, else the most negative value of the integer type."""
    fill = default_fill(dtype)
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        if not info.min <= fill <= info.max:
            return source_fill if source_fill is not None else info.min
    return fill


def refill(values: np.ndarray, source_fill: Any, fill: Any) -> np.ndarray:
    """Return ``values`` with the source's fill (and NaN) replaced by ``fill``.

    Parameters
    ----------
    values : numpy.ndarray
        Raw values as stored in the source file.
    source_fill : scalar or None
        The source's ``_FillValue``; None when it declares none.
    fill : scalar
        The results variable's fill.
    """
    if values.dtype == object:
        return values
    out = values
    if source_fill is not None and np.asarray(source_fill).dtype.kind in "iufb":
        hit = values == source_fill
        if np.any(hit) and source_fill != fill:
            out = values.copy()
            out[hit] = fill
    if out.dtype.kind == "f":
        nan = np.isnan(out)
        if np.any(nan):
            out = out.copy() if out is values else out
            out[nan] = fill
    return out


class Collector:
    """Every results variable and module dimension met while reading a continent's files."""

    def __init__(self) -> None:
        self.vars: dict[tuple[str, str], VarSpec] = {}
        self.dims: dict[tuple[str, str], DimSpec] = {}
        self.n_times = 0

    def add(self, fld: Field, rows: np.ndarray) -> str | None:
        """Add one reach's variable at SoS ``rows``; return why it was refused, or None."""
        key = (fld.group, fld.name)
        spec = self.vars.get(key)
        if spec is not None and (spec.axis, spec.dims, spec.kinds, spec.text) != (
                fld.axis, fld.dims, fld.kinds, fld.text):
            return (f"{fld.group}/{fld.name}: dimensions {fld.dims} ({fld.axis}) differ from earlier "
                    f"reaches' {spec.dims} ({spec.axis})")
        for dim, kind in zip(fld.dims, fld.kinds, strict=True):
            known = self.dims.get((fld.scope, dim))
            if kind != TIME and known is not None and known.kind != kind:
                return f"{fld.group}/{fld.name}: dimension {dim} is a {kind} dimension here, a {known.kind} before"
        index = []
        lengths = fld.values.shape[1:]
        for i, (dim, kind) in enumerate(zip(fld.dims, fld.kinds, strict=True)):
            if kind == TIME:
                self.n_times = max(self.n_times, lengths[i])
                index.append(np.arange(lengths[i], dtype=np.intp))
                continue
            label_var = fld.label_var[i] if fld.label_var else None
            dspec = self.dims.setdefault((fld.scope, dim), DimSpec(fld.scope, dim, kind, label_var=label_var))
            index.append(dspec.positions(lengths[i], fld.labels[i] if fld.labels else None))
        if spec is None:
            dtype = np.dtype(object) if fld.text else fld.values.dtype
            if dtype.kind == "b":
                dtype = np.dtype(np.int8)
            fill = results_fill(dtype, None if fld.text else fld.fill)
            spec = self.vars[key] = VarSpec(fld.scope, fld.group, fld.name, fld.axis, fld.dims, fld.kinds,
                                            dtype, fill, dict(fld.attrs))
        elif not fld.text:
            spec.dtype = np.promote_types(spec.dtype, fld.values.dtype)
        values = refill(fld.values, fld.fill, spec.fill)
        spec.pieces.append((np.asarray(rows, dtype=np.intp), tuple(index), values))
        return None

    def add_whole(self, spec: VarSpec, values: np.ndarray) -> None:
        """Add a variable already whole on its axis (one value per reach or node)."""
        spec.whole = values
        self.vars[(spec.group, spec.name)] = spec

    def sizes(self, n_reaches: int, n_nodes: int) -> dict[tuple[str, str], int]:
        """Length of every dimension, keyed by (scope, name); scope ``""`` for the root ones."""
        out = {("", AXIS_DIMS["reach"]): n_reaches, ("", AXIS_DIMS["node"]): n_nodes, ("", TIME_DIM): self.n_times}
        out.update({k: d.size for k, d in self.dims.items()})
        return out

    def arrays(self, n_reaches: int, n_nodes: int) -> Iterator[tuple[VarSpec, np.ndarray]]:
        """Yield each variable with its whole array; its pieces are released once assembled."""
        sizes = self.sizes(n_reaches, n_nodes)
        for spec in self.vars.values():
            if spec.whole is not None:
                yield spec, spec.whole
                continue
            axis_len = n_reaches if spec.axis == "reach" else n_nodes
            lengths = tuple(sizes[("", d)] if k == TIME else sizes[(spec.scope, d)]
                            for d, k in zip(spec.dims, spec.kinds, strict=True))
            arr = assemble(spec.pieces, (axis_len, *lengths), spec.dtype, spec.fill)
            spec.pieces = []
            yield spec, arr


def assemble(
    pieces: list[tuple[np.ndarray, tuple[np.ndarray, ...], np.ndarray]],
    shape: tuple[int, ...], dtype: Any, fill: Any,
) -> np.ndarray:
    """Place pieces into one array of ``shape`` filled with ``fill``.

    Parameters
    ----------
    pieces : list of (rows, index, values)
        ``rows``: positions on the first axis; ``index``: positions on each
        other axis; ``values``: shape ``(len(rows), *map(len, index))``.
    shape : tuple of int
    dtype : numpy dtype (``object`` for text)
    fill : scalar

    Returns
    -------
    numpy.ndarray
        Pieces with the same positions on the other axes are stacked and
        written in one fancy-indexed assignment.
    """
    out = np.full(shape, fill, dtype=dtype)
    groups: dict[tuple[bytes, ...], tuple[list[np.ndarray], list[np.ndarray], tuple[np.ndarray, ...]]] = {}
    for rows, index, values in pieces:
        if rows.size == 0:
            continue
        key = tuple(i.tobytes() + b"|" for i in index)
        bucket = groups.setdefault(key, ([], [], index))
        bucket[0].append(rows)
        bucket[1].append(values)
    for rows_list, values_list, index in groups.values():
        rows = np.concatenate(rows_list)
        values = np.concatenate(values_list, axis=0)
        if index:
            out[np.ix_(rows, *index)] = values
        else:
            out[rows] = values
    return out
