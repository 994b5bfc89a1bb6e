"""``confluence-offline``: the offline discharge product of one reach.

Reads entry ``--index`` of ``input/reaches.json``, the reach's SWOT observations and the MOI
``{reach_id}_integrator.nc``, and recomputes each algorithm's discharge with its own flow law
(``confluence_flpe.flowlaws``, the one place the algorithms and MOI use too) from MOI's integrated
parameters, as the SWOT RiverSP product's ``dschg_*`` fields are made; the consensus is their
per-time median.  The run's branch decides which fields are filled: ``{prefix}_q_uc`` in an
unconstrained run, ``{prefix}_q_c`` in a gauge-constrained one (``CONFLUENCE_BRANCH``, checked against
the SoS priors file's ``priors_constrained``; run by hand without it, the SoS says which); the other
field is fill with its reason (each branch is a run of its own).  Writes ``offline/{reach_id}_offline.nc``.  A missing
product is fill plus one log line (naming the reach and, when the MOI file is missing, that file; the
consensus file is optional: without it the offline consensus is the median of every recomputed
algorithm); a reach without a SWOT file is an error.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
from confluence_core import branch as run_branch
from confluence_core import flpe
from confluence_core.cli import index_option, list_option, module_command
from confluence_core.entries import for_each_entry
from confluence_core.errors import InputError
from confluence_core.index import reach_entry
from confluence_core.volumes import volume_path
from confluence_flpe import flowlaws
from confluence_flpe.flowlaws import FlowObs
from confluence_flpe.io import read_swot
from confluence_flpe.output import yyyymmdd

from . import io
from .science import median_series

NAME = "confluence-offline"
log = logging.getLogger(NAME)
#: The field of each branch, and of the other one.
BRANCH_FIELD = {run_branch.UNCONSTRAINED: ("uc", "c"), run_branch.CONSTRAINED: ("c", "uc")}
#: The branch of each field.
BRANCH_NAME = {field: name for name, (field, _) in BRANCH_FIELD.items()}


def job_branch(sos_path: Path) -> str:
    """The branch this job computes: ``CONFLUENCE_BRANCH`` (set by the driver), which the SoS priors must
    agree with; without it (run by hand) the SoS's own ``priors_constrained``."""
    from_sos = io.read_branch(sos_path)
    if not os.environ.get(run_branch.BRANCH_ENV):
        return from_sos
    branch = run_branch.current()
    if from_sos != branch:
        raise InputError(f"the SoS priors are {from_sos} (priors_constrained) but this job runs the {branch} "
                         f"branch ({run_branch.BRANCH_ENV}): rerun the priors step of this branch", sos_path)
    return branch


def offline_path(reach_id: int) -> Path:
    """``offline/{reach_id}_offline.nc``."""
    return volume_path("offline", f"{reach_id}_offline.nc")


def algorithm_series(spec: flpe.FlpeOutput, group: Any, obs: FlowObs) -> tuple[np.ndarray, np.ndarray | None, str]:
    """An algorithm's discharge (m3/s), its uncertainty and why it is fill ("" when it is not).

    The flow law of the algorithm's row with the MOI group's integrated parameters; an algorithm
    that declares no flow law takes MOI's series as it is.
    """
    nan = np.full(obs.nt, np.nan)
    if group is None:
        return nan, None, f"no MOI group {spec.moi!r}"
    if not spec.flowlaw:
        q = np.asarray(group.q, dtype=np.float64)
        return (q, None, "") if q.shape == (obs.nt,) else (nan, None, f"MOI q has {q.size} values, nt = {obs.nt}")
    law = flowlaws.get(spec.flowlaw)
    params = {n: float(group.params.get(n, np.nan)) for n in law.params}
    missing = [n for n, v in params.items() if not np.isfinite(v)]
    if missing:
        return nan, None, f"no integrated {', '.join(missing)} in MOI group {spec.moi!r}"
    return law.q(params, obs), law.q_u(params, obs), ""


def products(reach_id: int, obs: FlowObs, moi_file: Path, branch: str, contributors: list[str] | None
             ) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, str]]:
    """Every offline prefix's series (``c``, ``uc`` and their ``_u``), and why any variable is fill."""
    filled, other = BRANCH_FIELD[branch]
    missing: dict[str, str] = {}
    not_here = (f"this run is {branch}: the {BRANCH_NAME[other]} branch is a run of its own "
                f"(its results file *_SOS_results_{BRANCH_NAME[other]}.nc)")
    try:
        groups = io.read_integrator(moi_file)
    except InputError as exc:
        groups, why = None, f"unreadable integrator file ({exc.reason})"
    else:
        why = f"no integrator file moi/{moi_file.name}"
    nan = np.full(obs.nt, np.nan)
    out: dict[str, dict[str, np.ndarray]] = {}
    recomputed: dict[str, np.ndarray] = {}
    for spec in flpe.algorithms().values():
        if not spec.offline:
            continue
        if groups is None:
            q, q_u, reason = nan, None, why
        else:
            q, q_u, reason = algorithm_series(spec, groups.get(spec.moi), obs)
        if reason:
            missing[f"{spec.offline}_q_{filled}"] = reason
        elif np.isfinite(q).any():
            recomputed[spec.name] = q
        missing[f"{spec.offline}_q_{other}"] = not_here
        out[spec.offline] = {filled: q, other: nan.copy(), f"{filled}_u": nan if q_u is None else q_u}
    cons = flpe.consensus()
    if cons.offline:
        used = _contributors(contributors, recomputed)
        q = median_series([recomputed[n] for n in used], obs.nt)
        if not np.isfinite(q).any():
            missing[f"{cons.offline}_q_{filled}"] = "no recomputed algorithm discharge to combine"
        missing[f"{cons.offline}_q_{other}"] = not_here
        out[cons.offline] = {filled: q, other: nan.copy()}
    return out, missing


def _contributors(names: list[str] | None, series: dict[str, np.ndarray]) -> list[str]:
    """Algorithms (table names) of ``series`` named by the consensus file, else all of them."""
    if names:
        specs = flpe.algorithms()
        aliases = {alias: n for n, s in specs.items() for alias in (n, s.moi, s.offline) if alias}
        picked = [aliases[n] for n in names if aliases.get(n) in series]
        if picked:
            return picked
    return list(series)


def process_reach(entry: dict[str, Any]) -> Path:
    """Build the offline product of one ``reaches.json`` entry; return the file written."""
    item = reach_entry(entry)
    reach_id = item.reach_id
    swot_path = volume_path("input", "swot", item.swot)
    reach = read_swot(swot_path)
    if reach.reach_id != reach_id:
        raise InputError(f"holds reach {reach.reach_id}, not {reach_id}", swot_path)
    obs = FlowObs.of(reach)
    branch = job_branch(volume_path("input", "sos", item.sos))
    contributors = io.read_contributing(flpe.consensus().path(volume_path("flpe"), reach_id))
    series, missing = products(reach_id, obs, volume_path("moi", f"{reach_id}_integrator.nc"), branch,
                               contributors)
    real = {k: v for k, v in missing.items() if "this run is" not in v}
    if real:
        log.warning("reach %s: fill for %s", reach_id, "; ".join(f"{k} ({v})" for k, v in sorted(real.items())))
    source = ("computed from reach width and wse (trapezoids, relative to the median observed wse)"
              if reach.dA_from_obs else "SWOT reach/d_x_area")
    attrs = {"branch": branch, "d_x_area_source": source, "swot_file": swot_path.name,
             "fill_products": "; ".join(f"{k}: {v}" for k, v in sorted(missing.items())) or "none"}
    if os.environ.get("CONFLUENCE_RUN_ID"):
        attrs["run_id"] = os.environ["CONFLUENCE_RUN_ID"]
    dA_u = reach.d_x_area_u if reach.d_x_area_u is not None else np.full(reach.nt, np.nan)
    out = io.write_offline(offline_path(reach_id), reach_id, yyyymmdd(reach.time), reach.d_x_area, dA_u, series,
                           attrs, {k: {"fill_reason": v} for k, v in missing.items()})
    n_ok = sum(int(np.isfinite(s[BRANCH_FIELD[branch][0]]).any()) for s in series.values())
    log.info("reach %s (%s run): %d of %d discharge series filled, d_x_area %s -> %s",
             reach_id, branch, n_ok, len(series), source.split(" (")[0], out)
    return out


@module_command(NAME, help=(__doc__ or "").replace("``", ""))
@index_option
@list_option
def main(index: int | None, list_name: str | None) -> None:
    """Write the offline product of one reach (entry INDEX of reaches.json)."""
    io.clear_caches()
    for_each_entry("offline", index, lambda entry, _path, _i: process_reach(entry), log, list_name, kind=dict)
