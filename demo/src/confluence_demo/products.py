"""SWORD, SoS and gauge files of the demo world.

Layouts follow ``confluence_core.sword`` (contracts.md section 7) and
``confluence_core.sos`` (section 8).  SWORD priors are the truth at the
reference state with database-like errors; SoS ``model`` priors are the true
flow statistics times a lognormal bias per reach (median |bias| ~30 %), like
water-balance-model priors.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np
from confluence_core import ncio, sos, sword
from confluence_core.atomic import write_text

from .hydrology import Hydraulics
from .network import Network

#: Lognormal sigma of the model-prior bias: median |exp(N(0, s)) - 1| ~ 30 %.
PRIOR_BIAS_SIGMA = 0.42
#: Gauge agency of each continent.
AGENCY = {"na": "USGS", "eu": "EAU"}
SWORD_VERSION = 16


@dataclass
class SwordPriors:
    """SWORD prior attributes per reach ([R]) and node ([K])."""

    wse: np.ndarray
    wse_var: np.ndarray
    width: np.ndarray
    width_var: np.ndarray
    max_width: np.ndarray
    slope: np.ndarray  # m/km
    facc: np.ndarray  # km2
    node_wse: np.ndarray
    node_wse_var: np.ndarray
    node_width: np.ndarray
    node_width_var: np.ndarray
    node_max_width: np.ndarray
    lakeflag: np.ndarray
    obstr_type: np.ndarray  # 0 none, 1 dam (GROD)
    grod_id: np.ndarray
    low_slope: np.ndarray  # 1 for the lake reaches


def sword_priors(net: Network, hyd: Hydraulics, facc: np.ndarray, rng: np.random.Generator) -> SwordPriors:
    """Prior-database values: the reference state with errors (WSE +-0.3 m, width ~10 %, slope ~20 %)."""
    R = net.n_reaches
    K = net.node_id.size
    wse = hyd.z_ref + rng.normal(0.0, 0.3, R)
    width = hyd.W_ref * rng.lognormal(0.0, 0.1, R)
    dxn = net.node_dist_out - (net.dist_out - net.length / 2.0)[net.node_reach]
    node_wse = hyd.z_ref[net.node_reach] + hyd.S0[net.node_reach] * dxn + rng.normal(0.0, 0.3, K)
    node_width = hyd.W_ref[net.node_reach] * hyd.node_width_factor * rng.lognormal(0.0, 0.1, K)
    var_w = (0.25 * hyd.W_ref) ** 2
    dam = net.rtype == 4
    return SwordPriors(
        wse=wse, wse_var=np.full(R, 0.09), width=width, width_var=var_w, max_width=1.6 * width,
        slope=1000.0 * hyd.S0 * rng.lognormal(0.0, 0.2, R), facc=facc,
        node_wse=node_wse, node_wse_var=np.full(K, 0.09), node_width=node_width,
        node_width_var=var_w[net.node_reach], node_max_width=1.6 * node_width,
        lakeflag=(net.rtype == 3).astype(np.int64), obstr_type=dam.astype(np.int64),
        grod_id=np.where(dam, 100000 + np.arange(R), 0), low_slope=(net.rtype == 3).astype(np.int64),
    )


def _strings(group: netCDF4.Dataset, name: str, values: Sequence[str] | np.ndarray, dims: tuple[str, ...]) -> None:
    var = group.createVariable(name, str, dims)
    var[:] = np.asarray(values, dtype=object)


def write_sword(path: Path, cont: str, net: Network, pri: SwordPriors, orbits: np.ndarray) -> None:
    """Write ``{c}_sword_v16.nc`` for the reaches of continent ``cont``.

    ``orbits`` is [R, 75] pass numbers (0 where none).
    """
    rsel = np.flatnonzero(net.continent == cont)
    nsel = np.flatnonzero(np.isin(net.node_reach, rsel))
    psel = np.flatnonzero(np.isin(net.cl_node, nsel))
    cl_id = np.arange(1, psel.size + 1, dtype=np.int64)
    node_pos = {int(k): i for i, k in enumerate(nsel)}
    node_of_pt = np.array([node_pos[int(k)] for k in net.cl_node[psel]], dtype=np.int64)
    reach_id = net.reach_id[rsel]
    node_reach_id = net.reach_id[net.node_reach[nsel]]
    up, dn = net.up_ids()[rsel], net.dn_ids()[rsel]
    R, K, P = rsel.size, nsel.size, psel.size
    with ncio.create(path, Name=cont.upper(), production_date="2023-07-21", version=f"v{SWORD_VERSION}",
                     x_min=float(net.node_lon[nsel].min()), x_max=float(net.node_lon[nsel].max()),
                     y_min=float(net.node_lat[nsel].min()), y_max=float(net.node_lat[nsel].max()),
                     comment="Confluence demo world (synthetic)") as ds:
        ds.createDimension(sword.POINT_DIM, P)
        ds.createDimension(sword.NODE_DIM, K)
        ds.createDimension(sword.REACH_DIM, R)
        ds.createDimension(sword.DOMAIN_DIM, sword.N_DOMAINS)
        ds.createDimension("num_ids", 2)
        ds.createDimension(sword.ORBIT_DIM, sword.N_ORBITS)
        cl = ds.createGroup("centerlines")
        ncio.write_var(cl, "cl_id", cl_id, (sword.POINT_DIM,), "i8")
        ncio.write_var(cl, "x", net.cl_lon[psel], (sword.POINT_DIM,), attrs={"units": "degrees east"})
        ncio.write_var(cl, "y", net.cl_lat[psel], (sword.POINT_DIM,), attrs={"units": "degrees north"})
        ids = np.zeros((sword.N_DOMAINS, P), dtype=np.int64)
        ids[0] = net.reach_id[net.node_reach[net.cl_node[psel]]]
        ncio.write_var(cl, "reach_id", ids, (sword.DOMAIN_DIM, sword.POINT_DIM), "i8")
        ids = np.zeros((sword.N_DOMAINS, P), dtype=np.int64)
        ids[0] = net.node_id[net.cl_node[psel]]
        ncio.write_var(cl, "node_id", ids, (sword.DOMAIN_DIM, sword.POINT_DIM), "i8")

        nd = ds.createGroup("nodes")
        nodes_cl = np.stack([np.zeros(K, np.int64), np.zeros(K, np.int64)])
        first_pt = np.full(K, P, dtype=np.int64)
        np.minimum.at(first_pt, node_of_pt, np.arange(P))
        last_pt = np.zeros(K, dtype=np.int64)
        np.maximum.at(last_pt, node_of_pt, np.arange(P))
        nodes_cl[0], nodes_cl[1] = cl_id[first_pt], cl_id[last_pt]
        nf = [
            ("node_id", net.node_id[nsel], "i8", None), ("x", net.node_lon[nsel], "f8", "degrees east"),
            ("y", net.node_lat[nsel], "f8", "degrees north"), ("node_length", net.node_length[nsel], "f8", "m"),
            ("reach_id", node_reach_id, "i8", None), ("wse", pri.node_wse[nsel], "f8", "m"),
            ("wse_var", pri.node_wse_var[nsel], "f8", "m^2"), ("width", pri.node_width[nsel], "f8", "m"),
            ("width_var", pri.node_width_var[nsel], "f8", "m^2"),
            ("n_chan_max", np.ones(K, np.int64), "i4", None), ("n_chan_mod", np.ones(K, np.int64), "i4", None),
            ("obstr_type", pri.obstr_type[net.node_reach[nsel]], "i4", None),
            ("dist_out", net.node_dist_out[nsel], "f8", "m"), ("facc", pri.facc[net.node_reach[nsel]], "f8", "km^2"),
            ("lakeflag", pri.lakeflag[net.node_reach[nsel]], "i4", None),
            ("max_width", pri.node_max_width[nsel], "f8", "m"),
        ]
        for name, data, dtype, units in nf:
            ncio.write_var(nd, name, data, (sword.NODE_DIM,), dtype, attrs={"units": units} if units else None)
        ncio.write_var(nd, "cl_ids", nodes_cl, ("num_ids", sword.NODE_DIM), "i8")
        _strings(nd, "river_name", net.river_name[net.node_reach[nsel]], (sword.NODE_DIM,))

        rc = ds.createGroup("reaches")
        starts = np.searchsorted(nsel, net.node_start[rsel])
        reach_cl = np.stack([nodes_cl[0][starts], nodes_cl[1][starts + net.n_nodes[rsel] - 1]])
        lon_n, lat_n = net.node_lon[nsel], net.node_lat[nsel]
        rf = [
            ("reach_id", reach_id, "i8", None), ("x", net.lon[rsel], "f8", "degrees east"),
            ("y", net.lat[rsel], "f8", "degrees north"),
            ("x_min", np.minimum.reduceat(lon_n, starts), "f8", "degrees east"),
            ("x_max", np.maximum.reduceat(lon_n, starts), "f8", "degrees east"),
            ("y_min", np.minimum.reduceat(lat_n, starts), "f8", "degrees north"),
            ("y_max", np.maximum.reduceat(lat_n, starts), "f8", "degrees north"),
            ("reach_length", net.length[rsel], "f8", "m"), ("n_nodes", net.n_nodes[rsel], "i4", None),
            ("wse", pri.wse[rsel], "f8", "m"), ("wse_var", pri.wse_var[rsel], "f8", "m^2"),
            ("width", pri.width[rsel], "f8", "m"), ("width_var", pri.width_var[rsel], "f8", "m^2"),
            ("facc", pri.facc[rsel], "f8", "km^2"),
            ("n_chan_max", np.ones(R, np.int64), "i4", None), ("n_chan_mod", np.ones(R, np.int64), "i4", None),
            ("obstr_type", pri.obstr_type[rsel], "i4", None), ("grod_id", pri.grod_id[rsel], "i8", None),
            ("slope", pri.slope[rsel], "f8", "m/km"), ("dist_out", net.dist_out[rsel], "f8", "m"),
            ("n_rch_up", (up > 0).sum(axis=1), "i4", None), ("n_rch_down", (dn > 0).sum(axis=1), "i4", None),
            ("lakeflag", pri.lakeflag[rsel], "i4", None), ("max_width", pri.max_width[rsel], "f8", "m"),
            ("low_slope_flag", pri.low_slope[rsel], "i4", None),
            ("swot_obs", (orbits[rsel] > 0).sum(axis=1), "i4", None),
        ]
        for name, data, dtype, units in rf:
            ncio.write_var(rc, name, data, (sword.REACH_DIM,), dtype, attrs={"units": units} if units else None)
        ncio.write_var(rc, "cl_ids", reach_cl, ("num_ids", sword.REACH_DIM), "i8")
        ncio.write_var(rc, "rch_id_up", up.T, (sword.DOMAIN_DIM, sword.REACH_DIM), "i8")
        ncio.write_var(rc, "rch_id_dn", dn.T, (sword.DOMAIN_DIM, sword.REACH_DIM), "i8")
        ncio.write_var(rc, "swot_orbits", orbits[rsel].T, (sword.ORBIT_DIM, sword.REACH_DIM), "i8")
        _strings(rc, "river_name", net.river_name[rsel], (sword.REACH_DIM,))


# ----------------------------------------------------------------------------------------------
def flow_stats(q: np.ndarray, dates: np.ndarray) -> dict[str, np.ndarray]:
    """Flow statistics of daily discharge ``q`` [n, D] (m3/s) on ``dates`` (datetime64[D]).

    Returns mean, min, max [n]; monthly [n, 12] (mean of each calendar month,
    NaN for a month without data); flow_duration [n, 20] (the flow exceeded
    p % of the time at p in :data:`confluence_core.sos.EXCEEDANCE`);
    two_year_return [n]: median of the annual maxima over calendar years with
    at least 90 days of data.
    """
    q = np.atleast_2d(q)
    month = dates.astype("datetime64[M]").astype(np.int64) % 12
    year = dates.astype("datetime64[Y]").astype(np.int64)
    monthly = np.full((q.shape[0], 12), np.nan)
    for m in range(12):
        sel = month == m
        if sel.any():
            monthly[:, m] = q[:, sel].mean(axis=1)
    fd = np.percentile(q, 100.0 - np.asarray(sos.EXCEEDANCE, dtype=float), axis=1).T
    maxima = [q[:, year == y].max(axis=1) for y in np.unique(year) if (year == y).sum() >= 90]
    return {
        "mean_q": q.mean(axis=1), "min_q": q.min(axis=1), "max_q": q.max(axis=1), "monthly_q": monthly,
        "flow_duration_q": fd, "two_year_return_q": np.median(np.stack(maxima), axis=0),
    }


@dataclass
class Gauges:
    """Gauges of one continent: the SoS ones (``in_sos``) and the extra local-archive ones."""

    agency: str
    reach: np.ndarray  # reach index
    site: list[str]
    cal: np.ndarray  # 1 calibration, 0 validation
    q: np.ndarray  # [g, D] m3/s
    in_sos: np.ndarray  # bool


def make_gauges(net: Network, Q: np.ndarray, cont: str, n_sos: int, n_extra: int,
                rng: np.random.Generator) -> Gauges:
    """Place gauges on type-1 reaches of ``cont``: ``n_sos`` in the SoS (CAL alternating 1, 0) and
    ``n_extra`` only in the local archive; daily flow = truth with 3 % lognormal error."""
    cand = np.flatnonzero((net.continent == cont) & (net.rtype == 1))
    n = min(n_sos + n_extra, cand.size)
    pick = np.sort(rng.choice(cand, n, replace=False))
    order = rng.permutation(n)
    reach = pick[order]
    agency = AGENCY[cont]
    if agency == "USGS":
        site = [f"{int(v):08d}" for v in rng.integers(1_000_000, 16_000_000, n)]
    else:
        site = [f"{chr(ord('A') + int(c))}{int(v):07d}" for c, v in
                zip(rng.integers(0, 26, n), rng.integers(1_000_000, 9_999_999, n), strict=True)]
    q = Q[reach] * rng.lognormal(0.0, 0.03, (n, Q.shape[1]))
    in_sos = np.arange(n) < min(n_sos, n)
    cal = np.where(np.arange(n) % 2 == 0, 1, 0)
    return Gauges(agency, reach, site, cal, np.round(q, 3), in_sos)


def model_priors(Q: np.ndarray, dates: np.ndarray,
                 rng: np.random.Generator) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Model flow statistics biased like real priors; returns (stats, multiplicative bias per reach)."""
    R: int = Q.shape[0]
    bias = rng.lognormal(0.0, PRIOR_BIAS_SIGMA, R)
    q_model = Q * bias[:, None] * rng.lognormal(0.0, 0.15, Q.shape)
    return flow_stats(q_model, dates), bias


def write_sos(path: Path, cont: str, net: Network, stats: dict[str, np.ndarray], g: Gauges,
              dates: np.ndarray) -> None:
    """Write ``{c}_sword_v16_SOS_priors.nc`` (layout of ``confluence_core.sos``) for continent ``cont``.

    ``stats`` holds the model statistics of every reach of the world; gauges with ``in_sos`` go in
    the agency group.  No ``gbpriors`` group: the priors step fills it.
    """
    rsel = np.flatnonzero(net.continent == cont)
    nsel = np.flatnonzero(np.isin(net.node_reach, rsel))
    A = g.agency
    gs = np.flatnonzero(g.in_sos)
    R, K, G, D = rsel.size, nsel.size, gs.size, dates.size
    with ncio.create(path, gauge_agency=A, product_version="0001", sword_version=str(SWORD_VERSION),
                     continent=cont, run_type="unconstrained",
                     comment="Confluence demo world (synthetic priors)") as ds:
        ds.createDimension(sos.REACH_DIM, R)
        ds.createDimension(sos.NODE_DIM, K)
        ds.createDimension(sos.MONTH_DIM, sos.N_MONTHS)
        ds.createDimension(sos.PROB_DIM, len(sos.EXCEEDANCE))
        ds.createDimension(sos.agency_dim(A), G)
        ds.createDimension(sos.agency_days_dim(A), D)
        rg = ds.createGroup("reaches")
        ncio.write_var(rg, "reach_id", net.reach_id[rsel], (sos.REACH_DIM,), "i8")
        ncio.write_var(rg, "x", net.lon[rsel], (sos.REACH_DIM,), attrs={"units": "degrees east"})
        ncio.write_var(rg, "y", net.lat[rsel], (sos.REACH_DIM,), attrs={"units": "degrees north"})
        _strings(rg, "river_name", net.river_name[rsel], (sos.REACH_DIM,))
        ng = ds.createGroup("nodes")
        ncio.write_var(ng, "node_id", net.node_id[nsel], (sos.NODE_DIM,), "i8")
        ncio.write_var(ng, "reach_id", net.reach_id[net.node_reach[nsel]], (sos.NODE_DIM,), "i8")
        ncio.write_var(ng, "x", net.node_lon[nsel], (sos.NODE_DIM,), attrs={"units": "degrees east"})
        ncio.write_var(ng, "y", net.node_lat[nsel], (sos.NODE_DIM,), attrs={"units": "degrees north"})
        mg = ds.createGroup("model")
        q_units = {"units": "m^3/s"}
        for name in ("mean_q", "min_q", "max_q", "two_year_return_q"):
            ncio.write_var(mg, name, stats[name][rsel], (sos.REACH_DIM,), attrs=q_units)
        ncio.write_var(mg, "monthly_q", stats["monthly_q"][rsel], (sos.REACH_DIM, sos.MONTH_DIM), attrs=q_units)
        ncio.write_var(mg, "flow_duration_q", stats["flow_duration_q"][rsel], (sos.REACH_DIM, sos.PROB_DIM),
                       attrs=q_units)
        ncio.write_var(mg, "probability", np.asarray(sos.EXCEEDANCE, float), (sos.PROB_DIM,),
                       attrs={"units": "percent", "long_name": "exceedance probability"})
        ncio.write_var(mg, "overwritten_indexes", np.zeros(R, np.int64), (sos.REACH_DIM,), "i4")
        _strings(mg, "overwritten_source", [""] * R, (sos.REACH_DIM,))
        ncio.write_var(mg, "bad_priors", np.zeros(R, np.int64), (sos.REACH_DIM,), "i4")
        _strings(mg, "bad_prior_source", [""] * R, (sos.REACH_DIM,))

        ag = ds.createGroup(A)
        gd, dd = sos.agency_dim(A), sos.agency_days_dim(A)
        ncio.write_var(ag, f"{A}_reach_id", net.reach_id[g.reach[gs]], (gd,), "i8")
        _strings(ag, f"{A}_id", [g.site[i] for i in gs], (gd,))
        qt = np.array([sos.date_to_qt(d) for d in dates.astype(object)], dtype=np.float64)
        ncio.write_var(ag, f"{A}_q", g.q[gs], (gd, dd), attrs=q_units)
        ncio.write_var(ag, f"{A}_qt", np.tile(qt, (G, 1)), (gd, dd),
                       attrs={"units": "days since 0001-01-01"})
        gstats = flow_stats(g.q[gs], dates) if G else None
        for name in ("mean_q", "min_q", "max_q", "two_year_return_q"):
            ncio.write_var(ag, f"{A}_{name}", gstats[name] if gstats is not None else [], (gd,), attrs=q_units)
        ncio.write_var(ag, f"{A}_monthly_q", gstats["monthly_q"] if gstats is not None else np.zeros((0, 12)),
                       (gd, sos.MONTH_DIM), attrs=q_units)
        ncio.write_var(ag, f"{A}_flow_duration_q",
                       gstats["flow_duration_q"] if gstats is not None else np.zeros((0, 20)),
                       (gd, sos.PROB_DIM), attrs=q_units)
        ncio.write_var(ag, f"{A}_CAL", g.cal[gs], (gd,), "i4")


def write_gauge_csv(path: Path, net: Network, gauges: Sequence[Gauges], dates: np.ndarray) -> None:
    """Write the local gauge archive ``agency,site,reach_id,date,discharge_cms`` (daily)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["agency", "site", "reach_id", "date", "discharge_cms"])
    day_text = dates.astype(str)
    for g in gauges:
        for i in range(len(g.site)):
            rid = str(net.reach_id[g.reach[i]])
            for d, v in zip(day_text, g.q[i], strict=True):
                w.writerow([g.agency, g.site[i], rid, d, f"{v:.3f}"])
    write_text(path, buf.getvalue())
