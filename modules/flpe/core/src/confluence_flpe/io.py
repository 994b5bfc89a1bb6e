"""Read a reach's FLPE inputs: ``{reach_id}_SWOT.nc``, SWORD and the SoS priors.

Readers follow the contracts (contracts.md sections 6-8) and tolerate absent
optional fields: a missing variable or group gives NaN, never a crash.  The
only hard errors (:class:`~confluence_core.errors.InputError`, naming the
file) are a missing or unreadable file and a SWOT file without the width or
wse every algorithm needs.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
from confluence_core import ncio, sos, sword
from confluence_core.errors import InputError

from .hydraulics import d_x_area_from_obs, d_x_area_from_obs_2d, d_x_area_u_from_obs
from .interface import Priors, ReachObs

log = logging.getLogger("confluence-flpe")

#: The ``model`` scalars of a reach that :func:`read_priors` reads (Priors attributes of the same name).
SOS_MODEL_SCALARS = ("mean_q", "mean_q_sd_ln", "min_q", "max_q", "two_year_return_q")
#: File versions each cache keeps: a grouped job's reaches sit in one or two continents' files.
CACHED_FILES = 2


def _node_major(var: Any, arr: np.ndarray) -> np.ndarray:
    """Return a node array as ``[nx, nt]`` whatever its stored dimension order."""
    dims = tuple(getattr(var, "dimensions", ()))
    if arr.ndim == 2 and dims and dims[0] == "nt":
        return arr.T
    return arr


def _node_float(group: Any, name: str) -> np.ndarray | None:
    val = ncio.read_float(group, name)
    return None if val is None else _node_major(group.variables[name], np.atleast_2d(val))


def read_swot(path: str | Path) -> ReachObs:
    """Read ``{reach_id}_SWOT.nc`` into :class:`ReachObs` (SWOT fills -> NaN).

    ``slope`` falls back to ``slope2`` (and ``slope_u`` to ``slope2_u``);
    ``d_x_area`` is computed from width and wse
    (:func:`~confluence_flpe.hydraulics.d_x_area_from_obs`) when the file has
    none or only fills, and ``dA_from_obs`` is then True (``d_x_area_u`` then by first-order
    propagation of ``width_u`` and ``wse_u``, hydraulics.d_x_area_u_from_obs).  Node arrays are
    ``[nx, nt]``.

    Raises
    ------
    InputError
        When the file is missing or unreadable, or has no ``reach/width`` or
        ``reach/wse``.
    """
    path = Path(path)
    with ncio.open_dataset(path) as ds:
        reach = ncio.get_group(ds, "reach")
        if reach is None or not (ncio.has_var(reach, "width") and ncio.has_var(reach, "wse")):
            raise InputError("no reach/width or reach/wse: not a SWOT reach file", path)
        width = cast(np.ndarray, ncio.read_float(reach, "width"))  # present: checked above
        nt = width.shape[0]
        nan = np.full(nt, np.nan)

        def r(name: str, fallback: str | None = None) -> np.ndarray | None:
            val = ncio.read_float(reach, name)
            if val is None and fallback is not None:
                val = ncio.read_float(reach, fallback)
            return val

        rid = _reach_id(ds, reach, path)
        slope = r("slope", "slope2")
        stored_dA = r("d_x_area")
        from_obs = stored_dA is None or not np.isfinite(stored_dA).any()
        wse = cast(np.ndarray, r("wse"))  # present: checked above
        dA = d_x_area_from_obs(width, wse) if stored_dA is None or from_obs else stored_dA
        time_str = ncio.read_strings(reach, "time_str")
        obs = ReachObs(
            reach_id=rid,
            time=ncio.read_float(reach, "time", nan.copy()),
            time_str=_clean_time_str(time_str, nt),
            width=width,
            wse=wse,
            slope=nan.copy() if slope is None else slope,
            d_x_area=dA,
            width_u=r("width_u"),
            wse_u=r("wse_u"),
            slope_u=r("slope_u", "slope2_u"),
            d_x_area_u=d_x_area_u_from_obs(width, wse, r("width_u"), r("wse_u")) if from_obs else r("d_x_area_u"),
            dA_from_obs=from_obs,
        )
        node = ncio.get_group(ds, "node")
        if node is not None:
            node_id = ncio.read_int(node, "node_id")
            obs.node_id = None if node_id is None else np.asarray(node_id, dtype=np.int64).ravel()
            obs.node_width = _node_float(node, "width")
            obs.node_wse = _node_float(node, "wse")
            node_dA = _node_float(node, "d_x_area")
            if (node_dA is None or not np.isfinite(node_dA).any()) and obs.node_width is not None \
                    and obs.node_wse is not None:
                node_dA = d_x_area_from_obs_2d(obs.node_width, obs.node_wse)
            obs.node_d_x_area = node_dA
    return obs


def _reach_id(ds: Any, reach: Any, path: Path) -> int:
    val = ncio.read_int(reach, "reach_id")
    if val is not None and np.size(val):
        return int(np.asarray(val).ravel()[0])
    if "reach_id" in ds.ncattrs():
        return int(ds.getncattr("reach_id"))
    try:
        return int(path.name.split("_")[0])
    except ValueError:
        raise InputError("no reach_id variable or attribute", path) from None


def _clean_time_str(values: np.ndarray | None, nt: int) -> np.ndarray:
    """Time strings ``[nt]``, ``"no_data"`` where unobserved (fills, empty, '-999...')."""
    if values is None:
        return np.full(nt, "no_data", dtype=object)
    out = np.asarray([str(v).strip() for v in np.ravel(values)], dtype=object)
    bad = np.asarray([len(v) < 10 or not v[:4].isdigit() for v in out], dtype=bool)
    out[bad] = "no_data"
    return out


def add_sword(obs: ReachObs, path: str | Path) -> None:
    """Fill ``reach_length``, ``prior_width`` and ``facc`` of ``obs`` from a SWORD file.

    A missing file or reach is logged and leaves the NaN defaults (SWORD
    values are optional for every FLPE algorithm).  The file's reach table is read once per
    process and file version (:func:`clear_caches`): the reaches of a grouped job share it.
    """
    path = Path(path)
    if not path.exists():
        log.warning("%s: SWORD file not found; reach_length/width/facc left NaN", path)
        return
    table = _sword_reaches(*_version(path))
    try:
        row = table.row(obs.reach_id)
    except KeyError:
        log.warning("%s: reach %s not in SWORD; reach_length/width/facc left NaN", path, obs.reach_id)
        return
    obs.reach_length = float(table.reach_length[row])
    obs.prior_width = float(table.width[row])
    obs.facc = float(table.facc[row])


def read_priors(path: str | Path, reach_id: int, node_ids: np.ndarray | None = None) -> Priors:
    """Read one reach's SoS priors (``model`` and ``gbpriors/reach|node`` groups).

    Every absent group, variable or reach gives NaN (logged once); a missing
    SoS file gives all-NaN priors with a warning, so algorithms that need a
    prior flag the reach themselves.  The file's tables are read once per process and file
    version (:func:`clear_caches`): the reaches of a grouped job share their continent's SoS.

    Parameters
    ----------
    path : path of ``{c}_sword_v{N}_SOS_priors.nc``
    reach_id : int
    node_ids : numpy.ndarray, optional
        The reach's node ids in the SWOT file's order; ``gb_node`` values are
        aligned on them (NaN for nodes the SoS lacks).
    """
    path = Path(path)
    pri = Priors(reach_id=int(reach_id))
    if not path.exists():
        log.warning("%s: SoS file not found; priors are NaN for reach %s", path, reach_id)
        return pri
    table = _sos_table(*_version(path))
    hits = np.flatnonzero(table.reach_ids == int(reach_id))
    if hits.size == 0:
        log.warning("%s: reach %s not in the SoS; priors are NaN", path, reach_id)
        return pri
    row = int(hits[0])
    for name in SOS_MODEL_SCALARS:
        val = table.model.get(name)
        if val is not None:
            setattr(pri, name, float(np.ravel(val[row])[0]))
    pri.monthly_q = _row_vector(table.model.get("monthly_q"), row, sos.N_MONTHS)
    pri.flow_duration_q = _row_vector(table.model.get("flow_duration_q"), row, len(sos.EXCEEDANCE))
    if table.gb is not None:
        pri.gb = {name: float(np.ravel(v)[row]) for name, v in table.gb.items()}
    if table.gb_node is not None:
        pri.gb_node = _node_priors(table, int(reach_id), node_ids)
    return pri


@dataclass(frozen=True)
class SosTable:
    """What :func:`read_priors` uses of one SoS file, as read (fills as NaN), every reach at once.

    ``reach_ids``: ``reaches/reach_id`` (empty when absent); ``model``: the variables of group
    ``model`` it reads (absent ones left out); ``gb`` / ``gb_node``: every 1-D numeric variable of
    ``gbpriors/reach`` on ``num_reaches`` / ``gbpriors/node`` on ``num_nodes`` (None without the group,
    ``gb_node`` also None without group ``nodes``); ``node_reach`` / ``node_id``: ``nodes/reach_id`` and
    ``nodes/node_id`` (empty when absent).  The arrays are shared by every reach read from the
    cache: readers copy what they hand out.
    """

    reach_ids: np.ndarray
    model: Mapping[str, np.ndarray]
    gb: Mapping[str, np.ndarray] | None
    gb_node: Mapping[str, np.ndarray] | None
    node_reach: np.ndarray
    node_id: np.ndarray


FileVersion = tuple[str, int, int, int]


def _version(path: Path) -> FileVersion:
    """The cache key of a file: its resolved path, inode, size and modification time (ns)."""
    stat = path.stat()
    return str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns


@functools.lru_cache(maxsize=CACHED_FILES)
def _sword_reaches(path: str, _inode: int, _size: int, _mtime_ns: int) -> sword.Reaches:
    return sword.read_reaches(path)


@functools.lru_cache(maxsize=CACHED_FILES)
def _sos_table(path: str, _inode: int, _size: int, _mtime_ns: int) -> SosTable:
    with ncio.open_dataset(path) as ds:
        reaches = ncio.get_group(ds, "reaches")
        rids = ncio.read_int(reaches, "reach_id")
        model = ncio.get_group(ds, "model")
        values = {name: ncio.read_float(model, name)
                  for name in (*SOS_MODEL_SCALARS, "monthly_q", "flow_duration_q")}
        gb = ncio.get_group(ds, "gbpriors/reach")
        gbn = ncio.get_group(ds, "gbpriors/node")
        nodes = ncio.get_group(ds, "nodes")
        with_nodes = gbn is not None and nodes is not None
        empty = np.zeros(0, dtype=np.int64)
        return SosTable(
            reach_ids=np.asarray(rids if rids is not None else [], dtype=np.int64),
            model={name: val for name, val in values.items() if val is not None},
            gb=None if gb is None else _vars_on(gb, sos.REACH_DIM),
            gb_node=_vars_on(gbn, sos.NODE_DIM) if with_nodes else None,
            node_reach=np.asarray(ncio.read_int(nodes, "reach_id", default=empty), dtype=np.int64)
            if with_nodes else empty,
            node_id=np.asarray(ncio.read_int(nodes, "node_id", default=empty), dtype=np.int64)
            if with_nodes else empty,
        )


def clear_caches() -> None:
    """Forget the SWORD and SoS tables read by this process (a job starts with none: its inputs
    are fixed while it runs; a file changed since is read again, keyed by its inode, size and mtime)."""
    _sword_reaches.cache_clear()
    _sos_table.cache_clear()


def _row_vector(val: np.ndarray | None, row: int, size: int) -> np.ndarray:
    if val is None or val.ndim != 2:
        return np.full(size, np.nan)
    return np.array(val[row], dtype=np.float64)  # a copy: the table is shared by the job's reaches


def _vars_on(group: Any, dim: str) -> dict[str, np.ndarray]:
    """Float values of every 1-D numeric variable of ``group`` on dimension ``dim``."""
    out: dict[str, np.ndarray] = {}
    for name, var in group.variables.items():
        if var.dimensions == (dim,) and np.dtype(var.dtype).kind in "fiu":
            out[name] = cast(np.ndarray, ncio.read_float(group, name))  # present: one of group's variables
    return out


def _node_priors(table: SosTable, reach_id: int, node_ids: np.ndarray | None) -> dict[str, np.ndarray]:
    rows = np.flatnonzero(table.node_reach == reach_id)
    if node_ids is not None and rows.size:
        pos = {int(n): int(i) for i, n in zip(rows, table.node_id[rows], strict=True)}
        take = np.asarray([pos.get(int(n), -1) for n in node_ids])
    else:
        take = rows
    out: dict[str, np.ndarray] = {}
    for name, vals in (table.gb_node or {}).items():
        picked = np.full(take.shape, np.nan)
        have = take >= 0
        picked[have] = vals[take[have]]
        out[name] = picked
    return out
