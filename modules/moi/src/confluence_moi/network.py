"""The river network of a basin as arrays: one downstream pointer per reach, accumulation, lateral shares.

Pure functions: arrays in, arrays out, no files.  The SWORD topology
(``rch_id_up`` / ``rch_id_dn``, contracts.md section 7) becomes a forest in
which every reach drains into at most one downstream reach of the network:

- links are the union of ``rch_id_dn`` of a reach and the ``rch_id_up`` of the
  others (SWORD lists each link on both ends; a link listed on one end only is
  kept);
- a reach with several downstream reaches (a bifurcation, multichannel
  SWORD) keeps the one with the largest flow accumulation ``facc``: its whole
  mean flow goes there; the other branch receives the flow as lateral inflow
  (mean flows cannot be split without knowing the split ratio);
- links that close a loop are cut at the reach closest to the outlet (smallest
  ``dist_out``).

Flow accumulation (``facc``, km2) gives the expected share of a reach's mean
flow that enters laterally between its upstream reaches and itself: the
drainage area added there over its total drainage area (uniform specific
runoff), Durand et al. (2023), doi:10.1029/2021WR031614 (Confluence) use SWORD
``facc`` in the same spirit to grow reach sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class Network:
    """Reaches of a basin and how they drain (arrays aligned by reach).

    Attributes
    ----------
    reach_id : ndarray of int64, shape (n,)
    down : ndarray of int, shape (n,)
        Index of the reach each reach drains into, -1 at an outlet (or an
        isolated reach).
    lateral_share : ndarray of float, shape (n,)
        Expected fraction (0-1) of the reach's mean flow that enters laterally
        (``(facc - sum of upstream facc) / facc``); 1 for a headwater; NaN
        where ``facc`` is unknown.
    notes : list of str
        What the builder changed or could not use (for the log).
    """

    reach_id: np.ndarray
    down: np.ndarray
    lateral_share: np.ndarray
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return int(self.reach_id.size)

    def has_upstream(self) -> np.ndarray:
        """True for reaches with at least one upstream reach in the network."""
        out = np.zeros(self.n, dtype=bool)
        out[self.down[self.down >= 0]] = True
        return out


def build(reach_id: np.ndarray, rch_id_up: np.ndarray, rch_id_dn: np.ndarray, facc: np.ndarray,
          dist_out: np.ndarray) -> Network:
    """Build the network of ``reach_id`` from SWORD topology rows aligned with it.

    Parameters
    ----------
    reach_id : array of int64, shape (n,)
        The reaches of the network (SWORD ids).
    rch_id_up, rch_id_dn : array of int64, shape (n, 4)
        SWORD upstream / downstream neighbour ids, 0 where none.  Neighbours
        outside ``reach_id`` are ignored (their flow is lateral inflow).
        Rows of reaches missing from SWORD are all 0 (isolated reaches).
    facc : array of float, shape (n,)
        Flow accumulation (km2); NaN where unknown.
    dist_out : array of float, shape (n,)
        Distance to the outlet (m), used to cut loops; NaN where unknown.

    Returns
    -------
    Network
    """
    reach_id = np.asarray(reach_id, dtype=np.int64)
    n = reach_id.size
    facc = np.asarray(facc, dtype=np.float64)
    notes: list[str] = []
    order = np.argsort(reach_id)
    sorted_ids = reach_id[order]

    def index_of(ids: np.ndarray) -> np.ndarray:
        pos = np.clip(np.searchsorted(sorted_ids, ids), 0, max(n - 1, 0))
        hit = (ids > 0) & (sorted_ids[pos] == ids) if n else np.zeros(ids.shape, bool)
        return np.where(hit, order[pos], -1)

    rows = np.repeat(np.arange(n), rch_id_dn.shape[1])
    dn_idx = index_of(np.asarray(rch_id_dn, dtype=np.int64).ravel())
    up_idx = index_of(np.asarray(rch_id_up, dtype=np.int64).ravel())
    # links u -> d: from u's downstream list, and from d's upstream list
    src = np.concatenate([rows[dn_idx >= 0], up_idx[up_idx >= 0]])
    dst = np.concatenate([dn_idx[dn_idx >= 0], rows[up_idx >= 0]])
    keep = src != dst
    src, dst = src[keep], dst[keep]
    down = np.full(n, -1, dtype=np.int64)
    if src.size:
        # per source, keep the destination with the largest facc (NaN facc last)
        score = np.nan_to_num(facc[dst], nan=-np.inf)
        pick = np.lexsort((-score, src))
        first = np.r_[True, src[pick][1:] != src[pick][:-1]]
        down[src[pick][first]] = dst[pick][first]
        n_split = int((np.bincount(np.unique(np.c_[src, dst], axis=0)[:, 0], minlength=n) > 1).sum())
        if n_split:
            notes.append(f"{n_split} bifurcating reach(es): flow sent to the branch with the largest facc")
    down = _cut_loops(down, np.asarray(dist_out, dtype=np.float64), reach_id, notes)
    share = lateral_share(down, facc)
    return Network(reach_id=reach_id, down=down, lateral_share=share, notes=notes)


def _cut_loops(down: np.ndarray, dist_out: np.ndarray, reach_id: np.ndarray, notes: list[str]) -> np.ndarray:
    """Cut every loop of the downstream pointers at its reach of smallest ``dist_out``."""
    down = down.copy()
    n = down.size
    while True:
        cur = np.arange(n)
        for _ in range(n + 1):  # after n steps every walk that has not ended is in a loop
            nxt = np.where(cur >= 0, down[np.maximum(cur, 0)], -1)
            if (nxt < 0).all():
                return down
            cur = nxt
        # cur now holds, for walks that did not end, a reach on a loop
        start = int(cur[cur >= 0][0])
        loop = [start]
        while down[loop[-1]] != start:
            loop.append(int(down[loop[-1]]))
        members = np.asarray(loop)
        cut = members[np.argmin(np.nan_to_num(dist_out[members], nan=np.inf))]
        notes.append(f"loop through {members.size} reaches cut at reach {reach_id[cut]}")
        down[cut] = -1


def lateral_share(down: np.ndarray, facc: np.ndarray) -> np.ndarray:
    """Expected lateral share of each reach's mean flow from flow accumulation.

    Parameters
    ----------
    down : array of int, shape (n,)
        Downstream pointers (-1 none).
    facc : array of float, shape (n,)
        Flow accumulation (km2).

    Returns
    -------
    ndarray, shape (n,)
        ``clip((facc - sum(facc of upstream reaches)) / facc, 0, 1)``; 1 for a
        headwater; NaN where the reach's or an upstream reach's ``facc`` is
        not a positive number.
    """
    n = down.size
    facc = np.where(np.asarray(facc, dtype=np.float64) > 0, facc, np.nan)
    has = down >= 0
    inflow = np.zeros(n)
    np.add.at(inflow, down[has], facc[has])  # NaN upstream facc -> NaN inflow
    share = np.clip((facc - inflow) / facc, 0.0, 1.0)
    return np.where(np.isfinite(facc), share, np.nan)


def accumulation(down: np.ndarray) -> sp.csr_matrix:
    """Accumulation matrix ``C`` (n x n): ``C[i, k] = 1`` when reach k is i or upstream of i.

    Mean flows are then ``Q = C @ L`` for lateral inflows ``L`` (m3/s): every
    reach carries its own lateral inflow plus all inflow upstream of it.
    ``down`` must be loop-free (:func:`build` guarantees it).
    """
    n = down.size
    rows, cols = [], []
    cur = np.arange(n)
    src = np.arange(n)
    while cur.size:
        rows.append(cur)
        cols.append(src)
        nxt = down[cur]
        ok = nxt >= 0
        cur, src = nxt[ok], src[ok]
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    return sp.csr_matrix((np.ones(r.size), (r, c)), shape=(n, n))


def outlet_of(down: np.ndarray) -> np.ndarray:
    """Index of the outlet each reach drains to (itself for an outlet): its connected component."""
    out = np.arange(down.size)
    while True:
        nxt = down[out]
        move = nxt >= 0
        if not move.any():
            return out
        out = np.where(move, nxt, out)


def levels(down: np.ndarray) -> np.ndarray:
    """Topological level: 0 for headwaters, else 1 + the largest level of the upstream reaches."""
    n = down.size
    level = np.zeros(n, dtype=np.int64)
    frontier = np.setdiff1d(np.arange(n), down[down >= 0])  # headwaters
    step = 0
    while frontier.size:
        level[frontier] = np.maximum(level[frontier], step)
        nxt = down[frontier]
        frontier = np.unique(nxt[nxt >= 0])
        step += 1
    return level
