"""The MOMMA plug-in: ReachObs + Priors -> :func:`.science.momma` -> ``{reach_id}_momma.nc``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
from confluence_core import ncio
from confluence_flpe import output
from confluence_flpe.interface import AlgorithmBase, FlpeResult, Priors, ReachObs

from .science import MIN_OBS, momma

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
#: Scalars beyond the reference layout (MOMMA v3.3's own outputs and the flow-law parameters that MOI
#: and offline read through the output contract): name -> (attribute of the fit, units, meaning).
EXTRA_SCALARS = {
    "x_final_used": ("x", "1", "exponent x of n = nb ((Hmax - H0)/(H - H0))^x"),
    "stage_max_obs": ("stage_max", "m", "highest observed stage Hmax, where n = nb"),
    "n_bkfl_slope": ("nb_slope", "s m-1/3", "Bray & Davar (1987) roughness 0.094 S^(1/6) of the mean slope"),
    "n_bkfl_start": ("nb0", "s m-1/3", "roughness prior of the calibration (bankfull and slope estimates averaged)"),
    "width_stage_corr": ("width_stage_corr", "1", "Pearson correlation of the observed stage and width"),
    "zero_flow_stage_floor": ("zero_flow_floor", "m", "lowest allowed zero-flow stage, Hb - Yb95 / b"),
    "mean_matched": ("mean_matched", "1", "1 when the mean flow equals the prior within the roughness bounds"),
}


class Momma(AlgorithmBase):
    """MOMMA (Bjerklie et al. 2018; MOMMA v3.3; docs/science.md) on one reach.

    Uses the reach's wse (stage), width and slope, the SoS ``mean_q`` (needed) and
    ``two_year_return_q`` (the bankfull-flow prior, optional).  No gauge constraint: the
    ``*constrained*`` outputs are fill and ``gage_constrained`` is 0.
    """

    name: ClassVar[str] = "momma"
    min_obs: ClassVar[int] = MIN_OBS

    def run(self, reaches: Sequence[tuple[ReachObs, Priors]]) -> list[FlpeResult]:
        """Run MOMMA on each reach; a reach MOMMA cannot run is flagged with the reason."""
        return [self._run_one(obs, pri) for obs, pri in reaches]

    def _run_one(self, obs: ReachObs, pri: Priors) -> FlpeResult:
        try:
            fit = momma(obs.wse, obs.width, obs.slope, pri.mean_q, pri.two_year_return_q)
        except ValueError as exc:
            return FlpeResult.invalid(obs.reach_id, obs.nt, str(exc))
        ok = np.isfinite(fit.q)
        series = {"stage": np.where(ok, obs.wse, np.nan), "width": np.where(ok, obs.width, np.nan),
                  "slope": np.where(ok, obs.slope, np.nan), "seg": np.where(ok, fit.seg, np.nan),
                  "n": fit.n, "Y": fit.depth, "v": fit.velocity}
        qb_ok = np.isfinite(pri.two_year_return_q) and pri.two_year_return_q > 0
        scalars = {
            "input_Qm_prior": pri.mean_q, "input_Qb_prior": pri.two_year_return_q if qb_ok else np.nan,
            "n_bkfl_Qb_prior": fit.nb_prior, "n_bkfl_final_used": fit.nb,
            "width_bkfl_solved_obs": fit.bankfull_width, "depth_bkfl_solved_obs": fit.bankfull_depth,
            "zero_flow_stage": fit.zero_flow_stage, "bankfull_stage": fit.bankfull_stage,
            "Qmean_prior": pri.mean_q, "Qmean_momma": float(np.nanmean(fit.q)) if ok.any() else np.nan,
            **fit.diag,
            **{name: float(getattr(fit, attr)) for name, (attr, _, _) in EXTRA_SCALARS.items()},
        }
        return FlpeResult(reach_id=obs.reach_id, q=fit.q, params=dict(fit.params.items()),
                          extra={**series, **scalars, "bankfull_breakpoint": float(fit.bankfull_found)})

    def write(self, path: Path, obs: Sequence[ReachObs], results: Sequence[FlpeResult]) -> None:
        """Write ``{reach_id}_momma.nc``: the layout of reference_outputs/flpe/momma, then the extras."""
        o, res = obs[0], results[0]
        nt = o.nt
        with ncio.create(path) as ds:
            output.set_valid(ds, res.valid)
            ds.setncattr("reach_id", np.int64(o.reach_id))
            if not res.valid:
                ds.setncattr("reason", res.reason)
            output.time_dim(ds, nt, coord=output.yyyymmdd(o.time))
            for name in SERIES:
                values = res.q if name == "Q" else res.extra.get(name, np.full(nt, np.nan))
                output.series(ds, name, values)
            for name in SCALARS:
                output.scalar(ds, name, 0.0 if name == "gage_constrained" else res.extra.get(name))
            for name, (_, units, meaning) in EXTRA_SCALARS.items():
                output.scalar(ds, name, res.extra.get(name), attrs={"units": units, "long_name": meaning})
            if res.valid and "x" in res.params:
                ds["n"].setncatts({"x_final_used": res.params["x"],
                                   "bankfull_breakpoint": np.int32(res.extra.get("bankfull_breakpoint", 0))})
