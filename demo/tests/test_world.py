"""World invariants: ids, topology, mass, Manning, observation counts, planted bad data."""

from __future__ import annotations

import numpy as np
from confluence_core import ids
from confluence_core.jsonio import read_json
from confluence_demo import hydrology


def test_counts_and_features(world) -> None:
    assert world.n_type1 >= 30
    man = read_json(world.manifest)
    assert set(man["continents"]) == {"na", "eu"}
    assert sum(len(b) for b in man["continents"].values()) >= 3
    assert man["dam_reach_ids"] and man["lake_reach_ids"] and man["junction_reach_ids"]
    assert man["counts"]["type1_reaches"] == len(man["type1_reach_ids"]) == world.n_type1


def test_ids_follow_contract(truth) -> None:
    rids = truth["reaches/reach_id"][:]
    types = truth["reaches/type"][:]
    for rid, t in zip(rids, types, strict=True):
        assert ids.reach_type(rid) == t
        assert ids.continent_of(rid) in ("na", "eu")
    nids = truth["nodes/node_id"][:]
    nreach = truth["nodes/reach_id"][:]
    assert all(int(ids.reach_of_node(n)) == r for n, r in zip(nids, nreach, strict=True))
    assert len(set(nids.tolist())) == nids.size
    n_nodes = truth["reaches/n_nodes"][:]
    assert n_nodes[types == 1].min() >= 10 and n_nodes[types == 1].max() <= 60
    # ~200 m node spacing
    spacing = truth["reaches/length"][:] / n_nodes
    assert np.all((spacing > 180) & (spacing < 220))


def test_topology_has_junction_dam_and_lake_inside_chain(truth) -> None:
    rids = truth["reaches/reach_id"][:]
    types = truth["reaches/type"][:]
    up = truth["reaches/rch_id_up"][:]
    assert ((up > 0).sum(axis=1) == 2).any()
    for special in (3, 4):
        for r in np.flatnonzero(types == special):
            ups = up[r][up[r] > 0]
            downs = [rids[i] for i in range(rids.size) if rids[r] in up[i]]
            assert ups.size and downs, "a dam or lake reach must sit inside a river chain"


def test_mass_consistency(truth) -> None:
    rids = truth["reaches/reach_id"][:]
    q = truth["reaches/q"][:]
    lat = truth["reaches/lateral_q"][:]
    up = truth["reaches/rch_id_up"][:]
    row = {int(r): i for i, r in enumerate(rids)}
    for i in range(rids.size):
        ups = [row[int(u)] for u in up[i] if u > 0]
        if not ups:
            continue
        inflow = q[ups].sum(axis=0)
        np.testing.assert_allclose(q[i] - inflow, lat[i], rtol=1e-9, atol=1e-9)
        assert np.all(lat[i] >= 0)
        assert np.all(lat[i] / q[i] < 0.1)


def test_manning_holds_for_truth(truth) -> None:
    g = truth["reaches"]
    q, A, W, S, Y = (g[v][:] for v in ("q", "area", "width", "slope", "depth"))
    n = g["manning_n"][:][:, None]
    np.testing.assert_allclose(A * (A / W) ** (2 / 3) * np.sqrt(S) / n, q, rtol=1e-9)
    Wb, Db, b = (g[v][:][:, None] for v in ("Wb", "Db", "b"))
    np.testing.assert_allclose(hydrology.width(Y, Wb, Db, b), W, rtol=1e-12)
    np.testing.assert_allclose(A - g["A0"][:][:, None], g["d_x_area"][:], rtol=1e-9, atol=1e-6)
    # d_x_area is zero at the median depth (the reference of A0)
    ref = hydrology.area(g["depth_ref"][:], Wb[:, 0], Db[:, 0], b[:, 0])
    np.testing.assert_allclose(ref, g["A0"][:], rtol=1e-12)


def test_observations_per_reach_and_schedule(truth, world) -> None:
    o = truth["reach_obs"]
    rid = o["reach_id"][:]
    _, counts = np.unique(rid, return_counts=True)
    assert counts.min() >= 40
    # every reach is seen by 2-3 passes per (full) cycle
    cyc = o["cycle"][:]
    for r in np.unique(rid)[:10]:
        per_cycle = np.bincount(cyc[rid == r])[1:-1]
        assert np.all((per_cycle >= 2) & (per_cycle <= 3))
    t = o["time"][:]
    assert t.min() > 7.4e8  # seconds since 2000: July 2023
    assert o["time_str"][0].endswith("Z") and len(o["time_str"][0]) == 20


def test_planted_bad_fraction_and_kinds(truth) -> None:
    kind = truth["reach_obs/bad_kind"][:]
    frac = (kind > 0).mean()
    assert 0.05 <= frac <= 0.085
    assert set(np.unique(kind)) == {0, 1, 2, 3, 4}
    nk = truth["node_obs/bad_kind"][:]
    observed = truth["node_obs/observed"][:] == 1
    assert 0.0 < (~observed).mean() < 0.1, "a few nodes unobserved"
    assert np.all(nk[~observed] == 0)
    # a reach observation's kind applies to its observed nodes
    oi = truth["node_obs/obs_index"][:]
    reach_kind = kind[oi]
    sel = observed & (reach_kind > 0)
    assert np.all(nk[sel] == reach_kind[sel])
    assert ((nk == 4) & (reach_kind == 0)).any(), "node-only outliers exist"


def test_good_observation_errors_are_swot_like(truth) -> None:
    o = truth["reach_obs"]
    good = o["bad_kind"][:] == 0
    wse_err = (o["obs_wse"][:] - o["true_wse"][:])[good]
    slope_err = (o["obs_slope"][:] - o["true_slope"][:])[good]
    w_err = (o["obs_width"][:] / o["true_width"][:] - 1)[good]
    assert 0.005 < np.std(wse_err) < 0.05
    assert 1.0e-5 < np.std(slope_err) < 3.0e-5
    assert np.std(w_err) < 0.05
    bad = o["bad_kind"][:] == 4
    big = np.abs(o["obs_wse"][:] - o["true_wse"][:]) > 2.5
    big |= np.abs(o["obs_width"][:] / o["true_width"][:]) > 2.0
    assert np.all(big[bad]), "every reach outlier is gross"
