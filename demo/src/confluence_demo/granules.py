"""RiverSP Reach and Node granules of the demo world (contracts.md section 5).

One granule pair per (cycle, pass, continent code), named like the real ones:
``SWOT_L2_HR_RiverSP_{Reach|Node}_{cycle:03d}_{pass:03d}_{CC}_{start}_{end}_{CRID}_{nn}.zip``.
Node granules hold every node of the reaches seen (unobserved nodes as fill).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from confluence_core.fill import STR_FILL

from . import shapefile as shp
from .network import Network
from .observe import Observations, time_str
from .products import SwordPriors
from .schema import CRID, SCHEMAS

#: SWOT granule continent token of each SWORD continent written by the demo world.
CONTINENT_TOKEN = {"na": "NA", "eu": "EU"}
#: TAI - UTC (s) in the SWOT era.
TAI_UTC = 37.0


@dataclass(frozen=True)
class Granule:
    """A written granule pair."""

    cycle: int
    pass_: int
    continent: str
    version: str
    reach_path: Path
    node_path: Path
    n_reaches: int
    n_nodes: int


def granule_name(kind: str, cycle: int, pass_: int, token: str, start: dt.datetime, end: dt.datetime,
                 version: str) -> str:
    """The official granule name (without ``.zip``)."""
    crid, counter = CRID[version]
    fmt = "%Y%m%dT%H%M%S"
    return (f"SWOT_L2_HR_RiverSP_{kind}_{cycle:03d}_{pass_:03d}_{token}_"
            f"{start.strftime(fmt)}_{end.strftime(fmt)}_{crid}_{counter}")


def _dt(t: float) -> dt.datetime:
    return dt.datetime(2000, 1, 1) + dt.timedelta(seconds=float(np.floor(t)))


def _neighbours(ids: np.ndarray, version: str) -> np.ndarray:
    """rch_id_up / rch_id_dn text: the existing ids (PGA2: separated by two spaces, D: commas)."""
    sep = "  " if version == "PGA2" else ","
    out = [sep.join(str(v) for v in row if v > 0) for row in ids]
    return np.array([t if t else STR_FILL for t in out], dtype=object)


#: Records whose field values are computed together (several granules at once keeps numpy calls large).
BATCH_NODES = 250_000


def write_granules(out_dir: Path, net: Network, obs: Observations, pri: SwordPriors,
                   sword_files: dict[str, str]) -> list[Granule]:
    """Write every granule of the world under ``out_dir``; return them in time order."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cont = net.continent[obs.r]
    cont_code = np.array([list(CONTINENT_TOKEN).index(c) for c in cont])
    order = np.lexsort((net.reach_id[obs.r], cont_code, obs.pass_, obs.cycle))
    key = np.stack([obs.cycle[order], obs.pass_[order], cont_code[order]], axis=1)
    cuts = np.flatnonzero(np.any(np.diff(key, axis=0) != 0, axis=1)) + 1
    groups = np.split(order, cuts)
    node_first = np.concatenate([[0], np.cumsum(net.n_nodes[obs.r])[:-1]])
    node_groups = [np.concatenate([np.arange(node_first[i], node_first[i] + net.n_nodes[obs.r[i]]) for i in ix])
                   for ix in groups]

    batches: list[list[int]] = []
    size = 0
    for g, ix in enumerate(groups):
        new_version = bool(batches) and obs.version[ix[0]] != obs.version[groups[batches[-1][0]][0]]
        if not batches or new_version or size >= BATCH_NODES:
            batches.append([])
            size = 0
        batches[-1].append(g)
        size += node_groups[g].size

    up_ids, dn_ids = net.up_ids(), net.dn_ids()
    geoms: dict[int, bytes] = {}
    granules = []
    with tempfile.TemporaryDirectory(prefix="riversp-") as workdir:
        for batch in batches:
            granules += _write_batch(out_dir, net, obs, pri, [groups[g] for g in batch],
                                     [node_groups[g] for g in batch], up_ids, dn_ids, geoms, sword_files, workdir)
    return granules


def _write_batch(out_dir: Path, net: Network, obs: Observations, pri: SwordPriors, groups: list[np.ndarray],
                 node_groups: list[np.ndarray], up_ids: np.ndarray, dn_ids: np.ndarray, geoms: dict[int, bytes],
                 sword_files: dict[str, str], workdir: str) -> list[Granule]:
    """Write the granules of one batch (their field values computed together)."""
    version = str(obs.version[groups[0][0]])
    ix_all, nix_all = np.concatenate(groups), np.concatenate(node_groups)
    columns = {
        "Reach": shp.columns(SCHEMAS[(version, "Reach")],
                             _reach_data(net, obs, pri, ix_all, version, up_ids, dn_ids), ix_all.size),
        "Node": shp.columns(SCHEMAS[(version, "Node")], _node_data(net, obs, pri, nix_all, version), nix_all.size),
    }
    granules = []
    r0 = n0 = 0
    for ix, nix in zip(groups, node_groups, strict=True):
        rows = {"Reach": slice(r0, r0 + ix.size), "Node": slice(n0, n0 + nix.size)}
        r0 += ix.size
        n0 += nix.size
        granules.append(_write_pair(out_dir, net, obs, ix, nix, version, columns, rows, geoms, sword_files, workdir))
    return granules


def _write_pair(out_dir: Path, net: Network, obs: Observations, ix: np.ndarray, nix: np.ndarray, version: str,
                columns: dict[str, list[np.ndarray]], rows: dict[str, slice], geoms: dict[int, bytes],
                sword_files: dict[str, str], workdir: str) -> Granule:
    """Write the Reach and Node zips of one granule from its rows of the batch columns."""
    c, p = int(obs.cycle[ix[0]]), int(obs.pass_[ix[0]])
    cn = str(net.continent[obs.r[ix[0]]])
    nt = obs.node_values["time"][nix]
    t_all = np.concatenate([obs.time[ix], nt[np.isfinite(nt)]])
    start, end = _dt(t_all.min()), _dt(t_all.max())
    attrs = _global_attrs(c, p, cn, version, start, end, net, obs.r[ix], sword_files[cn])
    paths = {}
    for kind in ("Reach", "Node"):
        fields = SCHEMAS[(version, kind)]
        if kind == "Reach":
            for r in obs.r[ix]:
                if r not in geoms:
                    a, b = 2 * net.node_start[r], 2 * (net.node_start[r] + net.n_nodes[r])
                    geoms[r] = shp.linestring_wkb(net.cl_lon[a:b], net.cl_lat[a:b])
            geometry = np.array([geoms[r] for r in obs.r[ix]], dtype=object)
        else:
            k = obs.node[nix]
            geometry = shp.point_wkb(net.node_lon[k], net.node_lat[k])
        cols = [col[rows[kind]] for col in columns[kind]]
        files = shp.write_shapefile(fields, cols, geometry, _GEOMETRY[kind], start.date(), workdir)
        name = granule_name(kind, c, p, CONTINENT_TOKEN[cn], start, end, version)
        members = {
            **{f"{name}.{ext}": files[ext] for ext in ("shp", "shx", "dbf", "prj")},
            f"{name}.shp.xml": shp.shp_xml(fields, {**attrs, "product_file_id": kind, "title": _TITLE[kind]}),
        }
        paths[kind] = shp.write_zip(out_dir / f"{name}.zip", members, start)
    return Granule(c, p, cn, version, paths["Reach"], paths["Node"], ix.size, nix.size)


_GEOMETRY = {"Reach": "LineString", "Node": "Point"}
_TITLE = {
    "Reach": "Level 2 KaRIn High Rate River Single Pass Vector Reach Data Product",
    "Node": "Level 2 KaRIn High Rate River Single Pass Vector Node Data Product",
}


def _global_attrs(cycle: int, pass_: int, cont: str, version: str, start: dt.datetime, end: dt.datetime,
                  net: Network, reaches: np.ndarray, sword_file: str) -> dict[str, object]:
    crid, _ = CRID[version]
    iso = "%Y-%m-%dT%H:%M:%S.000000Z"
    digits = sorted({int(str(v)[0]) for v in net.reach_id[reaches]})
    return {
        "Conventions": "Esri conventions as given in 'ESRI Shapefile Technical Description, "
                       "an ESRI White Paper, July 1998'",
        "title": "", "institution": "Confluence demo world (synthetic)",
        "source": "Ka-band radar interferometer (simulated)", "history": f"{start:%Y-%m-%d %H:%M:%S} : Creation",
        "platform": "SWOT", "reference_document": "JPL D-56413 (SWOT Product Description, L2_HR_RiverSP)",
        "short_name": "L2_HR_RiverSP", "product_file_id": "", "crid": crid,
        "product_version": version, "pge_name": "PGE_L2_HR_RiverSP", "pge_version": "demo",
        "cycle_number": cycle, "pass_number": pass_, "continent_id": CONTINENT_TOKEN[cont],
        "continent_code": ",".join(str(d) for d in digits),
        "time_granule_start": start.strftime(iso), "time_granule_end": end.strftime(iso),
        "time_coverage_start": start.strftime(iso), "time_coverage_end": end.strftime(iso),
        "geospatial_lon_min": float(net.lon[reaches].min()), "geospatial_lon_max": float(net.lon[reaches].max()),
        "geospatial_lat_min": float(net.lat[reaches].min()), "geospatial_lat_max": float(net.lat[reaches].max()),
        "xref_l2_hr_pixc_files": STR_FILL, "xref_l2_hr_pixcvec_files": STR_FILL,
        "xref_param_l2_hr_riversp_file": STR_FILL,
        "xref_prior_river_db_files": sword_file,
        "xref_reforbittrack_files": STR_FILL,
        "ellipsoid_semi_major_axis": 6378137.0, "ellipsoid_flattening": 0.00335281066474748,
    }


def _reach_data(net: Network, obs: Observations, pri: SwordPriors, ix: np.ndarray, version: str,
                up_ids: np.ndarray, dn_ids: np.ndarray) -> dict[str, npt.ArrayLike]:
    r = obs.r[ix]
    v = {k: a[ix] for k, a in obs.values.items()}
    t = obs.time[ix]
    data: dict[str, npt.ArrayLike] = {
        "reach_id": net.reach_id[r].astype(str), "time": t, "p_lat": net.lat[r], "p_lon": net.lon[r],
        **v,
        "n_reach_up": (up_ids[r] > 0).sum(axis=1), "n_reach_dn": (dn_ids[r] > 0).sum(axis=1),
        "rch_id_up": _neighbours(up_ids[r], version), "rch_id_dn": _neighbours(dn_ids[r], version),
        "p_wse": pri.wse[r], "p_wse_var": pri.wse_var[r], "p_width": pri.width[r],
        "p_wid_var": pri.width_var[r], "p_n_nodes": net.n_nodes[r], "p_dist_out": net.dist_out[r],
        "p_length": net.length[r], "p_n_ch_max": 1, "p_n_ch_mod": 1,
        "p_dam_id": np.where(pri.grod_id[r] > 0, pri.grod_id[r], np.nan),
    }
    if version == "D":
        data.update({
            "time_tai": t + TAI_UTC, "time_str": time_str(t), "river_name": net.river_name[r],
            "wse_c": v["wse"], "wse_c_u": v["wse_u"], "width_c": v["width"], "width_c_u": v["width_u"],
            "p_low_slp": pri.low_slope[r],
        })
    return data


def _node_data(net: Network, obs: Observations, pri: SwordPriors, nix: np.ndarray,
               version: str) -> dict[str, npt.ArrayLike]:
    k = obs.node[nix]
    v = {name: a[nix] for name, a in obs.node_values.items()}
    r = net.node_reach[k]
    data: dict[str, npt.ArrayLike] = {
        "reach_id": net.reach_id[r].astype(str), "node_id": net.node_id[k].astype(str),
        "lat": net.node_lat[k], "lon": net.node_lon[k], **v,
        "p_wse": pri.node_wse[k], "p_wse_var": pri.node_wse_var[k], "p_width": pri.node_width[k],
        "p_wid_var": pri.node_width_var[k], "p_dist_out": net.node_dist_out[k],
        "p_length": net.node_length[k], "p_n_ch_max": 1, "p_n_ch_mod": 1,
        "p_dam_id": np.where(pri.grod_id[r] > 0, pri.grod_id[r], np.nan),
    }
    if version == "D":
        t = v["time"]
        data.update({
            "time_tai": t + TAI_UTC, "time_str": time_str(t), "river_name": net.river_name[r],
            "wse_c": v["wse"], "wse_c_u": v["wse_u"], "width_c": v["width"], "width_c_u": v["width_u"],
        })
    return data
