"""SWORD, SoS and gauge files against the core layouts."""

from __future__ import annotations

import csv

import netCDF4
import numpy as np
from confluence_core import sos, sword
from confluence_core.jsonio import read_json


def test_sword_layout(world) -> None:
    for cont, path in world.sword.items():
        assert path.name == f"{cont}_sword_v16.nc"
        reaches = sword.read_reaches(path)
        nodes = sword.read_nodes(path)
        assert reaches.reach_id.size > 0 and np.all(reaches.n_nodes >= 10)
        assert reaches.swot_orbits is not None and reaches.swot_orbits.shape[1] == sword.N_ORBITS
        assert ((reaches.swot_orbits > 0).sum(axis=1) == 3).all()
        assert np.all(reaches.slope > 0) and np.all(reaches.slope < 10)  # m/km
        for i, rid in enumerate(reaches.reach_id):
            for u in reaches.upstream(int(rid)):
                assert int(rid) in reaches.downstream(u)
                assert reaches.facc[reaches.row(u)] < reaches.facc[i]
        assert np.isin(nodes["reach_id"], reaches.reach_id).all()
        with netCDF4.Dataset(path) as ds:
            assert set(ds.groups) == {"centerlines", "nodes", "reaches"}
            g = ds["reaches"]
            assert g["rch_id_up"].dimensions == (sword.DOMAIN_DIM, sword.REACH_DIM)
            assert g["swot_orbits"].dimensions == (sword.ORBIT_DIM, sword.REACH_DIM)
            assert g["slope"].units == "m/km" and g["facc"].units == "km^2"
            for v in ("reach_length", "width", "wse", "n_nodes", "n_rch_up", "n_rch_down", "dist_out",
                      "lakeflag", "river_name", "x", "y"):
                assert v in g.variables
            assert ds["centerlines/reach_id"].dimensions == (sword.DOMAIN_DIM, sword.POINT_DIM)


def test_sos_layout_and_priors(world, truth) -> None:
    agencies = {"na": "USGS", "eu": "EAU"}
    true_mean = dict(zip(truth["reaches/reach_id"][:].tolist(), truth["reaches/mean_q"][:], strict=True))
    ratios = []
    for cont, path in world.sos.items():
        assert path.name == sos.sos_name(cont)
        A = agencies[cont]
        with netCDF4.Dataset(path) as ds:
            ds.set_auto_mask(False)
            assert ds.gauge_agency == A and ds.product_version == "0001"
            assert {"reaches", "nodes", "model", A} <= set(ds.groups)
            m = ds["model"]
            R = len(ds.dimensions[sos.REACH_DIM])
            assert m["monthly_q"].shape == (R, sos.N_MONTHS)
            assert m["flow_duration_q"].dimensions == (sos.REACH_DIM, sos.PROB_DIM)
            assert list(m["probability"][:]) == sos.EXCEEDANCE
            fd = m["flow_duration_q"][:]
            assert np.all(np.diff(fd, axis=1) <= 0), "flow exceeded more often is smaller"
            for v in ("overwritten_indexes", "overwritten_source", "bad_priors", "bad_prior_source"):
                assert v in m.variables
            rid = ds["reaches/reach_id"][:]
            ratios += [m["mean_q"][i] / true_mean[int(r)] for i, r in enumerate(rid)]
            g = ds[A]
            assert g[f"{A}_q"].dimensions == (sos.agency_dim(A), sos.agency_days_dim(A))
            cal = g[f"{A}_CAL"][:]
            assert set(cal.tolist()) == {0, 1}
            q = g[f"{A}_q"][:]
            np.testing.assert_allclose(g[f"{A}_mean_q"][:], q.mean(axis=1))
            assert sos.qt_to_date(g[f"{A}_qt"][0, 0]).isoformat() == truth["day"].units.split()[-1]
            assert np.all(g[f"{A}_two_year_return_q"][:] <= q.max(axis=1))
            assert np.isin(g[f"{A}_reach_id"][:], rid).all()
    med = np.median(np.abs(np.asarray(ratios) - 1))
    assert 0.15 < med < 0.5, f"median |prior bias| {med:.2f}"


def test_gauge_archive(world) -> None:
    man = read_json(world.manifest)
    with open(world.gauges) as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["agency", "site", "reach_id", "date", "discharge_cms"]
    sites = {r["site"] for r in rows}
    sos_sites = {g["site"] for g in man["gauges"] if g["in_sos"]}
    assert sos_sites < sites, "the archive holds the SoS gauges and a few more"
    per_site = len(rows) / len(sites)
    assert per_site >= 365
