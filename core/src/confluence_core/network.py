"""River networks: reaches with their SWORD topology, and the graph functions on them.

A :class:`RiverNetwork` holds a set of reaches and what SWORD says of them
(contracts.md section 7), as arrays aligned on ``reach_id``:
``up`` / ``dn`` (``rch_id_up`` / ``rch_id_dn`` as [n, 4] reach ids, 0 where
none), ``facc`` (km2), ``dist_out`` (m) and the SWOT orbits that see each
reach.  It is built from SWORD rows (:meth:`RiverNetwork.from_sword`), from
the id order when no SWORD is given (:meth:`RiverNetwork.from_id_order`), or
from neighbour indices (:meth:`RiverNetwork.from_indices`, the demo
generator).  Neighbours outside the network may be listed (SWORD lists them).

:func:`drainage` turns the topology into a forest in which every reach drains
into at most one downstream reach of the network (:class:`Drainage`):

- links are the union of ``rch_id_dn`` of a reach and the ``rch_id_up`` of the
  others (SWORD lists each link on both ends; a link listed on one end only is
  kept); neighbours outside the network are ignored (their flow is lateral
  inflow);
- a reach with several downstream reaches (a bifurcation, multichannel
  SWORD) keeps the one with the largest flow accumulation ``facc``: its whole
  mean flow goes there; the other branch receives the flow as lateral inflow
  (mean flows cannot be split without knowing the split ratio);
- links that close a loop are cut at the reach closest to the outlet (smallest
  ``dist_out``).

Flow accumulation (``facc``, km2) gives the expected share of a reach's mean
flow that enters laterally between its upstream reaches and itself: the
drainage area added there over its total drainage area (uniform specific
runoff); Durand et al. (2023), doi:10.1029/2021WR031614 (Confluence) use SWORD
``facc`` in the same spirit to grow reach sets.  The other functions
(:func:`accumulation`, :func:`outlet_of`, :func:`levels`,
:func:`lateral_share`) work on the downstream pointers of a :class:`Drainage`.

Pure functions: arrays in, arrays out, no files.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from .ids import level6_basin_of, reach_number_of
from .sword import N_DOMAINS, Reaches

if TYPE_CHECKING:
    import scipy.sparse as sp


def index_in(reach_id: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Position of each of ``ids`` in ``reach_id``; -1 where absent (and for ids <= 0, SWORD's "none").

    Parameters
    ----------
    reach_id : array of int64, shape (n,)
        Any order.  With repeated ids, the first in sorted order is found.
    ids : array of int64, any shape

    Returns
    -------
    ndarray of int64, the shape of ``ids``
    """
    reach_id = np.asarray(reach_id, dtype=np.int64)
    ids = np.asarray(ids, dtype=np.int64)
    n = reach_id.size
    if n == 0:
        return np.full(ids.shape, -1, dtype=np.int64)
    order = np.argsort(reach_id)
    sorted_ids = reach_id[order]
    pos = np.clip(np.searchsorted(sorted_ids, ids), 0, n - 1)
    hit = (ids > 0) & (sorted_ids[pos] == ids)
    return np.where(hit, order[pos], -1)


@dataclass(frozen=True)
class RiverNetwork:
    """Reaches and their SWORD topology (arrays aligned on ``reach_id``).

    Attributes
    ----------
    reach_id : ndarray of int64, shape (n,)
    up, dn : ndarray of int64, shape (n, 4)
        Upstream / downstream neighbour reach ids (SWORD ``rch_id_up`` /
        ``rch_id_dn``, reach-major), 0 where none.  Neighbours need not be in
        the network.
    facc : ndarray of float, shape (n,)
        Flow accumulation (km2); NaN where unknown.
    dist_out : ndarray of float, shape (n,)
        Distance to the outlet (m); NaN where unknown.
    orbits : list of frozenset of int
        SWOT orbits (passes) that see each reach; empty where unknown.
    source : str
        Where the topology came from (a SWORD file name, ``granules``, ``id order``...), for logs.
    """

    reach_id: np.ndarray
    up: np.ndarray
    dn: np.ndarray
    facc: np.ndarray
    dist_out: np.ndarray
    orbits: list[frozenset[int]]
    source: str = ""

    @property
    def n(self) -> int:
        return int(self.reach_id.size)

    def n_up(self) -> np.ndarray:
        """Number of upstream neighbours of each reach (SWORD ``n_rch_up``)."""
        count: np.ndarray = (self.up > 0).sum(axis=1)
        return count

    def n_dn(self) -> np.ndarray:
        """Number of downstream neighbours of each reach (SWORD ``n_rch_down``)."""
        count: np.ndarray = (self.dn > 0).sum(axis=1)
        return count

    def up_index(self) -> np.ndarray:
        """Upstream neighbours as indices into the network [n, 4]; -1 where none or outside it."""
        return index_in(self.reach_id, self.up)

    def dn_index(self) -> np.ndarray:
        """Downstream neighbours as indices into the network [n, 4]; -1 where none or outside it."""
        return index_in(self.reach_id, self.dn)

    def drainage(self) -> Drainage:
        """The downstream forest of the network (see :func:`drainage`)."""
        return drainage(self.reach_id, self.up, self.dn, self.facc, self.dist_out)

    def with_sword(self, table: Reaches) -> tuple[RiverNetwork, int]:
        """This network with SWORD's neighbours, ``facc`` and ``dist_out`` for the reaches ``table`` holds.

        Reaches SWORD does not hold keep what they had; orbits are kept.
        Returns the new network and how many reaches SWORD held.
        """
        rows = index_in(table.reach_id, self.reach_id)
        known = rows >= 0
        r = np.maximum(rows, 0)

        def pick(values: np.ndarray, mine: np.ndarray) -> np.ndarray:
            mask = known[:, None] if values.ndim == 2 else known
            return np.where(mask, values[r], mine) if values.size else mine.copy()

        net = replace(self, up=pick(table.rch_id_up, self.up), dn=pick(table.rch_id_dn, self.dn),
                      facc=pick(table.facc, self.facc), dist_out=pick(table.dist_out, self.dist_out))
        return net, int(known.sum())

    @classmethod
    def empty(cls, source: str = "none") -> RiverNetwork:
        """A network of no reach."""
        topo = np.zeros((0, N_DOMAINS), dtype=np.int64)
        return cls(np.zeros(0, dtype=np.int64), topo, topo.copy(), np.zeros(0), np.zeros(0), [], source)

    @classmethod
    def from_sword(cls, table: Reaches, reach_id: np.ndarray, source: str = "") -> RiverNetwork:
        """The network of ``reach_id`` with the SWORD rows of ``table``.

        Reaches absent from ``table`` have no neighbours, NaN ``facc`` and
        ``dist_out`` and no orbits (see :func:`index_in` to find them).  Orbits
        are SWORD's ``swot_orbits`` (none when the file has no such variable).
        """
        ids = np.asarray(reach_id, dtype=np.int64)
        rows = index_in(table.reach_id, ids)
        found = rows >= 0
        base = cls(ids, np.zeros((ids.size, N_DOMAINS), np.int64), np.zeros((ids.size, N_DOMAINS), np.int64),
                   np.full(ids.size, np.nan), np.full(ids.size, np.nan), [frozenset() for _ in range(ids.size)],
                   source)
        net, _ = base.with_sword(table)
        if table.swot_orbits is not None:
            orbits = [frozenset(int(o) for o in table.swot_orbits[i] if o > 0) if ok else frozenset()
                      for i, ok in zip(rows.tolist(), found.tolist(), strict=True)]
            net = replace(net, orbits=orbits)
        return net

    @classmethod
    def from_id_order(cls, reach_ids: Iterable[int]) -> RiverNetwork:
        """Chain the reaches by id, the assumption made when no SWORD is given.

        Within one SWORD level-6 basin (first 6 digits) the reach numbers
        (digits 7-10) of one river grow upstream (true of the Kobuk reaches
        81320300011-051 and of SWORD's numbering along a main stem, not
        guaranteed across tributaries): reach ``CBBBBBRRRRT``'s upstream
        neighbour is the network's reach with number ``RRRR + 1`` in the same
        basin, its downstream neighbour ``RRRR - 1``.  Reaches without such a
        neighbour in the network have none.  Ids are sorted and made unique;
        ``facc`` and ``dist_out`` are unknown (NaN), orbits empty.
        """
        ids = np.asarray(sorted({int(r) for r in reach_ids}), dtype=np.int64)
        basin, number = level6_basin_of(ids), reach_number_of(ids)
        key = {(int(b), int(k)): int(r) for b, k, r in zip(basin, number, ids, strict=True)}
        up = np.zeros((ids.size, N_DOMAINS), dtype=np.int64)
        dn = np.zeros((ids.size, N_DOMAINS), dtype=np.int64)
        for i, (b, k) in enumerate(zip(basin.tolist(), number.tolist(), strict=True)):
            up[i, 0] = key.get((b, k + 1), 0)
            dn[i, 0] = key.get((b, k - 1), 0)
        nan = np.full(ids.size, np.nan)
        return cls(ids, up, dn, nan, nan.copy(), [frozenset() for _ in range(ids.size)], "id order")

    @classmethod
    def from_indices(cls, reach_id: np.ndarray, up_index: np.ndarray, dn_index: np.ndarray,
                     facc: np.ndarray | None = None, dist_out: np.ndarray | None = None,
                     source: str = "") -> RiverNetwork:
        """A network whose neighbours are given as indices into ``reach_id`` ([n, 4], -1 where none)."""
        ids = np.asarray(reach_id, dtype=np.int64)

        def to_ids(index: np.ndarray) -> np.ndarray:
            return np.where(index >= 0, ids[np.maximum(index, 0)], 0)

        nan = np.full(ids.size, np.nan)
        return cls(ids, to_ids(np.asarray(up_index)), to_ids(np.asarray(dn_index)),
                   nan if facc is None else np.asarray(facc, dtype=np.float64),
                   nan.copy() if dist_out is None else np.asarray(dist_out, dtype=np.float64),
                   [frozenset() for _ in range(ids.size)], source)


@dataclass(frozen=True)
class Drainage:
    """Reaches and how they drain: one downstream pointer per reach (arrays aligned by reach).

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


def drainage(reach_id: np.ndarray, rch_id_up: np.ndarray, rch_id_dn: np.ndarray, facc: np.ndarray,
             dist_out: np.ndarray) -> Drainage:
    """Build the downstream forest of ``reach_id`` from SWORD topology rows aligned with it.

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
    Drainage
    """
    reach_id = np.asarray(reach_id, dtype=np.int64)
    n = reach_id.size
    facc = np.asarray(facc, dtype=np.float64)
    notes: list[str] = []
    rows = np.repeat(np.arange(n), np.shape(rch_id_dn)[1])
    dn_idx = index_in(reach_id, np.asarray(rch_id_dn, dtype=np.int64).ravel())
    up_idx = index_in(reach_id, np.asarray(rch_id_up, dtype=np.int64).ravel())
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
    down = cut_loops(down, np.asarray(dist_out, dtype=np.float64), reach_id, notes)
    share = lateral_share(down, facc)
    return Drainage(reach_id=reach_id, down=down, lateral_share=share, notes=notes)


def cut_loops(down: np.ndarray, dist_out: np.ndarray, reach_id: np.ndarray, notes: list[str]) -> np.ndarray:
    """Cut every loop of the downstream pointers at its reach of smallest ``dist_out`` (appends to ``notes``)."""
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
    """Accumulation matrix ``C`` (n x n, scipy sparse): ``C[i, k] = 1`` when reach k is i or upstream of i.

    Mean flows are then ``Q = C @ L`` for lateral inflows ``L`` (m3/s): every
    reach carries its own lateral inflow plus all inflow upstream of it.
    ``down`` must be loop-free (:func:`drainage` guarantees it).  Needs scipy
    (``confluence-core[network]``).
    """
    import scipy.sparse as sp

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
