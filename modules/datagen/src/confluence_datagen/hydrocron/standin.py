"""Stand-in SWORD and SoS for a Hydrocron run that has none, from the observations alone.

:func:`reach_table` takes SWORD-like reach attributes from the answers
(medians) and the flagged mean-flow prior with its log-space sd
(:mod:`.prior`: Moody & Troutman 2002, doi:10.1002/esp.403, at a low
percentile of the good passes' widths, per channel, pooled along the chain);
:func:`write_minimal_sword` and :func:`write_minimal_sos` write the files with
what is known and fill for the rest (topology: the network given, usually
assumed from the id order, :meth:`confluence_core.network.RiverNetwork.from_id_order`).

SoS variables added by the stand-in (beyond contracts.md section 8):
``model/mean_q_sd_ln`` (float, per reach, unit 1): the log-space standard
deviation of ``model/mean_q``, i.e. the prior is lognormal with median
``mean_q`` and ``sd(ln Q) = mean_q_sd_ln``; attribute ``source`` says how it
was found.  A real SoS has no such variable: readers take NaN (unknown).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
from confluence_core import ids as core_ids
from confluence_core import ncio, sos, sword
from confluence_core.network import RiverNetwork

from . import prior
from .parse import ReachRecord

MEAN_Q_SOURCE = prior.MEAN_Q_SOURCE
#: SoS ``model`` variable holding the log-space sd of ``mean_q`` (unit 1; NaN when unknown).
MEAN_Q_SD_VAR = "mean_q_sd_ln"


def mean_flow_prior(width: np.ndarray, reach_q: np.ndarray | None = None, n_chan: float = 1.0) -> float:
    """Mean-flow prior (m3/s) of one reach on its own, from its observed widths (no chain pooling).

    ``n_chan (W10 / (7.2 n_chan)) ** 2``: Moody & Troutman (2002, Earth Surf.
    Process. Landforms 27:1251, doi:10.1002/esp.403) ``W = 7.2 Q^0.50`` at mean
    flow, inverted per channel at ``W10``, the 10th percentile of the widths of
    passes with ``reach_q <= 1`` (all valid widths when fewer than 5 such);
    why that width, :mod:`.prior`.  NaN when no width is valid.
    """
    return float(prior.width_flow(prior.width_stat(width, reach_q), n_chan))


def reach_priors(records: Mapping[int, ReachRecord], net: RiverNetwork,
                 n_chan: Mapping[int, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean-flow prior (m3/s) and its log-space sd for the reaches of ``net``, from their answers.

    Each reach's candidates (:func:`.prior.candidate_priors`: widths, slopes
    ``slope2`` else ``slope``, ``reach_q``, channel count ``n_chan`` from SWORD's
    ``n_chan_mod`` or the answer's ``p_n_ch_mod``, else 1) are pooled along the
    junction-free chains of ``net`` (:func:`.prior.chain_windows`), river reaches
    (type 1) lending their estimates (:func:`.prior.mean_flow_priors`).
    """
    cands = []
    for r in net.reach_id.tolist():
        rec = records[r]
        c = rec.columns
        slope = c.get("slope2") if c.get("slope2") is not None else c.get("slope")
        nch = (n_chan or {}).get(r, _median(c.get("p_n_ch_mod")))
        cands.append(prior.candidate_priors(rec.width, slope, rec.reach_q, nch if np.isfinite(nch) else 1.0))
    windows = prior.chain_windows(net.up_index(), net.dn_index())
    river = np.array([core_ids.is_river(int(r)) for r in net.reach_id])
    return prior.mean_flow_priors(cands, windows, river)


def _median(values: np.ndarray | None) -> float:
    if values is None:
        return float("nan")
    v = values[np.isfinite(values)]
    return float(np.median(v)) if v.size else float("nan")


def reach_table(records: Mapping[int, ReachRecord], ids: np.ndarray, net: RiverNetwork | None = None,
                n_chan: Mapping[int, float] | None = None) -> dict[str, np.ndarray]:
    """SWORD-like reach attributes from the observations (median of valid values; NaN when unknown).

    ``reach_length``: SWORD's ``p_length`` when the response has it, else the median of
    ``area_total / width`` (the water area of a reach over its width).  ``mean_q`` and
    ``mean_q_sd_ln``: :func:`reach_priors` on ``net`` (default: the chain assumed from the id
    order), in the order of ``ids``.
    """
    out: dict[str, list[float]] = {k: [] for k in ("x", "y", "reach_length", "width", "wse", "slope")}
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
    table = {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}
    net = RiverNetwork.from_id_order(ids) if net is None else net
    q, sd = reach_priors(records, net, n_chan)
    row = {int(r): i for i, r in enumerate(net.reach_id)}
    take = np.array([row[int(r)] for r in ids], dtype=np.int64)
    table["mean_q"], table[MEAN_Q_SD_VAR] = q[take], sd[take]
    return table


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

    ``model/mean_q`` is the observation-based prior of :func:`reach_priors`
    (``bad_priors`` 1, method in ``bad_prior_source``) and ``model/mean_q_sd_ln``
    its log-space sd; every other model flow is fill.  The priors step fills
    ``gbpriors`` from the observations and adds gauges given to it (validation
    gauges, CAL 0, for a Hydrocron run).
    """
    n = ids.size
    nan = np.full(n, np.nan)
    with ncio.create(path, gauge_agency="", product_version="0000", sword_version=str(sword_version),
                     continent=continent, run_type="unconstrained", mean_q_source=MEAN_Q_SOURCE,
                     comment="Minimal SoS written by confluence-datagen for a Hydrocron run without an SoS: "
                             "no model (WBM/GRADES) priors; mean_q from the observed widths, flagged, a "
                             "rough estimate; model/mean_q_sd_ln its log-space sd.") as ds:
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
        sd = table.get(MEAN_Q_SD_VAR, nan)
        ncio.write_var(mg, MEAN_Q_SD_VAR, sd, (sos.REACH_DIM,),
                       attrs={"units": "1", "long_name": "log-space standard deviation of mean_q: "
                              "sd of ln(mean flow)", "source": prior.SD_LN_SOURCE})
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
