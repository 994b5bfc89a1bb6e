"""Turn granule records into one reach's time series (pure functions, arrays in and out).

The records of all granules of a basin arrive as two tables (reach rows and
node rows), each with the granule's observation id (``obs``: cycle * 1000 +
pass) and rank (later processing runs of the same pass rank higher).  For one
reach:

- the time axis holds every observation with a valid reach time or a valid
  time at any of its nodes, sorted by time ascending (the reach time, else the
  median node time of that pass);
- nodes are ordered by node_id (ascending: upstream to downstream in SWORD's
  numbering is not guaranteed, id order is); the node list is SWORD's /
  datagen's list for the reach plus any node observed, and nodes not observed on
  a pass are fill;
- when two granules hold the same reach and pass (reprocessed products), the
  row of the higher-ranked granule wins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from confluence_core.fill import INT_FILL, STR_FILL

#: Epoch of SWOT ``time`` (seconds since 2000-01-01 00:00:00 UTC).
SWOT_EPOCH = np.datetime64("2000-01-01T00:00:00", "s")


@dataclass
class Table:
    """Records of several granules: one array per field, aligned, plus ``obs`` and ``rank``."""

    cols: dict[str, np.ndarray]

    @property
    def n(self) -> int:
        return len(self.cols["reach_id"]) if self.cols else 0

    @classmethod
    def concat(cls, parts: list[dict[str, np.ndarray]], fields: list[str]) -> Table:
        """Concatenate per-granule column dicts (all holding ``fields``)."""
        if not parts:
            return cls({})
        return cls({f: np.concatenate([p[f] for p in parts]) for f in fields})

    def take(self, rows: np.ndarray) -> Table:
        return Table({k: v[rows] for k, v in self.cols.items()})


@dataclass
class ReachSeries:
    """One reach's arrays as written to ``{reach_id}_SWOT.nc``."""

    reach_id: int
    obs: np.ndarray  # int [nt]
    reach: dict[str, np.ndarray]  # [nt]
    node_id: np.ndarray  # int64 [nx]
    node: dict[str, np.ndarray]  # [nx, nt]


class Grouper:
    """Row ranges of each reach in a table, sorted once (so each reach is a slice, not a scan)."""

    def __init__(self, table: Table) -> None:
        self.table = table
        if table.n == 0:
            self.order = np.zeros(0, dtype=np.int64)
            self.keys = np.zeros(0, dtype=np.int64)
            return
        self.order = np.argsort(table.cols["reach_id"], kind="stable")
        self.keys = table.cols["reach_id"][self.order]

    def rows(self, reach_id: int) -> np.ndarray:
        lo, hi = np.searchsorted(self.keys, [reach_id, reach_id + 1])
        return self.order[lo:hi]


def time_to_str(seconds: np.ndarray) -> np.ndarray:
    """SWOT ``time`` (s since 2000-01-01 UTC) -> ``YYYY-MM-DDThh:mm:ssZ``; NaN -> ``no_data``."""
    seconds = np.asarray(seconds, dtype=np.float64)
    out = np.full(seconds.shape, STR_FILL, dtype=object)
    ok = np.isfinite(seconds)
    if ok.any():
        stamps = SWOT_EPOCH + np.round(seconds[ok]).astype("timedelta64[s]")
        out[ok] = [f"{s}Z" for s in np.datetime_as_string(stamps, unit="s")]
    return out


def _latest(keys: tuple[np.ndarray, ...], rank: np.ndarray) -> np.ndarray:
    """Indices of the highest-ranked row of each distinct key tuple (ties: the later row)."""
    order = np.lexsort((np.arange(rank.size), rank, *keys[::-1]))
    change = np.zeros(rank.size, dtype=bool)
    change[-1:] = True
    for k in keys:
        ks = k[order]
        change[:-1] |= ks[1:] != ks[:-1]
    return order[change]


def reach_series(
    reach_id: int,
    reach_rows: Table,
    node_rows: Table,
    known_nodes: np.ndarray,
    reach_fields: list[str],
    node_fields: list[str],
    tiled: tuple[str, ...],
) -> ReachSeries | None:
    """Assemble one reach's series from its reach and node rows; None when nothing was observed.

    Parameters
    ----------
    reach_id : int
    reach_rows, node_rows : Table
        The reach's rows (``obs``, ``rank``, ``time`` and the fields).
    known_nodes : numpy.ndarray of int64
        The reach's nodes from datagen (may be empty).
    reach_fields, node_fields : list of str
        Fields to return (``time_str`` is text; float fields NaN where unobserved,
        integer fields -999).
    tiled : tuple of str
        Node fields that repeat the reach value of the same time.
    """
    rr, nr = reach_rows, node_rows
    if rr.n:
        rr = rr.take(_latest((rr.cols["obs"],), rr.cols["rank"]))
    if nr.n:
        nr = nr.take(_latest((nr.cols["obs"], nr.cols["node_id"]), nr.cols["rank"]))
    r_valid = np.isfinite(rr.cols["time"]) if rr.n else np.zeros(0, bool)
    n_valid = np.isfinite(nr.cols["time"]) if nr.n else np.zeros(0, bool)
    obs = np.union1d(rr.cols["obs"][r_valid] if rr.n else [], nr.cols["obs"][n_valid] if nr.n else [])
    obs = obs.astype(np.int64)
    if obs.size == 0:
        return None
    # time of each observation: the reach's, else the median of its nodes'
    t = np.full(obs.size, np.nan)
    if nr.n and n_valid.any():
        nobs, ntime = nr.cols["obs"][n_valid], nr.cols["time"][n_valid]
        idx = np.searchsorted(obs, nobs)
        for k in np.unique(idx):
            t[k] = np.median(ntime[idx == k])
    if rr.n and r_valid.any():
        t[np.searchsorted(obs, rr.cols["obs"][r_valid])] = rr.cols["time"][r_valid]
    by_obs = obs
    order = np.argsort(t, kind="stable")
    obs = obs[order]
    pos_of = np.empty(obs.size, dtype=np.int64)
    pos_of[order] = np.arange(obs.size)  # sorted-by-obs position -> time position
    nt = obs.size

    reach: dict[str, np.ndarray] = {}
    r_in = np.isin(rr.cols["obs"], obs) if rr.n else np.zeros(0, bool)
    r_t = pos_of[np.searchsorted(by_obs, rr.cols["obs"][r_in])] if rr.n else np.zeros(0, int)
    for f in reach_fields:
        reach[f] = _blank(rr.cols.get(f), (nt,))
        if rr.n:
            reach[f][r_t] = rr.cols[f][r_in]
    fix = (reach["time_str"] == STR_FILL) & np.isfinite(reach["time"])
    reach["time_str"][fix] = time_to_str(reach["time"][fix])

    observed_nodes = nr.cols["node_id"][n_valid] if nr.n else np.zeros(0, np.int64)
    node_ids = np.union1d(np.asarray(known_nodes, dtype=np.int64), observed_nodes).astype(np.int64)
    node_ids = node_ids[node_ids > 0]
    nx = node_ids.size
    node: dict[str, np.ndarray] = {}
    n_in = (np.isin(nr.cols["obs"], obs) & np.isin(nr.cols["node_id"], node_ids)) if nr.n else np.zeros(0, bool)
    if nr.n:
        n_t = pos_of[np.searchsorted(by_obs, nr.cols["obs"][n_in])]
        n_x = np.searchsorted(node_ids, nr.cols["node_id"][n_in])
    for f in node_fields:
        if f in tiled:
            node[f] = np.tile(reach[f], (nx, 1))
            continue
        node[f] = _blank(nr.cols.get(f), (nx, nt))
        if nr.n:
            node[f][n_x, n_t] = nr.cols[f][n_in]
    fix = (node["time_str"] == STR_FILL) & np.isfinite(node["time"])
    node["time_str"][fix] = time_to_str(node["time"][fix])
    return ReachSeries(int(reach_id), obs, reach, node_ids, node)


def _blank(like: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray:
    """An all-fill array of ``like``'s kind: NaN floats, -999 ints, ``no_data`` text."""
    if like is None or like.dtype.kind == "f":
        return np.full(shape, np.nan)
    if like.dtype.kind in "iu":
        return np.full(shape, INT_FILL, dtype=np.int64)
    return np.full(shape, STR_FILL, dtype=object)


def utc_now() -> str:
    """History stamp in the reference file's format (``dd/mm/YYYY HH:MM:SS``, UTC)."""
    return dt.datetime.now(dt.UTC).strftime("%d/%m/%Y %H:%M:%S")
