"""The SIC4DVar plug-in: ReachObs + Priors -> :mod:`.science` -> ``{reach_id}_sic4dvar.nc``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import netCDF4
import numpy as np
from confluence_core import ncio
from confluence_flpe import output
from confluence_flpe.interface import AlgorithmBase, FlpeResult, Priors, ReachObs

from .science import MIN_OBS, algo31, fit_manning, node_half_widths, q_prior_of

log = logging.getLogger("confluence-flpe.sic4dvar")

#: Scalars written beyond the reference layout: name -> (key in ``FlpeResult.extra``, units, meaning).
EXTRA_SCALARS = {
    "K": ("K", "m1/3 s-1", "posterior mean Strickler coefficient of algo31"),
    "bed_depth": ("bed_depth", "m", "posterior mean bed offset below the lowest observed stage "
                                     "(node of the mean lowest width)"),
    "q_prior": ("q_prior", "m3 s-1", "mean-flow prior used (SoS mean_q, else 0.01 m3/s per km2 of facc)"),
}
#: Series written beyond the reference layout.
EXTRA_SERIES = {
    "Qalgo31_u": ("Qalgo31_u", "m3 s-1", "posterior 1-sigma of Qalgo31 over the bed-offset and K grid"),
}


def _n_nodes(obs: ReachObs) -> int:
    if obs.node_id is not None:
        return int(np.size(obs.node_id))
    return 0 if obs.node_wse is None else int(np.shape(obs.node_wse)[0])


class Sic4dvar(AlgorithmBase):
    """SIC4DVar, low-cost version (Oubanas et al. 2018; the public algo31 + algo5; docs/science.md).

    Each reach of a set (``sicsets.json``, upstream to downstream, or a single reach) is
    estimated on its own nodes and its own mean-flow prior: the node cross-sections from the
    node WSE-width pairs (:mod:`.bathymetry`), the bed offset and Strickler K weighted by the
    mean-flow prior, the discharge Qalgo31 of the steady conveyance relation, then A0 and n of
    Manning's law fitted to Qalgo31 (algo5) and its discharge Qalgo5.  A reach without node
    data uses its reach WSE-width pairs as one section.
    """

    name: ClassVar[str] = "sic4dvar"
    min_obs: ClassVar[int] = MIN_OBS

    def run(self, reaches: Sequence[tuple[ReachObs, Priors]]) -> list[FlpeResult]:
        """Estimate each reach of the set; a reach SIC4DVar cannot estimate is flagged with the reason."""
        return [self._run_one(obs, pri) for obs, pri in reaches]

    @staticmethod
    def _run_one(obs: ReachObs, pri: Priors) -> FlpeResult:
        nt = obs.nt
        n_nodes = _n_nodes(obs)
        q_prior = q_prior_of(pri.mean_q, obs.facc)
        slope = np.where(obs.valid, obs.slope, np.nan)
        if obs.node_wse is not None and obs.node_width is not None and np.size(obs.node_wse):
            wse, width = obs.node_wse, obs.node_width
        else:  # no node data: the reach's own stage-width pairs as one section
            wse, width = obs.wse[None, :], obs.width[None, :]
        a31 = algo31(wse, width, slope, q_prior)
        half, elev = node_half_widths(a31, n_nodes)
        extra: dict[str, Any] = {"half_width": half, "elevation": elev, "q_prior": q_prior}
        if not a31.valid:
            res = FlpeResult.invalid(obs.reach_id, nt, a31.reason)
            res.extra = extra
            return res
        fit = fit_manning(a31.q, obs.d_x_area, obs.width, obs.slope)
        if fit.reason:
            log.info("reach %s: algo5: %s; A0 and n left missing", obs.reach_id, fit.reason)
        extra.update({"Qalgo5": fit.q, "Qalgo31_u": a31.q_u, "K": a31.strickler, "bed_depth": a31.depth,
                      "algo5_reason": fit.reason, **fit.extra})
        return FlpeResult(reach_id=obs.reach_id, q=a31.q, q_u=a31.q_u, params={"A0": fit.a0, "n": fit.n},
                          extra=extra)

    def write(self, path: Path, obs: Sequence[ReachObs], results: Sequence[FlpeResult]) -> None:
        """Write ``{reach_id}_sic4dvar.nc``: the layout of reference_outputs/flpe/sic4dvar, then the extras."""
        o, res = obs[0], results[0]
        nt = o.nt
        with ncio.create(path) as ds:
            ds.setncattr("reach_id", np.int64(o.reach_id))
            ds.setncattr("valid", np.int64(1 if res.valid else 0))
            if not res.valid:
                ds.setncattr("reason", res.reason)
            elif res.extra.get("algo5_reason"):
                ds.setncattr("algo5_reason", str(res.extra["algo5_reason"]))
            output.time_dim(ds, nt)
            n_nodes = _n_nodes(o)
            ds.createDimension("nodes", n_nodes)
            for name in ("A0", "n"):
                value = res.params.get(name)
                output.scalar(ds, name, None if value is None else float(np.ravel(value)[0]))
            output.series(ds, "Qalgo5", res.extra.get("Qalgo5", np.full(nt, np.nan)))
            output.series(ds, "Qalgo31", res.q)
            _vlen(ds, "half_width", res.extra.get("half_width"), n_nodes,
                  {"units": "m", "long_name": "half-width of the node cross-section, bed first"})
            _vlen(ds, "elevation", res.extra.get("elevation"), n_nodes,
                  {"units": "m", "long_name": "elevation of the node cross-section points, bed first"})
            for name, (key, units, meaning) in EXTRA_SERIES.items():
                output.series(ds, name, res.extra.get(key, np.full(nt, np.nan)),
                              attrs={"units": units, "long_name": meaning})
            for name, (key, units, meaning) in EXTRA_SCALARS.items():
                output.scalar(ds, name, res.extra.get(key), attrs={"units": units, "long_name": meaning})


def _vlen(ds: netCDF4.Dataset, name: str, values: Sequence[np.ndarray] | None, n_nodes: int,
          attrs: dict[str, str]) -> None:
    """A variable-length float64 variable on ``nodes`` (the reference's ``vlen`` type), one array per node."""
    vtype = ds.vltypes["vlen"] if "vlen" in ds.vltypes else ds.createVLType(np.float64, "vlen")
    var = ds.createVariable(name, vtype, ("nodes",))
    var.setncatts(attrs)
    rows = list(values) if values is not None else []
    for i in range(n_nodes):
        var[i] = np.asarray(rows[i] if i < len(rows) else [], dtype=np.float64)
