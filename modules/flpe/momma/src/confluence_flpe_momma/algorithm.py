"""The MOMMA plug-in: ReachObs + Priors -> :func:`.science.momma` -> ``{reach_id}_momma.nc``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
from confluence_core import ncio
from confluence_core.errors import NotEnoughDataError
from confluence_flpe import output
from confluence_flpe.interface import AlgorithmBase, FlpeResult, Priors, ReachObs

from .science import momma

#: Time series of the output file, in the reference file's order.
SERIES = ["stage", "width", "slope", "Qgage", "seg", "n", "Y", "v", "Q", "Q_constrained"]
#: Scalars of the output file, in the reference file's order (all float64).
SCALARS = [
    "gage_constrained", "input_MBL_prior", "input_Qm_prior", "input_Qb_prior", "input_Yb_prior",
    "input_known_ezf", "input_known_bkfl_stage", "input_known_nb_seg1", "input_known_x_seg1",
    "Qgage_constrained_nb_seg1", "Qgage_constrained_x_seg1", "input_known_nb_seg2", "input_known_x_seg2",
    "Qgage_constrained_nb_seg2", "Qgage_constrained_x_seg2", "n_bkfl_Qb_prior", "n_bkfl_final_used",
    "vel_bkfl_Qb_prior", "vel_bkfl_diag_MBL", "Froude_bkfl_diag_Smean", "width_bkfl_empirical",
    "width_bkfl_solved_obs", "depth_bkfl_solved_obs", "depth_bkfl_diag_MBL", "depth_bkfl_diag_Wb_Smean",
    "zero_flow_stage", "bankfull_stage", "Qmean_prior", "Qmean_momma", "Qmean_momma.constrained",
]


class Momma(AlgorithmBase):
    """MOMMA (Bjerklie et al. 2018, doi:10.1016/j.jhydrol.2018.04.005) on one reach.

    Uses the reach's wse (stage), width and slope, the SoS ``mean_q`` (needed)
    and ``two_year_return_q`` (the bankfull-flow prior, optional).  No gauge
    constraint: the ``*constrained*`` outputs are fill and ``gage_constrained`` is 0.
    """

    name: ClassVar[str] = "momma"
    min_obs: ClassVar[int] = 5

    def run(self, reaches: Sequence[tuple[ReachObs, Priors]]) -> list[FlpeResult]:
        """Run MOMMA on each reach; a reach without a mean-flow prior is flagged."""
        return [self._run_one(obs, pri) for obs, pri in reaches]

    def _run_one(self, obs: ReachObs, pri: Priors) -> FlpeResult:
        if not (np.isfinite(pri.mean_q) and pri.mean_q > 0):
            return FlpeResult.invalid(obs.reach_id, obs.nt, "no positive mean_q prior in the SoS")
        try:
            fit = momma(obs.wse, obs.width, obs.slope, pri.mean_q, pri.two_year_return_q)
        except ValueError as exc:
            raise NotEnoughDataError(str(exc)) from None
        ok = np.isfinite(fit.q)
        series = {"stage": np.where(ok, obs.wse, np.nan), "width": np.where(ok, obs.width, np.nan),
                  "slope": np.where(ok, obs.slope, np.nan), "seg": np.where(ok, fit.seg, np.nan),
                  "n": fit.n, "Y": fit.depth, "v": fit.velocity}
        scalars = {
            "input_Qm_prior": pri.mean_q, "input_Qb_prior": fit.qb_prior, "input_Yb_prior": fit.yb_prior,
            "n_bkfl_Qb_prior": fit.nb_qb_prior, "n_bkfl_final_used": fit.nb,
            "width_bkfl_solved_obs": fit.bankfull_width, "depth_bkfl_solved_obs": fit.bankfull_depth,
            "zero_flow_stage": fit.zero_flow_stage, "bankfull_stage": fit.bankfull_stage,
            "Qmean_prior": pri.mean_q, "Qmean_momma": float(np.nanmean(fit.q)) if ok.any() else np.nan,
            **fit.diag,
        }
        return FlpeResult(
            reach_id=obs.reach_id, q=fit.q,
            params={"nb": fit.nb, "x": fit.x, "zero_flow_stage": fit.zero_flow_stage,
                    "bankfull_stage": fit.bankfull_stage},
            extra={**series, **scalars, "ezf_extrapolated": float(fit.ezf_extrapolated),
                   "bankfull_breakpoint": float(fit.bankfull_found)},
        )

    def write(self, path: Path, obs: Sequence[ReachObs], results: Sequence[FlpeResult]) -> None:
        """Write ``{reach_id}_momma.nc`` (layout of reference_outputs/flpe/momma)."""
        o, res = obs[0], results[0]
        nt = o.nt
        with ncio.create(path) as ds:
            output.set_valid(ds, res.valid)
            ds.setncattr("reach_id", np.int64(o.reach_id))
            output.time_dim(ds, nt, coord=output.yyyymmdd(o.time))
            for name in SERIES:
                values = res.q if name == "Q" else res.extra.get(name, np.full(nt, np.nan))
                output.series(ds, name, values)
            for name in SCALARS:
                output.scalar(ds, name, 0.0 if name == "gage_constrained" else res.extra.get(name))
            if res.valid and "x" in res.params:
                ds["n"].setncatts({"x_final_used": res.params["x"], "ezf_extrapolated":
                                   np.int32(res.extra["ezf_extrapolated"]),
                                   "bankfull_breakpoint": np.int32(res.extra["bankfull_breakpoint"])})
