"""Read a basin's granules (each once) and write its ``{reach_id}_SWOT.nc`` files atomically."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from confluence_core import ncio, riversp
from confluence_core.errors import InputError
from confluence_core.ids import continent_of, cycle_pass_id
from confluence_core.skips import skip

from . import schema
from .assemble import ReachSeries, Table, utc_now

log = logging.getLogger(__name__)

#: Fields read from Reach / Node granules (our names, confluence_core.riversp.FIELDS).
REACH_FIELDS = [n for n, _, _ in schema.REACH_VARS + schema.EXTRA_REACH if n != "reach_id"]
NODE_OUT_FIELDS = [n for n, _, _ in schema.NODE_VARS + schema.EXTRA_NODE if n not in ("reach_id", "node_id")]
NODE_FIELDS = [n for n in NODE_OUT_FIELDS if n not in schema.TILED_FROM_REACH]


@dataclass
class BasinRecords:
    """Every record of a basin's reaches, from every granule read once."""

    reach: Table
    node: Table
    read: int = 0
    failed: dict[str, str] = field(default_factory=dict)


def read_basin(
    granules: Iterable[str],
    reach_ids: np.ndarray,
    locate: Callable[[str], str],
    sword_version: int,
    cycle_passes: dict[str, int],
    s3: Callable[[], Any] | None = None,
) -> BasinRecords:
    """Read each granule once and keep the rows of ``reach_ids``.

    Only the rows of ``reach_ids`` are read and converted (their record numbers come
    from a pass over the ``reach_id`` column of the ``.dbf``:
    :func:`confluence_core.riversp.dbf_rows`), and only the columns input writes; the
    geometry is never read.

    Parameters
    ----------
    granules : iterable of str
        URIs as in s3_reach.json (local ones relative to the source volume).
    reach_ids : numpy.ndarray of int64
        The basin's reaches.
    locate : callable
        URI -> what :func:`confluence_core.riversp.read_granule` opens.
    sword_version : int
        Granules whose ``.shp.xml`` names another version are skipped (logged).
    cycle_passes : dict
        ``{"001_051": id}``; ids of passes it lacks are ``cycle * 1000 + pass``.
    s3 : callable, optional
        Returns the S3 client, called on the first ``s3://`` granule.

    A granule that cannot be read (truncated zip, a member missing, a required field
    absent) or is built on another SWORD version is a ``granule`` skip
    (:mod:`confluence_core.skips`): that granule only; the other granules of its
    pass and every other pass are kept.
    """
    reach_parts: list[dict[str, np.ndarray]] = []
    node_parts: list[dict[str, np.ndarray]] = []
    failed: dict[str, str] = {}
    read = 0
    client = None
    for uri in granules:
        try:
            name = riversp.parse_granule_name(uri)
            is_reach = name.feature == "Reach"
            cols = (["reach_id", *REACH_FIELDS] if is_reach else ["reach_id", "node_id", *NODE_FIELDS])
            if uri.startswith("s3://") and client is None and s3 is not None:
                client = s3()
            data, meta = riversp.read_granule(locate(uri), cols, s3=client, reach_ids=reach_ids)
        except InputError as exc:
            skip(log, "granule", uri.rsplit("/", 1)[-1], exc.reason)
            failed[uri] = exc.reason
            continue
        if meta.sword_version is not None and meta.sword_version != sword_version:
            reason = f"built on SWORD v{meta.sword_version} ({meta.sword_file}), not v{sword_version}"
            skip(log, "granule", uri.rsplit("/", 1)[-1], reason)
            failed[uri] = reason
            continue
        read += 1
        n = len(data["reach_id"])  # only the rows of reach_ids
        if n == 0:
            continue
        part = dict(data)
        part["obs"] = np.full(n, cycle_passes.get(name.cycle_pass, cycle_pass_id(name.cycle, name.pass_number)),
                              dtype=np.int64)
        part["rank"] = np.full(n, _rank(name), dtype=np.int64)
        (reach_parts if is_reach else node_parts).append(part)
    extra = ["reach_id", "obs", "rank"]
    return BasinRecords(
        reach=Table.concat(reach_parts, extra + REACH_FIELDS),
        node=Table.concat(node_parts, [*extra, "node_id", *NODE_FIELDS]),
        read=read, failed=failed,
    )


def _rank(name: riversp.GranuleName) -> int:
    """Order of processing runs of the same pass: CRID letters then the product counter."""
    crid = name.crid.upper().ljust(4, "0")[:4]
    value = 0
    for ch in crid:
        value = value * 64 + (ord(ch) - 47)
    return value * 1000 + name.counter


# --------------------------------------------------------------------------- writing

_ATTR_CAST = ("valid_min", "valid_max")


def write_swot(path: Path, series: ReachSeries) -> Path:
    """Write ``series`` as ``{reach_id}_SWOT.nc`` in the reference layout (atomically)."""
    nt, nx = series.obs.size, series.node_id.size
    code = continent_of(series.reach_id).upper()
    with ncio.create(path, title=f"SWOT Data for {series.reach_id}", reach_id=np.int64(series.reach_id),
                     history=utc_now(), continent=code) as ds:
        ds.createDimension("nt", nt)
        ds.createDimension("nx", nx)
        root_values = {"nt": np.arange(nt), "nx": np.arange(1, nx + 1), "observations": series.obs}
        for name, dtype, attrs in schema.ROOT_VARS:
            ncio.write_var(ds, name, root_values[name], (name if name != "observations" else "nt",),
                           dtype=dtype, fill=None, attrs=_attrs(attrs, dtype))
        for group_name, specs, values, dims in (
            ("reach", schema.REACH_VARS + schema.EXTRA_REACH, series.reach, ("nt",)),
            ("node", schema.NODE_VARS + schema.EXTRA_NODE, series.node, ("nx", "nt")),
        ):
            grp = ds.createGroup(group_name)
            grp.createDimension("chartime", ncio.CHARTIME)
            for name, dtype, attrs in specs:
                if name == "reach_id":
                    ncio.write_var(grp, name, np.int64(series.reach_id), (), dtype="i8", fill=None,
                                   attrs=attrs)
                elif name == "node_id":
                    ncio.write_var(grp, name, series.node_id, ("nx",), dtype="i8", fill=None, attrs=attrs)
                elif name == "time_str":
                    ncio.write_strings(grp, name, values[name], dims, attrs=attrs)
                else:
                    ncio.write_var(grp, name, values[name], dims, dtype=dtype, attrs=_attrs(attrs, dtype))
    return path


def _attrs(attrs: dict[str, Any], dtype: str) -> dict[str, Any]:
    """Attributes with valid_min / valid_max in the variable's own type (as in the reference)."""
    return {k: (np.asarray(v, dtype=dtype)[()] if k in _ATTR_CAST else v) for k, v in attrs.items()}
