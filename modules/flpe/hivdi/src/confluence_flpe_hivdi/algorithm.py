"""The HiVDI plug-in: a reach set's ReachObs + Priors -> :mod:`.inverse` -> ``{reach_id}_hivdi.nc``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import numpy as np
from confluence_core import ncio
from confluence_core.errors import NotEnoughDataError
from confluence_flpe import output
from confluence_flpe.interface import FlpeResult, Priors, ReachObs

from . import inverse, problem
from .config import HivdiConfig

log = logging.getLogger("confluence-flpe.hivdi")

#: The flow-law parameters in group ``reach`` (the reference layout): name -> (long_name, units).
PARAMS = {
    "A0": ("unobserved cross-sectional area", "m^2"),
    "alpha": ("coefficient for the Strickler power law", "m^(1/3)/s"),
    "beta": ("exponent for the Strickler power law", "-"),
}
#: Variables beyond the reference layout (group ``reach``): name -> (long_name, units).
EXTRA = {
    "alpha_model": ("alpha of the backwater model, K_ref h_ref^-beta (H3; alpha is it scaled to the "
                    "reach-scale law, H12)", "m^(1/3)/s"),
    "law_rms_log": ("rms of ln(Q_law / Q) over the reach's times (H12)", "1"),
    "low_flow_depth": ("mean depth below the lowest observed stage, D (H2)", "m"),
    "depth_tilt": ("tilt of the low-flow depth along the reach (H2)", "1"),
    "bed_elevation": ("mean bed elevation of the effective channel", "m"),
    "K_ref": ("Strickler coefficient at the reference depth h_ref (H3)", "m^(1/3)/s"),
    "K_ref_prior": ("prior of K_ref (1/n of the SoS geoBAM prior)", "m^(1/3)/s"),
    "h_ref": ("reference hydraulic depth of K_ref (H3)", "m"),
    "A0_prior_low": ("prior flow area at the lowest observed stage", "m^2"),
    "sigma_z": ("node water-surface elevation error used in the cost (H7)", "m"),
    "sigma_node": ("node elevation error shared by all times (H7)", "m"),
    "n_node_obs": ("node elevations used as observations", "1"),
    "n_pseudo_times": ("times observed through the reach wse and slope (no node profile)", "1"),
    "share": ("discharge of the reach over the set's reference discharge (H5)", "1"),
    "choked": ("node-times held at the critical-depth floor (no subcritical profile)", "1"),
    "cost": ("cost function at the optimum (H11)", "1"),
    "cost_background": ("cost function at the background (H11)", "1"),
    "nfev": ("cost evaluations of the minimisation", "1"),
}


class HiVDI:
    """HiVDI (Larnier et al. 2021; Garambois & Monnier 2015) on one reach set (docs/science.md).

    A steady backwater model with the depth-dependent Strickler law ``K = alpha h^beta`` on
    effective sections, its discharge, bathymetry and friction estimated variationally from the
    node water-surface profiles of every time, with the SoS mean flow and the geoBAM priors as
    background.  Settings: :class:`.config.HivdiConfig` (``CONFLUENCE_HIVDI_*``).
    """

    name: ClassVar[str] = "hivdi"
    min_obs: ClassVar[int] = HivdiConfig.min_obs

    def __init__(self, config: HivdiConfig | None = None) -> None:
        self.config = config if config is not None else HivdiConfig.from_env()

    def run(self, reaches: Sequence[tuple[ReachObs, Priors]]) -> list[FlpeResult]:
        """HiVDI on one set (upstream to downstream); one result per reach, in order.

        Every reach of the set is flagged, with the reason, when one of them has too few data
        (:func:`.problem.build`) or the minimisation fails on non-finite numbers.
        """
        obs = [o for o, _ in reaches]
        try:
            pb = problem.build(reaches, self.config)
        except NotEnoughDataError as exc:
            return [FlpeResult.invalid(o.reach_id, o.nt, exc.reason) for o in obs]
        try:
            fit = inverse.minimise(pb, self.config.max_nfev, self.config.sigma_z_floor)
        except (ValueError, FloatingPointError, np.linalg.LinAlgError) as exc:
            log.warning("set %s: minimisation failed (%s)", _label(obs), exc)
            out = [FlpeResult.invalid(o.reach_id, o.nt, f"minimisation failed: {exc}") for o in obs]
            for res in out:
                res.extra["exception"] = 1
            return out
        log.info("set %s: cost %.4g -> %.4g in %d evaluations (%s)", _label(obs), fit.cost_background, fit.cost,
                 fit.nfev, fit.message)
        return inverse.reach_results(pb, fit, obs)

    def write(self, path: Path, obs: Sequence[ReachObs], results: Sequence[FlpeResult]) -> None:
        """Write ``{reach_id}_hivdi.nc``: the layout of reference_outputs/flpe/hivdi, then ours.

        Root attributes as the reference (int64): ``status`` 1 when the reach has a result,
        ``VDA_status`` 1 when the minimisation converged (0: stopped at ``max_nfev``, or not run),
        ``obs_validity`` 1 when the reach was flagged for its data, ``exception`` 1 when the
        minimisation failed; then ``valid`` (int32) and ``reason`` as every FLPE file.
        """
        o, res = obs[0], results[0]
        rid = str(int(o.reach_id))
        failed = int(res.extra.get("exception", 0))
        attrs = {"title": f"HIVDI output for reach ID: {rid}",
                 "production_date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"), "reach_id": rid,
                 "exception": np.int64(failed), "obs_validity": np.int64(0 if res.valid or failed else 1),
                 "VDA_status": np.int64(1 if res.valid and int(res.extra.get("status", 0)) > 0 else 0),
                 "status": np.int64(1 if res.valid else 0)}
        with ncio.create(path, **attrs) as ds:
            output.set_valid(ds, res.valid)
            if not res.valid:
                ds.setncattr("reason", res.reason)
            ds.createDimension("nchar", 12)
            ds.createDimension("nt", o.nt)
            ncio.write_var(ds, "nt", output.yyyymmdd(o.time), ("nt",), dtype="i4", fill=None,
                           attrs={"units": "day", "long_name": "nt"})
            grp = ds.createGroup("reach")
            ncio.write_strings(grp, "reach_id", np.asarray(rid, dtype=object), (), char_dim="nchar", fill=None)
            for name, (long_name, units) in PARAMS.items():
                value = res.params.get(name) if res.valid else None
                output.scalar(grp, name, None if value is None else float(value),
                              attrs={"long_name": long_name, "units": units})
            output.series(grp, "Q", res.q, attrs={"long_name": "discharge", "units": "m^3/s"})
            for name, (long_name, units) in EXTRA.items():
                value = res.extra.get(name) if res.valid else None
                output.scalar(grp, name, None if value is None else float(value),
                              attrs={"long_name": long_name, "units": units})


def _label(obs: Sequence[ReachObs]) -> str:
    return "-".join(str(o.reach_id) for o in obs)
