"""Stand-in SWORD and SoS for a Hydrocron run that has none, from the observations alone.

:func:`reach_table` takes SWORD-like reach attributes from the answers
(medians), :func:`mean_flow_prior` a flagged mean-flow prior from the widths;
:func:`write_minimal_sword` and :func:`write_minimal_sos` write the files with
what is known and fill for the rest (topology: the network given, usually
assumed from the id order, :meth:`confluence_core.network.RiverNetwork.from_id_order`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from confluence_core import ncio, sos, sword
from confluence_core.network import RiverNetwork

from .parse import ReachRecord

#: Moody and Troutman (2002), doi:10.1002/esp.391: W = 7.2 Q^0.50 at mean flow (m, m3/s).
MT_W_COEF, MT_W_EXP = 7.2, 0.50
MEAN_Q_SOURCE = ("observations: mean_q = (W50 / 7.2) ** 2, the Moody & Troutman (2002) downstream "
                 "hydraulic geometry W = 7.2 Q^0.5 inverted at the median observed width; not a model "
                 "or gauge value")


def mean_flow_prior(width: np.ndarray, reach_q: np.ndarray | None = None) -> float:
    """Mean-flow prior (m3/s) from a reach's observed widths, for runs without an SoS.

    ``Q = (W50 / 7.2) ** 2``: the global downstream hydraulic geometry of Moody
    and Troutman (2002, Earth Surf. Process. Landforms 27:1251, doi:10.1002/esp.391),
    ``W = 7.2 Q^0.50`` at mean flow, inverted at ``W50``, the median width of
    passes with ``reach_q <= 1`` (all valid widths when fewer than 5 such).
    A factor-two scatter in width is a factor four in flow: the value is
    flagged ``bad_priors = 1`` with this formula as ``bad_prior_source``.
    Kept over width-and-slope alternatives (Manning's equation with the Moody
    & Troutman depth or velocity and Chow's n) because it is the closest to
    the true mean flow on the eight Pepsi-1 rivers (median factor 1.9, median
    |ln ratio| 0.62 against 1.2-2.5; ``bench/noprior_eval.py``).
    NaN when no width is valid.
    """
    w = np.asarray(width, dtype=np.float64)
    ok = np.isfinite(w) & (w > 0)
    if reach_q is not None:
        good = ok & (np.asarray(reach_q) <= 1)
        if np.count_nonzero(good) >= 5:
            ok = good
    if not ok.any():
        return float("nan")
    return float((np.median(w[ok]) / MT_W_COEF) ** (1.0 / MT_W_EXP))


def _median(values: np.ndarray | None) -> float:
    if values is None:
        return float("nan")
    v = values[np.isfinite(values)]
    return float(np.median(v)) if v.size else float("nan")


def reach_table(records: Mapping[int, ReachRecord], ids: np.ndarray) -> dict[str, np.ndarray]:
    """SWORD-like reach attributes from the observations (median of valid values; NaN when unknown).

    ``reach_length``: SWORD's ``p_length`` when the response has it, else the median of
    ``area_total / width`` (the water area of a reach over its width).
    """
    out: dict[str, list[float]] = {k: [] for k in ("x", "y", "reach_length", "width", "wse", "slope",
                                                   "mean_q")}
    for r in ids.tolist():
        rec = records[r]
        c = rec.columns
        length = _median(c.get("p_length"))
        if not np.isfinite(length):
            with np.errstate(invalid="ignore", divide="ignore"):
                length = _median(rec.area_total / np.where(rec.width > 0, rec.width, np.nan))
        width = _median(c.get("p_width"))
        out["x"].append(_median(c.get("p_lon")))
        out["y"].append(_median(c.get("p_lat")))
        out["reach_length"].append(length)
        out["width"].append(width if np.isfinite(width) else _median(rec.width))
        out["wse"].append(_median(c.get("wse")))
        slope = c.get("slope2") if c.get("slope2") is not None else c.get("slope")
        out["slope"].append(_median(slope) * 1000.0)  # m/m -> m/km (SWORD unit)
        out["mean_q"].append(mean_flow_prior(rec.width, rec.reach_q))
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def write_minimal_sword(path: Path, net: RiverNetwork, table: dict[str, np.ndarray]) -> Path:
    """A SWORD file holding only what a Hydrocron run knows (no nodes, no centerlines, facc unknown)."""
    n = net.reach_id.size
    orbits = np.zeros((n, sword.N_ORBITS), dtype=np.int64)
    for i, o in enumerate(net.orbits):
        vals = sorted(o)[: sword.N_ORBITS]
        orbits[i, : len(vals)] = vals
    with ncio.create(path, Name=path.name[:2].upper(), version="minimal",
                     comment="Minimal SWORD written by confluence-datagen for a Hydrocron run: reach ids from "
                             "the request, topology assumed from the id order (reach numbers grow upstream "
                             "within a basin), reach_length = median(area_total / width), width, wse and "
                             "slope = medians of the observations; facc, dist_out and nodes unknown.") as ds:
        ds.createDimension(sword.REACH_DIM, n)
        ds.createDimension(sword.NODE_DIM, 0)
        ds.createDimension(sword.DOMAIN_DIM, sword.N_DOMAINS)
        ds.createDimension(sword.ORBIT_DIM, sword.N_ORBITS)
        nodes = ds.createGroup("nodes")
        for name, dtype in (("node_id", "i8"), ("reach_id", "i8"), ("x", "f8"), ("y", "f8")):
            ncio.write_var(nodes, name, np.zeros(0), (sword.NODE_DIM,), dtype)
        rc = ds.createGroup("reaches")
        ncio.write_var(rc, "reach_id", net.reach_id, (sword.REACH_DIM,), "i8")
        units = {"x": "degrees east", "y": "degrees north", "reach_length": "m", "width": "m", "wse": "m",
                 "slope": "m/km"}
        for name, unit in units.items():
            ncio.write_var(rc, name, table[name], (sword.REACH_DIM,), attrs={"units": unit})
        for name, unit in (("facc", "km^2"), ("dist_out", "m")):
            ncio.write_var(rc, name, np.full(n, np.nan), (sword.REACH_DIM,), attrs={"units": unit})
        ncio.write_var(rc, "n_nodes", np.zeros(n, np.int64), (sword.REACH_DIM,), "i4")
        ncio.write_var(rc, "n_rch_up", net.n_up(), (sword.REACH_DIM,), "i4")
        ncio.write_var(rc, "n_rch_down", net.n_dn(), (sword.REACH_DIM,), "i4")
        ncio.write_var(rc, "rch_id_up", net.up.T, (sword.DOMAIN_DIM, sword.REACH_DIM), "i8")
        ncio.write_var(rc, "rch_id_dn", net.dn.T, (sword.DOMAIN_DIM, sword.REACH_DIM), "i8")
        ncio.write_var(rc, "swot_orbits", orbits.T, (sword.ORBIT_DIM, sword.REACH_DIM), "i8")
        ncio.write_var(rc, "lakeflag", np.where(net.reach_id % 10 == 3, 1, 0), (sword.REACH_DIM,), "i4")
        var = rc.createVariable("river_name", str, (sword.REACH_DIM,))
        var[:] = np.asarray(["NODATA"] * n, dtype=object)
    return path


def write_minimal_sos(path: Path, continent: str, sword_version: int, ids: np.ndarray,
                      table: dict[str, np.ndarray]) -> Path:
    """An SoS with no model priors except a flagged observation-based mean flow, and no gauges.

    ``model/mean_q`` is :func:`mean_flow_prior` (``bad_priors`` 1, formula in
    ``bad_prior_source``); every other model flow is fill.  The priors step fills
    ``gbpriors`` from the observations and adds gauges given to it (validation
    gauges, CAL 0, for a Hydrocron run).
    """
    n = ids.size
    nan = np.full(n, np.nan)
    with ncio.create(path, gauge_agency="", product_version="0000", sword_version=str(sword_version),
                     continent=continent, run_type="unconstrained", mean_q_source=MEAN_Q_SOURCE,
                     comment="Minimal SoS written by confluence-datagen for a Hydrocron run without an SoS: "
                             "no model (WBM/GRADES) priors; mean_q from the observed widths, flagged.") as ds:
        ds.createDimension(sos.REACH_DIM, n)
        ds.createDimension(sos.NODE_DIM, 0)
        ds.createDimension(sos.MONTH_DIM, sos.N_MONTHS)
        ds.createDimension(sos.PROB_DIM, len(sos.EXCEEDANCE))
        rg = ds.createGroup("reaches")
        ncio.write_var(rg, "reach_id", ids, (sos.REACH_DIM,), "i8")
        ncio.write_var(rg, "x", table["x"], (sos.REACH_DIM,), attrs={"units": "degrees east"})
        ncio.write_var(rg, "y", table["y"], (sos.REACH_DIM,), attrs={"units": "degrees north"})
        rg.createVariable("river_name", str, (sos.REACH_DIM,))[:] = np.asarray(["NODATA"] * n, dtype=object)
        ng = ds.createGroup("nodes")
        for name, dtype in (("node_id", "i8"), ("reach_id", "i8"), ("x", "f8"), ("y", "f8")):
            ncio.write_var(ng, name, np.zeros(0), (sos.NODE_DIM,), dtype)
        mg = ds.createGroup("model")
        q_units = {"units": "m^3/s"}
        ncio.write_var(mg, "mean_q", table["mean_q"], (sos.REACH_DIM,),
                       attrs={**q_units, "source": MEAN_Q_SOURCE})
        for name in ("min_q", "max_q", "two_year_return_q"):
            ncio.write_var(mg, name, nan, (sos.REACH_DIM,), attrs=q_units)
        ncio.write_var(mg, "monthly_q", np.full((n, sos.N_MONTHS), np.nan), (sos.REACH_DIM, sos.MONTH_DIM),
                       attrs=q_units)
        ncio.write_var(mg, "flow_duration_q", np.full((n, len(sos.EXCEEDANCE)), np.nan),
                       (sos.REACH_DIM, sos.PROB_DIM), attrs=q_units)
        ncio.write_var(mg, "probability", np.asarray(sos.EXCEEDANCE, float), (sos.PROB_DIM,),
                       attrs={"units": "percent", "long_name": "exceedance probability"})
        ncio.write_var(mg, "overwritten_indexes", np.zeros(n, np.int64), (sos.REACH_DIM,), "i4")
        mg.createVariable("overwritten_source", str, (sos.REACH_DIM,))[:] = np.asarray([""] * n, dtype=object)
        flagged = np.isfinite(table["mean_q"])
        ncio.write_var(mg, "bad_priors", flagged.astype(np.int64), (sos.REACH_DIM,), "i4")
        mg.createVariable("bad_prior_source", str, (sos.REACH_DIM,))[:] = np.asarray(
            [MEAN_Q_SOURCE if f else "no valid width: no mean_q" for f in flagged], dtype=object)
    return path
