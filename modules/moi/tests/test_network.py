"""Network building from SWORD-like topology rows."""

from __future__ import annotations

import numpy as np
import pytest
from confluence_moi import network as nw


def _rows(ids: list[int], down: dict[int, list[int]], up_only: dict[int, list[int]] | None = None):
    n = len(ids)
    up = np.zeros((n, 4), dtype=np.int64)
    dn = np.zeros((n, 4), dtype=np.int64)
    for i, r in enumerate(ids):
        dn[i, : len(down.get(r, []))] = down.get(r, [])
        ups = [u for u, ds in down.items() if r in ds] + (up_only or {}).get(r, [])
        up[i, : len(ups)] = ups
    return np.asarray(ids, dtype=np.int64), up, dn


def test_y_network_pointers_shares_and_accumulation() -> None:
    ids, up, dn = _rows([11, 21, 31, 41], {31: [21], 41: [21], 21: [11]})
    facc = np.array([1000.0, 900.0, 500.0, 300.0])
    net = nw.build(ids, up, dn, facc, np.arange(4.0))
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
    net = nw.build(ids, up, dn, np.array([3.0, 2.0, 1.0]), np.zeros(3))
    assert net.down.tolist() == [-1, 0, 1]


def test_bifurcation_goes_to_the_largest_facc_and_is_noted() -> None:
    ids, up, dn = _rows([11, 12, 21], {21: [12, 11]})
    net = nw.build(ids, up, dn, np.array([800.0, 100.0, 700.0]), np.zeros(3))
    assert net.down.tolist() == [-1, -1, 0]
    assert any("bifurcating" in note for note in net.notes)


def test_loop_is_cut_at_smallest_dist_out() -> None:
    ids, up, dn = _rows([11, 21, 31], {11: [21], 21: [31], 31: [11]})
    net = nw.build(ids, up, dn, np.array([1.0, 1.0, 1.0]), np.array([5.0, 1.0, 9.0]))
    assert net.down[1] == -1  # reach 21 (dist_out 1) became the outlet
    assert (nw.outlet_of(net.down) == 1).all()
    assert any("loop" in note for note in net.notes)


def test_missing_facc_gives_unknown_share_and_isolated_reaches() -> None:
    ids, up, dn = _rows([11, 21, 31], {21: [11]})
    net = nw.build(ids, up, dn, np.array([np.nan, 5.0, 7.0]), np.zeros(3))
    assert np.isnan(net.lateral_share[0]) and net.lateral_share[2] == pytest.approx(1.0)
    assert net.down[2] == -1 and nw.outlet_of(net.down)[2] == 2
