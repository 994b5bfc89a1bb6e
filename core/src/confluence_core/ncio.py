"""NetCDF helpers: atomic datasets, variables with the SWOT fills, tolerant reads.

Every NetCDF file of the workflow is written through :func:`create`, so no
reader ever sees a half-written file, and every float variable carries
``_FillValue = -999999999999.0`` and every flag ``-999`` unless said otherwise.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeGuard, overload

import netCDF4
import numpy as np

from . import branch
from .atomic import atomic_path
from .errors import InputError
from .fill import FLOAT_FILL, INT_FILL

#: Length of a SWOT ``time_str`` (``YYYY-MM-DDThh:mm:ssZ``).
CHARTIME = 20


@contextlib.contextmanager
def create(path: str | os.PathLike[str], **attrs: Any) -> Iterator[netCDF4.Dataset]:
    """Yield a new NETCDF4 dataset that appears at ``path`` only when complete.

    In a workflow job (:data:`~confluence_core.branch.BRANCH_ENV` set by the driver) the file's
    global attribute ``branch`` names the run's branch, unless ``attrs`` gives it.
    """
    if os.environ.get(branch.BRANCH_ENV):
        attrs = {branch.ATTR: branch.current(), **attrs}
    with atomic_path(path) as tmp:
        ds = netCDF4.Dataset(tmp, "w", format="NETCDF4")
        try:
            if attrs:
                ds.setncatts(attrs)
            yield ds
        finally:
            ds.close()


@contextlib.contextmanager
def open_dataset(path: str | os.PathLike[str],
                 mode: Literal["r", "r+", "a"] = "r") -> Iterator[netCDF4.Dataset]:
    """Open an existing NetCDF file; a missing or unreadable file is an :class:`InputError`."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path)
    try:
        ds = netCDF4.Dataset(path, mode)
    except OSError as exc:
        raise InputError(f"not a readable NetCDF file ({exc})", path) from None
    try:
        ds.set_auto_mask(False)
        yield ds
    finally:
        ds.close()


def default_fill(dtype: Any) -> Any:
    """Return the workflow's fill for ``dtype`` (float -> -999999999999, int -> -999)."""
    kind = np.dtype(dtype).kind
    if kind == "f":
        return FLOAT_FILL
    if kind in "iu":
        return INT_FILL
    return None


def write_var(
    group: netCDF4.Dataset | netCDF4.Group,
    name: str,
    data: Any,
    dims: Sequence[str] = (),
    dtype: Any = "f8",
    fill: Any = "default",
    attrs: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> netCDF4.Variable[Any]:
    """Create ``name`` in ``group`` and write ``data``, NaN becoming the fill.

    Parameters
    ----------
    group : netCDF4.Dataset or netCDF4.Group
    name : str
    data : array_like
        Values; NaN and masked entries are written as the fill value.
    dims : sequence of str
        Dimension names (they must exist in ``group`` or a parent).
    dtype : numpy dtype or str
    fill : scalar, None or "default"
        ``"default"`` uses :func:`default_fill`; ``None`` sets no ``_FillValue``.
    attrs : mapping, optional
        Extra variable attributes (units, long_name ...).
    """
    fill_value = default_fill(dtype) if fill == "default" else fill
    var = group.createVariable(name, dtype, tuple(dims), fill_value=fill_value, **kwargs)
    if attrs:
        var.setncatts(dict(attrs))
    arr: np.ndarray = np.ma.asarray(data)
    if np.dtype(dtype).kind in "fiu" and fill_value is not None:
        if arr.dtype.kind == "f":
            arr = np.ma.masked_invalid(arr)
        arr = np.ma.filled(arr.astype(np.dtype(dtype)) if arr.dtype.kind != "O" else arr, fill_value)
    if var.ndim == 0:
        var.assignValue(np.asarray(arr).reshape(()))
    else:
        var[:] = np.asarray(arr)
    return var


def write_strings(
    group: netCDF4.Dataset | netCDF4.Group,
    name: str,
    values: Sequence[str] | np.ndarray,
    dims: Sequence[str],
    char_dim: str = "chartime",
    fill: str | None = "n",
    attrs: Mapping[str, Any] | None = None,
) -> netCDF4.Variable[Any]:
    """Write fixed-width strings as an ``S1`` char array (like SWOT ``time_str``)."""
    arr = np.asarray(values, dtype=object)
    width = len(group.dimensions[char_dim]) if char_dim in group.dimensions else _dim_len(group, char_dim)
    var = group.createVariable(name, "S1", (*dims, char_dim), fill_value=fill)
    if attrs:
        var.setncatts(dict(attrs))
    text = np.asarray([str(v) if v is not None else "" for v in arr.ravel()], dtype=f"S{width}")
    var[:] = netCDF4.stringtochar(text.reshape(arr.shape))
    return var


def _dim_len(group: Any, name: str) -> int:
    while group is not None:
        if name in group.dimensions:
            return len(group.dimensions[name])
        group = group.parent
    raise KeyError(f"dimension {name!r} not found")


def get_group(ds: netCDF4.Dataset, path: str) -> netCDF4.Dataset | None:
    """Return the group at ``path`` (``"reach"``, ``"gbpriors/node"``; ``""`` is ``ds`` itself), or None."""
    group = ds
    for part in [p for p in path.split("/") if p]:
        if part not in group.groups:
            return None
        group = group.groups[part]
    return group


def has_var(group: Any, name: str) -> TypeGuard[netCDF4.Dataset]:
    """True if ``group`` holds variable ``name`` (so, for a type checker, ``group`` is a group)."""
    return group is not None and name in group.variables


@overload
def read_float(group: Any, name: str, default: None = None) -> np.ndarray | None: ...
@overload
def read_float(group: Any, name: str, default: np.ndarray) -> np.ndarray: ...
def read_float(group: Any, name: str, default: np.ndarray | None = None) -> np.ndarray | None:
    """Read a numeric variable as float64 with fills, masks and NaN as NaN.

    Returns ``default`` when the group or variable is absent, so optional
    fields never crash a reader.
    """
    if not has_var(group, name):
        return default
    var = group.variables[name]
    raw = var[...]
    out = np.ma.filled(np.ma.asarray(raw).astype(np.float64), np.nan)
    fills = {FLOAT_FILL}
    for attr in ("_FillValue", "missing_value"):
        if attr in var.ncattrs():
            fills.update(np.atleast_1d(var.getncattr(attr)).astype(np.float64).tolist())
    for f in fills:
        out[out == f] = np.nan
    out[np.isclose(out, FLOAT_FILL, rtol=0, atol=0.5)] = np.nan
    return out


@overload
def read_int(group: Any, name: str, default: None = None) -> np.ndarray | None: ...
@overload
def read_int(group: Any, name: str, default: np.ndarray) -> np.ndarray: ...
def read_int(group: Any, name: str, default: np.ndarray | None = None) -> np.ndarray | None:
    """Read an integer variable as-is (fills kept), or ``default`` when absent."""
    if not has_var(group, name):
        return default
    return np.ma.filled(np.ma.asarray(group.variables[name][...]), INT_FILL)


@overload
def read_strings(group: Any, name: str, default: None = None) -> np.ndarray | None: ...
@overload
def read_strings(group: Any, name: str, default: np.ndarray) -> np.ndarray: ...
def read_strings(group: Any, name: str, default: np.ndarray | None = None) -> np.ndarray | None:
    """Read a char-array or string variable as an array of ``str``."""
    if not has_var(group, name):
        return default
    var = group.variables[name]
    raw = np.ma.filled(np.ma.asarray(var[...]), b"") if var.dtype == "S1" else var[...]
    if var.dtype == "S1" and var.ndim >= 1:
        raw = netCDF4.chartostring(raw)
    arr = np.asarray(raw, dtype=object)
    flat = [v.decode() if isinstance(v, bytes) else str(v) for v in arr.ravel()]
    return np.asarray(flat, dtype=object).reshape(arr.shape)


def copy_attrs(src: Any, dst: Any) -> None:
    """Copy every attribute of ``src`` to ``dst`` (groups, variables or datasets)."""
    dst.setncatts({k: src.getncattr(k) for k in src.ncattrs()})


def _fill_of(var: netCDF4.Variable[Any]) -> Any:
    return var.getncattr("_FillValue") if "_FillValue" in var.ncattrs() else None


def _root(group: Any) -> Any:
    while group.parent is not None:
        group = group.parent
    return group


def _visible(group: Any, dim: str) -> bool:
    while group is not None:
        if dim in group.dimensions:
            return True
        group = group.parent
    return False


def _raw_values(var: netCDF4.Variable[Any]) -> Any:
    """The stored values of ``var`` (no masking, scaling or char-to-string), its read settings kept."""
    before = (var.mask, var.scale, var.chartostring)
    var.set_auto_maskandscale(False)
    var.set_auto_chartostring(False)
    try:
        return var[...]
    finally:
        var.set_auto_mask(before[0])
        var.set_auto_scale(before[1])
        var.set_auto_chartostring(before[2])


def copy_variable(
    var: netCDF4.Variable[Any],
    dst: netCDF4.Dataset | netCDF4.Group,
    data: Any = None,
    compress: bool = False,
    default_attrs: Mapping[str, Any] | None = None,
) -> netCDF4.Variable[Any]:
    """Copy ``var`` into ``dst``: same name, type, dimensions, fill, attributes and raw values.

    Parameters
    ----------
    var : netCDF4.Variable
        The source variable; its values are copied as stored (no masking or scaling).
    dst : netCDF4.Dataset or netCDF4.Group
        Where to create the copy.  A dimension of ``var`` that ``dst`` cannot see
        (in itself or a parent) is created at the root of ``dst`` with the source's size.
    data : array_like, optional
        Stored values to write instead of the source's (same shape, raw: fills, not NaN).
    compress : bool
        False: the source's storage (zlib, level, shuffle, chunk sizes); True: zlib
        level 4 with shuffle on every non-scalar, non-string variable.
    default_attrs : mapping, optional
        Attributes added after the source's ones when the source lacks them.
    """
    for dim in var.get_dims():
        if not _visible(dst, dim.name):
            _root(dst).createDimension(dim.name, None if dim.isunlimited() else len(dim))
    kwargs: dict[str, Any] = {}
    if compress:
        if var.ndim and var.dtype is not str:
            kwargs.update(zlib=True, complevel=4, shuffle=True)
    else:
        filters = var.filters() or {}
        if filters.get("zlib"):
            kwargs.update(zlib=True, complevel=filters.get("complevel") or 4, shuffle=bool(filters.get("shuffle")))
        chunks = var.chunking()
        if isinstance(chunks, list):
            kwargs["chunksizes"] = chunks
    new = dst.createVariable(var.name, var.datatype, var.dimensions, fill_value=_fill_of(var), **kwargs)
    new.set_auto_maskandscale(False)
    new.set_auto_chartostring(False)
    attrs = {k: var.getncattr(k) for k in var.ncattrs() if k != "_FillValue"}
    attrs.update({k: v for k, v in (default_attrs or {}).items() if k not in attrs})
    new.setncatts(attrs)
    values = _raw_values(var) if data is None else data
    if var.ndim == 0:
        new.assignValue(values)
    elif np.size(values):
        new[...] = values
    return new


def copy_group(
    src: netCDF4.Dataset | netCDF4.Group,
    dst: netCDF4.Dataset | netCDF4.Group,
    *,
    skip: Collection[str] = (),
    skip_dims: Collection[str] = (),
    replace: Mapping[str, Any] | None = None,
    compress: bool = False,
    attrs: bool = True,
    default_attrs: Callable[[netCDF4.Variable[Any]], Mapping[str, Any]] | None = None,
) -> None:
    """Copy a group (or a whole dataset) into ``dst``: attributes, dimensions, variables, sub-groups.

    Everything is copied as stored (types, fills, attributes in their order,
    unlimited dimensions), so the copy reads the same as the source.

    Parameters
    ----------
    src, dst : netCDF4.Dataset or netCDF4.Group
        ``dst`` is an empty group (or dataset) that receives the copy.
    skip : collection of str
        Variables and sub-groups to leave out, as paths relative to ``src``
        (``"USGS"``, ``"model/mean_q"``).
    skip_dims : collection of str
        Dimensions to leave out (the caller defines them itself), paths relative to ``src``.
    replace : mapping, optional
        Relative variable path (``"reach/wse"``) -> stored values to write instead of the source's.
    compress : bool
        See :func:`copy_variable`.
    attrs : bool
        Copy the attributes of ``src`` itself (sub-groups always keep theirs).
    default_attrs : callable, optional
        ``variable -> attributes`` added to each copied variable that lacks them.
    """
    _copy_tree(src, dst, "", set(skip), set(skip_dims), dict(replace or {}), compress, attrs, default_attrs)


def _copy_tree(src: Any, dst: Any, rel: str, skip: set[str], skip_dims: set[str], replace: dict[str, Any],
               compress: bool, attrs: bool,
               default_attrs: Callable[[netCDF4.Variable[Any]], Mapping[str, Any]] | None) -> None:
    if attrs:
        copy_attrs(src, dst)
    for name, dim in src.dimensions.items():
        if rel + name not in skip_dims:
            dst.createDimension(name, None if dim.isunlimited() else len(dim))
    for name, var in src.variables.items():
        if rel + name not in skip:
            copy_variable(var, dst, replace.get(rel + name), compress,
                          default_attrs(var) if default_attrs else None)
    for name, sub in src.groups.items():
        if rel + name not in skip:
            _copy_tree(sub, dst.createGroup(name), f"{rel}{name}/", skip, skip_dims, replace, compress, True,
                       default_attrs)
