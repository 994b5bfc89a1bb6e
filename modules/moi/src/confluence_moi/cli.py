"""``confluence-moi``: integrate every FLPE algorithm's mean flows over one basin's river network.

Reads entry ``--index`` of ``input/basin.json``, the basin's SWORD topology and
SoS priors and every algorithm's per-reach FLPE results, and writes
``moi/{reach_id}_integrator.nc`` for every reach of the entry.

A reach whose upstream files are missing (e.g. one that ``confluence run
--keep-going`` left out, ``input/left_out.json``) does not stop the basin: a
river reach with no FLPE result file of any algorithm gets one warning naming
it and the files looked for, and an integrator file whose groups are fill
(``valid`` 0; ``qbar_basinScale`` still carries the basin's integrated mean).
A reach without its SWOT file has no time axis: one warning, and no
integrator file for it (later steps treat it as "no MOI result").  The other
reaches are integrated as usual.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

import click
import numpy as np
from confluence_core import flpe, leftout, sos, sword
from confluence_core.cli import index_option, list_option, module_command
from confluence_core.entries import for_each_entry
from confluence_core.errors import InputError
from confluence_core.flpe import FlpeOutput, FlpeReachResult
from confluence_core.ids import continent_of, is_river
from confluence_core.network import Drainage, RiverNetwork, index_in
from confluence_core.volumes import volume_path
from confluence_flpe import flowlaws
from confluence_flpe.flowlaws import FlowObs
from confluence_flpe.interface import ReachObs
from confluence_flpe.io import read_swot

from . import integrate as ig
from . import io

NAME = "confluence-moi"
log = logging.getLogger(NAME)


@dataclass
class AlgoSummary:
    """What the integration did for one algorithm of a basin (for logs, tests and the demo script)."""

    name: str
    n_results: int
    qbar_raw: np.ndarray  # [n network] m3/s, NaN where no result
    sd: np.ndarray  # [n network] log-space sd
    result: ig.Integrated | None
    deficit_before: float = float("nan")
    deficit_after: float = float("nan")


@dataclass
class BasinSummary:
    """The basin's network, priors and per-algorithm integration; the files written."""

    basin_id: int
    net: Drainage
    entry_reaches: np.ndarray
    prior: io.Priors
    algos: dict[str, AlgoSummary] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)


def _sword_name(entry: dict[str, Any], reach_id: int) -> str:
    version = os.environ.get("CONFLUENCE_SWORD_VERSION", str(sword.DEFAULT_VERSION))
    return str(entry.get("sword") or sword.sword_name(continent_of(reach_id), version))


def _sos_name(entry: dict[str, Any], reach_id: int) -> str:
    version = os.environ.get("CONFLUENCE_SWORD_VERSION", str(sword.DEFAULT_VERSION))
    return str(entry.get("sos") or sos.sos_name(continent_of(reach_id), version))


def parse_entry(entry: Any, where: Any) -> tuple[int, np.ndarray, list[str]]:
    """(basin_id, reach ids, SWOT file names) of a ``basin.json`` entry; InputError when malformed."""
    if not isinstance(entry, dict) or not isinstance(entry.get("reach_id"), list) or not entry["reach_id"]:
        raise InputError(f"basin entry has no reach_id list: {str(entry)[:120]}", where)
    try:
        rids = np.asarray([int(r) for r in entry["reach_id"]], dtype=np.int64)
        basin_id = int(entry.get("basin_id", int(rids[0]) // 10**7))
    except (TypeError, ValueError):
        raise InputError(f"basin entry has a non-numeric reach or basin id: {str(entry)[:120]}", where) from None
    swot = entry.get("swot") or []
    names = [str(s) for s in swot] if len(swot) == rids.size else [f"{r}_SWOT.nc" for r in rids]
    return basin_id, rids, names


def build_network(basin_id: int, rids: np.ndarray, table: sword.Reaches) -> Drainage:
    """The basin network: the entry's reaches plus every SWORD reach of the basin (types 3, 4 carry flow too)."""
    in_basin = table.reach_id[table.reach_id // 10**7 == basin_id]
    ids = np.unique(np.concatenate([rids, in_basin]))
    missing = ids[index_in(table.reach_id, ids) < 0]
    if missing.size:
        log.warning("basin %s: %d reach(es) not in SWORD, treated as isolated: %s", basin_id, missing.size,
                    ", ".join(map(str, missing[:10])) + (" ..." if missing.size > 10 else ""))
    net = RiverNetwork.from_sword(table, ids).drainage()
    for note in net.notes:
        log.info("basin %s: %s", basin_id, note)
    return net


def read_results(spec: FlpeOutput, rids: np.ndarray) -> dict[int, FlpeReachResult]:
    """An algorithm's valid results for ``rids``; unreadable files are logged and skipped."""
    root = volume_path("flpe")
    out = {}
    for rid in rids.tolist():
        try:
            res = flpe.read_result(spec, root, rid)
        except InputError as exc:
            log.warning("%s: %s: skipped", spec.name, exc)
            continue
        if res is None:
            continue
        if not res.valid:
            log.debug("%s: reach %s flagged valid = 0: no result", spec.name, rid)
            continue
        out[int(rid)] = res
    return out


def missing_upstream(specs: list[FlpeOutput], rid: int, swot_name: str) -> list[str]:
    """The upstream files of reach ``rid`` that are absent: its SWOT file, every FLPE result file.

    FLPE files are named only when no algorithm wrote one for a river reach (an
    algorithm may legitimately skip a reach; flow laws run on river reaches only).
    """
    out = []
    swot = volume_path("input", "swot", swot_name)
    if not swot.exists():
        out.append(f"input/swot/{swot.name}")
    root = volume_path("flpe")
    if is_river(rid) and not any(s.find(root, rid) is not None for s in specs):
        out.append("flpe/{" + ",".join(s.folder for s in specs) + f"}}/{rid}_*.nc (no FLPE result of any algorithm)")
    return out


def integrate_algorithm(spec: FlpeOutput, net: Drainage, results: dict[int, FlpeReachResult],
                        prior: io.Priors, settings: ig.Settings) -> AlgoSummary:
    """Reach means and their sds from ``results``, then the integration over ``net`` (None when no data)."""
    n = net.n
    qbar, sd = np.full(n, np.nan), np.full(n, np.nan)
    pos = {int(r): i for i, r in enumerate(net.reach_id.tolist())}
    for rid, res in results.items():
        qbar[pos[rid]], sd[pos[rid]], _ = ig.reach_mean(res.q, res.q_u, settings)
    n_results = int(np.isfinite(qbar).sum())
    summary = AlgoSummary(spec.name, n_results, qbar, sd, None)
    if n_results == 0:
        return summary
    sd_prior = np.where(prior.gauged, settings.gauge_sd, settings.prior_sd)
    result = ig.integrate(net, qbar, sd, prior.mean_q, sd_prior, settings)
    summary.result = result
    summary.deficit_before = ig.mass_deficit(net.down, qbar)
    summary.deficit_after = ig.mass_deficit(net.down, result.q)
    if not result.success:
        log.warning("%s: solver did not converge (%s): results kept, flagged valid = 0", spec.name, result.message)
    return summary


def _group(spec: FlpeOutput, rid: int, i: int, obs: ReachObs, res: FlpeReachResult | None,
           summary: AlgoSummary) -> io.GroupOut:
    """One algorithm's group of a reach's file: its flow-law parameters for the integrated mean flow.

    The algorithm's parameters (its output contract) are moved along the flow law's scale
    parameter until the law's mean over the reach's observations is ``qbar_basinScale``
    (:meth:`confluence_flpe.flowlaws.FlowLaw.with_mean`), and ``q`` is the law's discharge with
    them.  An algorithm whose row declares no flow law gets its series scaled to the integrated
    mean and no parameters.
    """
    law = flowlaws.get(spec.flowlaw) if spec.flowlaw else None
    names = law.params if law is not None else ()
    nan_params = dict.fromkeys(names, np.nan)
    q_int = summary.result.q[i] if summary.result is not None else np.nan
    ok = summary.result is not None and summary.result.success
    attrs: dict[str, Any] = {"flow_law": spec.flowlaw or "none"}
    if res is None or not np.isfinite(summary.qbar_raw[i]):
        status = "no result in the basin" if summary.result is None else "no result for this reach"
        return io.GroupOut(spec.moi, np.full(obs.nt, np.nan), nan_params, qbar_basin=q_int,
                           attrs={**attrs, "valid": np.int32(0), "status": status})
    attrs["qbar_reachScale_sd_log"] = float(summary.sd[i])
    status = "integrated" if ok else "solver did not converge"
    if law is None:
        k = q_int / summary.qbar_raw[i]
        q = np.where(np.isfinite(res.q) & (res.q > 0), res.q * k, np.nan)
        if q.size != obs.nt:
            q, status = np.full(obs.nt, np.nan), f"{status}; q length {res.q.size} != nt {obs.nt}"
        return io.GroupOut(spec.moi, q, {}, summary.qbar_raw[i], q_int,
                           attrs={**attrs, "valid": np.int32(ok), "status": f"{status}; series scaled (no flow law)"})
    params = law.with_mean({n: res.params.get(n, np.nan) for n in names}, FlowObs.of(obs), q_int)
    if not all(np.isfinite(v) for v in params.values()):
        missing = [n for n in names if not np.isfinite(res.params.get(n, np.nan))]
        why = (f"flow-law parameters missing: {', '.join(missing)}" if missing
               else "the flow law cannot reach the integrated mean flow")
        log.warning("%s: reach %s: %s", spec.name, rid, why)
        return io.GroupOut(spec.moi, np.full(obs.nt, np.nan), params, summary.qbar_raw[i], q_int,
                           attrs={**attrs, "valid": np.int32(0), "status": why})
    return io.GroupOut(spec.moi, law.q(params, FlowObs.of(obs)), params, summary.qbar_raw[i], q_int,
                       attrs={**attrs, "valid": np.int32(ok), "status": status})


def process_basin(entry: Any, settings: ig.Settings = ig.DEFAULT, where: Any = None) -> BasinSummary:
    """Run the step on one ``basin.json`` entry: read, integrate each algorithm, write every reach's file.

    Parameters
    ----------
    entry : dict
        A ``basin.json`` entry (basin_id, reach_id, sword, sos, swot).
    settings : Settings
        Uncertainties and solver settings.
    where : path, optional
        The list file, named in errors about a malformed entry.

    Returns
    -------
    BasinSummary

    Raises
    ------
    InputError
        When the entry is malformed or the SWORD file is missing or unreadable
        (per-reach problems are logged and the basin goes on).
    """
    basin_id, rids, swot_names = parse_entry(entry, where)
    table = io.read_topology(volume_path("input", "sword", _sword_name(entry, int(rids[0]))))
    net = build_network(basin_id, rids, table)
    prior = io.read_priors(volume_path("input", "sos", _sos_name(entry, int(rids[0]))), net.reach_id)
    out = BasinSummary(basin_id, net, rids, prior)

    specs = sorted(flpe.algorithms().values(), key=lambda s: s.moi)  # group order of the reference file
    results = {s.name: read_results(s, rids) for s in specs}
    for spec in specs:
        s = integrate_algorithm(spec, net, results[spec.name], prior, settings)
        out.algos[spec.name] = s
        if s.result is not None:
            log.info("basin %s %s: %d reach result(s) integrated over %d reaches; mass deficit %.1f %% -> %.1f %%",
                     basin_id, spec.name, s.n_results, net.n, 100 * s.deficit_before, 100 * s.deficit_after)
    if not any(s.n_results for s in out.algos.values()):
        log.warning("basin %s: no FLPE result for any of its %d reaches: integrator files hold fill only",
                    basin_id, rids.size)

    pos = {int(r): i for i, r in enumerate(net.reach_id.tolist())}
    left = leftout.read(volume_path("input"))
    for rid, swot_name in zip(rids.tolist(), swot_names, strict=True):
        here = {name: results[name].get(rid) for name in results}
        problems = [f"no {m}" for m in missing_upstream(specs, rid, swot_name)]
        why = f" (left out upstream: {left[rid]})" if rid in left else ""
        swot_path = volume_path("input", "swot", swot_name)
        try:
            obs = read_swot(swot_path)
        except InputError as exc:
            if swot_path.exists():  # there but unreadable
                problems.insert(0, str(exc))
            log.warning("reach %s: %s%s: no time axis, no integrator file", rid, "; ".join(problems), why)
            continue
        if problems:  # only the FLPE results are missing
            log.warning("reach %s: %s%s: its integrator groups are fill", rid, "; ".join(problems), why)
        groups = [_group(spec, rid, pos[rid], obs, here[spec.name], out.algos[spec.name]) for spec in specs]
        path = volume_path("moi", f"{rid}_integrator.nc")
        io.write_integrator(path, obs.nt, groups, {"reach_id": np.int64(rid), "basin_id": np.int32(basin_id),
                                                   "n_network_reaches": np.int32(net.n)})
        out.written.append(path.name)
    log.info("basin %s: %d integrator file(s) written for %d reach(es)", basin_id, len(out.written), rids.size)
    return out


@module_command(NAME, help=(__doc__ or "").replace("``", ""))
@index_option
@list_option
@click.option("--flpe-sd", type=float, default=ig.Settings.flpe_sd, show_default=True,
              envvar="CONFLUENCE_MOI_FLPE_SD", show_envvar=True,
              help="Log-space sd of an FLPE reach mean without q_u.")
@click.option("--prior-sd", type=float, default=ig.Settings.prior_sd, show_default=True,
              envvar="CONFLUENCE_MOI_PRIOR_SD", show_envvar=True,
              help="Log-space sd of the SoS model mean_q.")
def main(index: int | None, list_name: str | None, flpe_sd: float, prior_sd: float) -> None:
    """Integrate FLPE mean flows over one basin (entry INDEX of basin.json)."""
    if flpe_sd <= 0 or prior_sd <= 0:
        raise InputError(f"--flpe-sd and --prior-sd must be positive, not {flpe_sd} and {prior_sd}")
    settings = ig.Settings(flpe_sd=flpe_sd, prior_sd=prior_sd)
    for_each_entry("moi", index, lambda item, where, _i: process_basin(item, settings, where), log, list_name)
