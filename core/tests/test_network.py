"""River networks (confluence_core.network): constructors and the graph functions MOI integrates on."""

from __future__ import annotations

import numpy as np
import pytest
from confluence_core import network as nw
from confluence_core.sword import Reaches


def _rows(ids: list[int], down: dict[int, list[int]], up_only: dict[int, list[int]] | None = None):
    n = len(ids)
    up = np.zeros((n, 4), dtype=np.int64)
    dn = np.zeros((n, 4), dtype=np.int64)
    for i, r in enumerate(ids):
        dn[i, : len(down.get(r, []))] = down.get(r, [])
        ups = [u for u, ds in down.items() if r in ds] + (up_only or {}).get(r, [])
        up[i, : len(ups)] = ups
    return np.asarray(ids, dtype=np.int64), up, dn


def _table(ids: list[int], down: dict[int, list[int]], facc: list[float], orbits: bool = True) -> Reaches:
    rid, up, dn = _rows(ids, down)
    n = len(ids)
    nan = np.full(n, np.nan)
    orb = np.zeros((n, 75), dtype=np.int64)
    orb[:, 0] = 13
    orb[min(1, n - 1), 1] = 540
    return Reaches(reach_id=rid, reach_length=nan, width=nan, wse=nan, slope=nan,
                   facc=np.asarray(facc, dtype=float), n_nodes=np.zeros(n, np.int64), rch_id_up=up, rch_id_dn=dn,
                   dist_out=np.arange(n, dtype=float) * 1000.0, swot_orbits=orb if orbits else None)


def test_y_network_pointers_shares_and_accumulation() -> None:
    ids, up, dn = _rows([11, 21, 31, 41], {31: [21], 41: [21], 21: [11]})
    facc = np.array([1000.0, 900.0, 500.0, 300.0])
    net = nw.drainage(ids, up, dn, facc, np.arange(4.0))
    assert net.down.tolist() == [-1, 0, 1, 1]
    np.testing.assert_allclose(net.lateral_share, [0.1, (900 - 800) / 900, 1.0, 1.0])
    assert net.has_upstream().tolist() == [True, True, False, False]
    C = nw.accumulation(net.down).toarray()
    np.testing.assert_array_equal(C @ np.array([1.0, 2.0, 4.0, 8.0]), [15.0, 14.0, 4.0, 8.0])
    assert nw.outlet_of(net.down).tolist() == [0, 0, 0, 0]
    assert nw.levels(net.down).tolist() == [2, 1, 0, 0]


def test_link_listed_on_one_end_only_is_kept_and_outside_neighbours_ignored() -> None:
    # 21 lists 31 upstream, 31 lists nothing downstream; 11 lists an outside reach 99 downstream
    ids, up, dn = _rows([11, 21, 31], {21: [11], 11: [99]}, up_only={21: [31]})
    net = nw.drainage(ids, up, dn, np.array([3.0, 2.0, 1.0]), np.zeros(3))
    assert net.down.tolist() == [-1, 0, 1]


def test_bifurcation_goes_to_the_largest_facc_and_is_noted() -> None:
    ids, up, dn = _rows([11, 12, 21], {21: [12, 11]})
    net = nw.drainage(ids, up, dn, np.array([800.0, 100.0, 700.0]), np.zeros(3))
    assert net.down.tolist() == [-1, -1, 0]
    assert any("bifurcating" in note for note in net.notes)


def test_loop_is_cut_at_smallest_dist_out() -> None:
    ids, up, dn = _rows([11, 21, 31], {11: [21], 21: [31], 31: [11]})
    net = nw.drainage(ids, up, dn, np.array([1.0, 1.0, 1.0]), np.array([5.0, 1.0, 9.0]))
    assert net.down[1] == -1  # reach 21 (dist_out 1) became the outlet
    assert (nw.outlet_of(net.down) == 1).all()
    assert any("loop" in note for note in net.notes)


def test_missing_facc_gives_unknown_share_and_isolated_reaches() -> None:
    ids, up, dn = _rows([11, 21, 31], {21: [11]})
    net = nw.drainage(ids, up, dn, np.array([np.nan, 5.0, 7.0]), np.zeros(3))
    assert np.isnan(net.lateral_share[0]) and net.lateral_share[2] == pytest.approx(1.0)
    assert net.down[2] == -1 and nw.outlet_of(net.down)[2] == 2


def test_index_in_ignores_none_and_absent_ids() -> None:
    assert nw.index_in(np.array([31, 11, 21]), np.array([[21, 0, 99], [11, 31, -1]])).tolist() == [
        [2, -1, -1], [1, 0, -1]]
    assert nw.index_in(np.zeros(0, np.int64), np.array([11])).tolist() == [-1]


def test_from_sword_rows_and_reaches_it_lacks() -> None:
    table = _table([31, 11, 21], {31: [21], 21: [11]}, [100.0, 300.0, 200.0])
    net = nw.RiverNetwork.from_sword(table, np.array([11, 21, 77]), source="na_sword_v16.nc")
    assert net.up[:, 0].tolist() == [21, 31, 0] and net.dn[:, 0].tolist() == [0, 11, 0]
    np.testing.assert_array_equal(net.facc, [300.0, 200.0, np.nan])
    np.testing.assert_array_equal(net.dist_out, [1000.0, 2000.0, np.nan])
    assert net.orbits == [frozenset({13, 540}), frozenset({13}), frozenset()]
    assert net.n_up().tolist() == [1, 1, 0] and net.source == "na_sword_v16.nc"
    # the up neighbour 31 is outside this network: no index, no drainage link
    assert net.up_index()[:, 0].tolist() == [1, -1, -1]
    assert net.drainage().down.tolist() == [-1, 0, -1]
    no_orbits = nw.RiverNetwork.from_sword(_table([11], {}, [1.0], orbits=False), np.array([11]))
    assert no_orbits.orbits == [frozenset()]


def test_from_id_order_chains_reach_numbers_within_a_level6_basin() -> None:
    net = nw.RiverNetwork.from_id_order([81320300021, 81320300011, 81320300041, 81320300011, 81320400031])
    assert net.reach_id.tolist() == [81320300011, 81320300021, 81320300041, 81320400031]
    assert net.up[:, 0].tolist() == [81320300021, 0, 0, 0]
    assert net.dn[:, 0].tolist() == [0, 81320300011, 0, 0]
    assert np.isnan(net.facc).all() and net.source == "id order"


def test_with_sword_replaces_what_sword_knows_only() -> None:
    net = nw.RiverNetwork.from_id_order([81320300011, 81320300021, 81320300031])
    table = _table([81320300021, 81320300011], {81320300011: []}, [50.0, 60.0])
    merged, known = net.with_sword(table)
    assert known == 2
    assert merged.up[:, 0].tolist() == [0, 0, 0]  # SWORD lists no neighbour for 011 and 021
    assert merged.dn[:, 0].tolist() == [0, 0, 81320300021]  # 031 keeps its assumed neighbour
    np.testing.assert_array_equal(merged.facc, [60.0, 50.0, np.nan])
    assert merged.orbits == net.orbits


def test_from_indices_and_back() -> None:
    up_idx = np.array([[1, 2, -1, -1], [-1] * 4, [-1] * 4])
    dn_idx = np.array([[-1] * 4, [0, -1, -1, -1], [0, -1, -1, -1]])
    net = nw.RiverNetwork.from_indices(np.array([11, 21, 31]), up_idx, dn_idx, dist_out=np.array([1.0, 2, 3]))
    assert net.up.tolist()[0] == [21, 31, 0, 0] and net.dn[:, 0].tolist() == [0, 11, 11]
    np.testing.assert_array_equal(net.up_index(), up_idx)
    np.testing.assert_array_equal(net.dn_index(), dn_idx)
    assert nw.levels(net.drainage().down).tolist() == [1, 0, 0]
