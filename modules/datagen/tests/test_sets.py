"""Reach sets (confluence_datagen.sets) on small hand-made networks."""

from __future__ import annotations

import numpy as np
from confluence_datagen.sets import SET_RULES, SetRule, build_sets

# A chain 11 -> 21 -> ... -> 71 (ids grow downstream), ending in a junction at 81 fed by 91 too.
IDS = np.array([71000000011, 71000000021, 71000000031, 71000000041, 71000000051, 71000000061,
                71000000071, 71000000081, 71000000091], dtype=np.int64)


def topo(links: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    row = {int(r): i for i, r in enumerate(IDS)}
    up = np.zeros((IDS.size, 4), np.int64)
    dn = np.zeros((IDS.size, 4), np.int64)
    for a, b in links:  # a flows into b
        ia, ib = row[int(IDS[a])], row[int(IDS[b])]
        dn[ia, (dn[ia] > 0).sum()] = IDS[b]
        up[ib, (up[ib] > 0).sum()] = IDS[a]
    return up, dn


LINKS = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 7), (8, 7)]
FACC = np.array([100, 101, 102, 103, 104, 105, 106, 300, 150], dtype=float)


def test_metroman_sets_capped_and_min_three() -> None:
    up, dn = topo(LINKS)
    sets = build_sets(IDS, up, dn, FACC, None, SET_RULES["metrosets"])
    # seed 21 (one upstream), 2 up at most (only 11 exists), 2 down: 11 21 31 41
    assert sets[0] == [int(IDS[i]) for i in (0, 1, 2, 3)]
    grown = [s for s in sets if len(s) > 1]
    assert all(len(s) >= 3 for s in grown)
    assert sets[: len(grown)] == grown  # grown sets first, then the single-reach fallbacks
    flat = [r for s in sets for r in s]
    assert len(flat) == len(set(flat))  # no reach in two sets
    assert [int(IDS[7])] in sets  # junction reach: two upstream neighbours, so only a single-reach set


def test_facc_cutoff_stops_growth() -> None:
    up, dn = topo(LINKS)
    facc = FACC.copy()
    facc[3] = 200.0  # 31 -> 41 rises 96 %
    sets = build_sets(IDS, up, dn, facc, None, SET_RULES["metrosets"])
    assert [int(IDS[i]) for i in (0, 1, 2)] in sets
    assert all(int(IDS[3]) not in s or s.index(int(IDS[3])) == 0 for s in sets)


def test_hivdi_sets_cover_every_river_reach() -> None:
    up, dn = topo(LINKS)
    ids = IDS.copy()
    sets = build_sets(ids, up, dn, FACC, None, SET_RULES["hivdisets"])
    flat = sorted(r for s in sets for r in s)
    assert flat == sorted(int(r) for r in ids)
    assert [int(IDS[i]) for i in range(7)] in sets  # the whole chain, no cap
    assert [int(IDS[7])] in sets and [int(IDS[8])] in sets  # singles allowed


def test_same_orbits_required_for_metroman() -> None:
    up, dn = topo(LINKS)
    orbits = [frozenset({51})] * IDS.size
    orbits[2] = frozenset({51, 372})
    sets = build_sets(IDS, up, dn, FACC, orbits, SET_RULES["metrosets"])
    assert all(int(IDS[2]) not in s for s in sets if len(s) > 1)
    assert [int(IDS[2])] in sets


def test_no_facc_no_growth_and_non_river_left_out() -> None:
    up, dn = topo(LINKS)
    ids = IDS.copy()
    ids[4] = 71000000053  # a lake on river
    nan = np.full(ids.size, np.nan)
    assert build_sets(ids, up, dn, nan, None, SetRule(0.1, 2, 3, True, singles=False)) == []
    assert all(len(s) == 1 for s in build_sets(ids, up, dn, nan, None, SET_RULES["metrosets"]))
    single = build_sets(ids, up, dn, nan, None, SetRule(0.3, None, 1, False))
    assert [71000000053] not in single and len(single) == ids.size - 1
