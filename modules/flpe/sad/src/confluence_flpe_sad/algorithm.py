"""The SAD plug-in: ReachObs + Priors -> :func:`.science.sad` -> ``{reach_id}_sad.nc``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
from confluence_core import ncio
from confluence_flpe import output
from confluence_flpe.interface import AlgorithmBase, FlpeResult, Priors, ReachObs

from .science import MIN_OBS, sad

#: Fill of the int64 ``reach_id`` scalar, as the reference file has it.
REACH_ID_FILL = -999999999999
#: Variables beyond the reference layout (reach_id, A0, n, Qa, Q_u): name -> (units, meaning).
EXTRA_SCALARS = {
    "r": ("1", "channel shape exponent r of the Dingman section W = W* (Ym / Ym*)^(1/r), analysis mean"),
    "bed_elevation": ("m", "bed elevation at the reach's downstream node, analysis mean"),
    "bed_slope": ("1", "bed slope S0 of the gradually varied flow model"),
    "rejection_temperature": ("1", "tau of the rejection step (1: plain rejection sampling)"),
    "accepted_members": ("1", "prior members accepted by the rejection step"),
}
EXTRA_SERIES = {"members": ("1", "ensemble members in the time's analysis (0: not analysed)")}


class Sad(AlgorithmBase):
    """SAD, SWOT Assimilated Discharge (Andreadis et al. 2020; docs/science.md section SAD) on one reach.

    Uses the reach's node wse and width (or its reach wse, slope and width when there are no node
    data), SWORD's reach length, the SoS ``mean_q`` (needed), ``monthly_q``, ``flow_duration_q`` and
    the geoBAM priors of n and r when present.
    """

    name: ClassVar[str] = "sad"
    min_obs: ClassVar[int] = MIN_OBS

    def run(self, reaches: Sequence[tuple[ReachObs, Priors]]) -> list[FlpeResult]:
        """Run SAD on each reach; a reach SAD cannot run is flagged with the reason."""
        return [self._run_one(obs, pri) for obs, pri in reaches]

    def _run_one(self, obs: ReachObs, pri: Priors) -> FlpeResult:
        try:
            fit = sad(obs, pri)
        except ValueError as exc:
            return FlpeResult.invalid(obs.reach_id, obs.nt, str(exc))
        extra = {"r": fit.r, "bed_elevation": fit.z0, "bed_slope": fit.s0, "rejection_temperature": fit.tau,
                 "accepted_members": float(fit.accepted), "members": fit.members.astype(np.float64)}
        return FlpeResult(reach_id=obs.reach_id, q=fit.q, q_u=fit.q_u, params=fit.params, extra=extra)

    def write(self, path: Path, obs: Sequence[ReachObs], results: Sequence[FlpeResult]) -> None:
        """Write ``{reach_id}_sad.nc``: the layout of reference_outputs/flpe/sad, then the extras."""
        o, res = obs[0], results[0]
        nt = o.nt
        with ncio.create(path) as ds:
            output.set_valid(ds, res.valid)
            if not res.valid:
                ds.setncattr("reason", res.reason)
            ds.createDimension("nt", nt)
            ncio.write_var(ds, "reach_id", np.int64(o.reach_id), (), dtype="i8", fill=REACH_ID_FILL)
            output.scalar(ds, "A0", _param(res, "A0"), attrs={"units": "m2", "long_name":
                          "flow area where d_x_area = 0 (Manning law Q = (A0 + dA)^(5/3) W^(-2/3) S^(1/2) / n)"})
            output.scalar(ds, "n", _param(res, "n"), attrs={"units": "s m-1/3", "long_name": "Manning's n"})
            output.series(ds, "Qa", res.q, attrs={"units": "m3 s-1", "long_name": "assimilated discharge"})
            q_u = res.q_u if res.q_u is not None else np.full(nt, np.nan)
            output.series(ds, "Q_u", q_u, attrs={"units": "m3 s-1", "long_name": "discharge uncertainty (1 sigma)"})
            for name, (units, meaning) in EXTRA_SCALARS.items():
                output.scalar(ds, name, res.extra.get(name), attrs={"units": units, "long_name": meaning})
            for name, (units, meaning) in EXTRA_SERIES.items():
                output.series(ds, name, res.extra.get(name, np.full(nt, np.nan)),
                              attrs={"units": units, "long_name": meaning})


def _param(res: FlpeResult, name: str) -> float:
    value = res.params.get(name, np.nan)
    return float(np.ravel(value)[0]) if np.size(value) else float("nan")
