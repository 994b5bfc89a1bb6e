"""Reach sets for the multi-reach flow laws (contracts.md section 4).

A set is a chain of reaches ordered upstream to downstream.  Sets grow from a
seed reach that has exactly one upstream neighbour, one reach at a time up and
down, while the neighbour

- is a type-1 river reach of this run and not yet in another set,
- joins without a junction (the link is the only upstream/downstream link of both reaches),
- keeps the flow accumulation rise small: ``facc_down <= facc_up * (1 + cutoff)``
  (facc in km2 from SWORD; with no facc nothing grows),
- and, when the rule asks, is seen on the same SWOT orbits.

Seeds are taken upstream first (ascending facc, then reach id); each reach is in
at most one set of a kind.  MetroMan (Durand et al. 2014, doi:10.1016/j.jhydrol.2013.12.050)
grows sets of at least three reaches; every type-1 reach left out of a grown set
becomes a set of its own for all three algorithms (HiVDI and SIC4DVar run on single
reaches, and MetroMan has a single-reach fallback: our addition to the public
workflow's metrosets, so that every river reach gets a MetroMan estimate; the
multi-reach sets come first in the list).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SetRule:
    """How the sets of one algorithm are built.

    Attributes
    ----------
    cutoff : float
        Largest relative rise of facc between neighbours (0.1 = 10 %).
    max_each_way : int or None
        Most reaches added upstream and downstream of the seed (None: no limit).
    min_size : int
        Smallest grown set kept.
    same_orbits : bool
        Neighbours must be seen on the same orbits as the seed.
    singles : bool
        Add a single-reach set for every type-1 reach left out of the grown sets.
    """

    cutoff: float
    max_each_way: int | None
    min_size: int
    same_orbits: bool
    singles: bool = True


#: Set rules by output file stem (``{name}_{c}.json``).
SET_RULES: dict[str, SetRule] = {
    "metrosets": SetRule(cutoff=0.10, max_each_way=2, min_size=3, same_orbits=True),
    "hivdisets": SetRule(cutoff=0.30, max_each_way=None, min_size=1, same_orbits=False),
    "sicsets": SetRule(cutoff=0.30, max_each_way=None, min_size=1, same_orbits=False),
}


def build_sets(
    reach_ids: np.ndarray,
    up: np.ndarray,
    dn: np.ndarray,
    facc: np.ndarray,
    orbits: list[frozenset[int]] | None,
    rule: SetRule,
) -> list[list[int]]:
    """Return the reach sets of ``rule`` for the type-1 reaches in ``reach_ids``.

    Parameters
    ----------
    reach_ids : numpy.ndarray of int64, shape (n,)
        Reaches of the run (any type; only type 1 enter sets).
    up, dn : numpy.ndarray of int64, shape (n, k)
        Upstream / downstream neighbour ids of each reach, 0 where none.
    facc : numpy.ndarray of float, shape (n,)
        Flow accumulation (km2); NaN where unknown (such a reach never grows a set).
    orbits : list of frozenset of int, optional
        Orbits (passes) of each reach, used when ``rule.same_orbits``.
    rule : SetRule

    Returns
    -------
    list of list of int
        Sets of reach ids, each ordered upstream to downstream.
    """
    reach_ids = np.asarray(reach_ids, dtype=np.int64)
    row = {int(r): i for i, r in enumerate(reach_ids)}
    river = (reach_ids % 10) == 1
    n_up = (up > 0).sum(axis=1)
    n_dn = (dn > 0).sum(axis=1)
    used = np.zeros(reach_ids.size, dtype=bool)

    def link_ok(i_up: int, i_dn: int, seed: int) -> bool:
        if used[i_up] or used[i_dn] or not (river[i_up] and river[i_dn]):
            return False
        if n_dn[i_up] != 1 or n_up[i_dn] != 1:
            return False
        if not facc[i_dn] <= facc[i_up] * (1.0 + rule.cutoff):  # NaN fails
            return False
        return not (rule.same_orbits and orbits is not None
                    and not (orbits[i_up] == orbits[seed] == orbits[i_dn]))

    def neighbour(i: int, table: np.ndarray) -> int | None:
        ids = table[i][table[i] > 0]
        return row.get(int(ids[0])) if ids.size == 1 else None

    limit = rule.max_each_way if rule.max_each_way is not None else reach_ids.size
    order = np.lexsort((reach_ids, np.nan_to_num(facc, nan=np.inf)))
    sets: list[list[int]] = []
    for seed in order:
        if used[seed] or not river[seed] or n_up[seed] != 1:
            continue
        chain_up: list[int] = []
        cur = seed
        while len(chain_up) < limit:
            nxt = neighbour(cur, up)
            if nxt is None or nxt in chain_up or not link_ok(nxt, cur, seed):
                break
            chain_up.append(nxt)
            cur = nxt
        chain_dn: list[int] = []
        cur = seed
        while len(chain_dn) < limit:
            nxt = neighbour(cur, dn)
            if nxt is None or nxt in chain_dn or nxt in chain_up or not link_ok(cur, nxt, seed):
                break
            chain_dn.append(nxt)
            cur = nxt
        chain = [*chain_up[::-1], int(seed), *chain_dn]
        if len(chain) >= max(rule.min_size, 2):
            used[chain] = True
            sets.append([int(reach_ids[i]) for i in chain])
    if rule.singles:
        sets.extend([int(reach_ids[i])] for i in np.flatnonzero(river & ~used))
    return sets
