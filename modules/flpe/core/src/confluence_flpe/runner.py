"""Run one fan-out entry of an FLPE algorithm: read inputs, run, write ``flpe/<algo>/``.

Decisions (documented here once, see also ``docs`` of the package):

- **Non-river reaches** (type digit != 1) are skipped with a log line and get
  *no* output file, as in the public workflow (flow laws apply to rivers only;
  contracts.md section 3).  In a reach set they are dropped from the set.
- **A missing or unreadable SWOT file** is logged and the reach gets the
  algorithm's valid-but-flagged output (``valid = 0``, reason in the log) with
  zero times, so that downstream steps always find one file per river reach.
- **Too few observations** (fewer valid times than the algorithm's
  ``min_obs``): valid-but-flagged output on the reach's ``nt`` times.
- **Reach sets** need every reach: if one reach cannot run, every reach of the
  set is flagged.
- A missing SWORD or SoS file, or a reach absent from them, leaves NaN values
  (logged); the algorithm decides whether it can run without them.
- **Combiners** (consensus) read the other algorithms' series through the
  output contract (``confluence_core.flpe``) and call ``combine``.
- The fan-out kind, the list and the output file names are the algorithm's
  workflow-table row (``confluence_core.workflow``), never the plug-in's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluence_core import flpe as flpe_contract
from confluence_core import ids, workflow
from confluence_core.atomic import atomic_path
from confluence_core.errors import ConfluenceError, InputError, NotEnoughDataError
from confluence_core.index import reach_entry

from .interface import Algorithm, Combiner, FlpeResult, Priors, ReachObs, is_combiner
from .io import add_sword, read_priors, read_swot

log = logging.getLogger("confluence-flpe")


@dataclass
class ReachInput:
    """One reach of a job: its observations, priors and why it cannot run ("" if it can)."""

    obs: ReachObs
    priors: Priors
    reason: str = ""


def entry_reaches(algo: Algorithm, fanout: str, entry: Any, source: str = "fan-out entry") -> list[Mapping[str, Any]]:
    """Check an entry's shape for the fan-out (``reach`` or ``reachset``); return its reach entries."""
    if fanout == "reachset" or (is_combiner(algo) and isinstance(entry, list)):
        if not isinstance(entry, list) or not all(isinstance(e, Mapping) for e in entry):
            raise ConfluenceError(f"{algo.name} runs on reach sets: entry must be a list of reach entries", source)
        return list(entry)
    if not isinstance(entry, Mapping) or "reach_id" not in entry:
        raise ConfluenceError(f"{algo.name} runs on reaches: entry must be an object with reach_id", source)
    return [entry]


def load_reach(entry: Mapping[str, Any], input_dir: Path) -> ReachInput:
    """Read one reach entry ``{"reach_id", "sword", "swot", "sos"}`` below ``input_dir``."""
    item = reach_entry(entry)
    rid = item.reach_id
    swot_path = input_dir / "swot" / item.swot
    try:
        obs = read_swot(swot_path)
    except InputError as exc:
        reason = "no SWOT file" if not swot_path.exists() else exc.reason
        log.warning("%s: %s; writing flagged output for reach %s", swot_path, reason, rid)
        obs = ReachObs.empty(rid)
        return ReachInput(obs, Priors(reach_id=rid), reason)
    if obs.reach_id != rid:
        log.warning("%s: holds reach %s, entry says %s; using %s", swot_path, obs.reach_id, rid, rid)
        obs.reach_id = rid
    if entry.get("sword"):
        add_sword(obs, input_dir / "sword" / str(entry["sword"]))
    priors = Priors(reach_id=rid)
    if entry.get("sos"):
        priors = read_priors(input_dir / "sos" / str(entry["sos"]), rid, obs.node_id)
    return ReachInput(obs, priors)


def check_obs(algo: Algorithm, item: ReachInput) -> None:
    """Flag ``item`` (its ``reason``) when it has fewer valid observations than ``algo.min_obs``."""
    if not item.reason and not is_combiner(algo) and item.obs.n_valid < algo.min_obs:
        item.reason = f"{item.obs.n_valid} valid observations, {algo.name} needs {algo.min_obs}"
        log.info("reach %s: %s; writing flagged output", item.obs.reach_id, item.reason)


def run_algorithm(algo: Algorithm, fanout: str, items: Sequence[ReachInput]) -> list[FlpeResult]:
    """Run ``algo`` on the runnable items; flagged results for the others (one per item).

    ``fanout`` ``reachset``: the items are one set (upstream to downstream), run together.  A
    reach that cannot run (too few observations) is flagged on its own and the rest of the set
    runs without it; when the set as a whole cannot run (``NotEnoughDataError``, e.g. too few
    common times), each reach is run as a single-reach set, so one empty reach never costs the
    others their estimate.
    """
    if fanout == "reachset":
        return _run_set(algo, items)
    return _run_single(algo, items)


def _run_single(algo: Algorithm, items: Sequence[ReachInput]) -> list[FlpeResult]:
    """Each reach on its own; an algorithm that declares ``batched = True`` gets every runnable reach
    of the job in one ``run`` call (one result per reach, each independent of the others), and the
    reaches one by one only when that call raises ``NotEnoughDataError``."""
    runnable = [i for i in items if not i.reason]
    if getattr(algo, "batched", False) and len(runnable) > 1:
        try:
            done = dict(zip(map(id, runnable), algo.run([(i.obs, i.priors) for i in runnable]), strict=True))
        except NotEnoughDataError as exc:
            log.info("%d reaches cannot run together (%s); running each on its own", len(runnable), exc.reason)
        else:
            return [done[id(i)] if id(i) in done else FlpeResult.invalid(i.obs.reach_id, i.obs.nt, i.reason)
                    for i in items]
    out = []
    for i in items:
        if i.reason:
            out.append(FlpeResult.invalid(i.obs.reach_id, i.obs.nt, i.reason))
            continue
        try:
            out.extend(algo.run([(i.obs, i.priors)]))
        except NotEnoughDataError as exc:
            out.append(FlpeResult.invalid(i.obs.reach_id, i.obs.nt, exc.reason))
    return out


def _run_set(algo: Algorithm, items: Sequence[ReachInput]) -> list[FlpeResult]:
    """A set: the runnable reaches together, else one by one; flagged results for the others."""
    by_reach: dict[int, FlpeResult] = {
        id(i): FlpeResult.invalid(i.obs.reach_id, i.obs.nt, i.reason) for i in items if i.reason}
    runnable = [i for i in items if not i.reason]
    if runnable and len(runnable) < len(items):
        log.info("set: %d of %d reaches can run (%s); running them without the others", len(runnable),
                 len(items), "; ".join(f"reach {i.obs.reach_id}: {i.reason}" for i in items if i.reason))
    if len(runnable) > 1:
        try:
            for i, res in zip(runnable, algo.run([(i.obs, i.priors) for i in runnable]), strict=True):
                by_reach[id(i)] = res
            runnable = []
        except NotEnoughDataError as exc:
            log.info("set of %d reaches cannot run together (%s); running each reach on its own",
                     len(runnable), exc.reason)
    for i, res in zip(runnable, _run_single(algo, runnable), strict=True):
        if not res.valid and len(items) > 1:
            res.reason = f"{res.reason} (run on its own after the set could not run)"
        by_reach[id(i)] = res
    return [by_reach[id(i)] for i in items]


def run_combiner(algo: Combiner, items: Sequence[ReachInput], flpe_dir: Path) -> list[FlpeResult]:
    """Run a combiner (consensus) on the other algorithms' outputs for each item.

    The outputs are found through the FLPE output contract of the shared
    library (``confluence_core.flpe``), not through installed plug-ins: the
    consensus image holds no other algorithm, and an algorithm added to that
    table is combined with no change here.
    """
    specs = {name: spec for name, spec in flpe_contract.algorithms().items() if name != algo.name}
    out = []
    for i in items:
        rid = i.obs.reach_id
        if i.reason:
            out.append(FlpeResult.invalid(rid, i.obs.nt, i.reason))
            continue
        series, q_u = {}, {}
        for name, spec in specs.items():
            try:
                res = flpe_contract.read_result(spec, flpe_dir, rid)
            except ConfluenceError as exc:
                log.warning("reach %s: cannot read %s output (%s); left out", rid, name, exc)
                continue
            if res is not None and res.valid:
                series[name] = res.q
                if res.q_u is not None and res.q_u.shape == res.q.shape:
                    q_u[name] = res.q_u  # m3/s (the contract converts relative ones)
        log.info("reach %s: outputs found for %s", rid, ", ".join(series) or "no algorithm")
        out.append(algo.combine(rid, i.obs.nt, series, q_u=q_u, obs=i.obs, priors=i.priors))
    return out


def output_path(step: workflow.Step, flpe_dir: Path, reach_ids: Sequence[int]) -> Path:
    """The file a job writes for ``reach_ids`` (one reach, or a set): the row's declared flpe output.

    A reach-set step writes its ``{set}`` output (ids joined by ``-``), a reach step its per-reach
    file (the output contract's).
    """
    if step.fanout == "reachset":
        for out in step.outputs:
            if out.volume == "flpe" and "set" in out.placeholders:
                return flpe_dir / out.pattern.format(set="-".join(str(int(r)) for r in reach_ids))
    return flpe_contract.contract(step).path(flpe_dir, int(reach_ids[0]))  # a reach's own file


def write_outputs(algo: Algorithm, step: workflow.Step, items: Sequence[ReachInput],
                  results: Sequence[FlpeResult], flpe_dir: Path) -> list[Path]:
    """Write the job's output file(s) atomically in the flpe volume; return their paths.

    A reach-set step whose row declares a ``{set}`` output writes one set file (``write`` gets every
    reach of the set); every other step writes one file per reach (``write`` gets one reach).
    """
    set_file = step.fanout == "reachset" and any("set" in o.placeholders for o in step.outputs)
    groups: list[list[int]] = [list(range(len(items)))] if set_file else [[k] for k in range(len(items))]
    paths = []
    for group in groups:
        obs = [items[k].obs for k in group]
        res = [results[k] for k in group]
        dest = output_path(step, flpe_dir, [o.reach_id for o in obs])
        with atomic_path(dest) as tmp:
            algo.write(tmp, obs, res)
        for r in res:
            if not r.valid:
                log.info("reach %s: flagged output (%s)", r.reach_id, r.reason)
        log.info("wrote %s", dest)
        paths.append(dest)
    return paths


def load_entry(algo: Algorithm, step: workflow.Step, entry: Any, input_dir: Path,
               source: str = "fan-out entry") -> list[ReachInput]:
    """The river reaches of one fan-out entry, read and checked (non-river reaches are skipped)."""
    items = []
    for e in entry_reaches(algo, step.fanout, entry, source):
        rid = int(e["reach_id"])
        try:
            river = ids.is_river(rid)
        except ValueError as exc:
            raise ConfluenceError(str(exc), source) from None
        if not river:
            log.info("reach %s: type %s is not a river (type 1); skipped, no output", rid, ids.reach_type(rid))
            continue
        items.append(load_reach(e, input_dir))
    for i in items:
        check_obs(algo, i)
    return items


def run_entry(algo: Algorithm, entry: Any, input_dir: Path, flpe_dir: Path,
              source: str = "fan-out entry", step: workflow.Step | None = None) -> list[Path]:
    """Run one fan-out entry end to end; return the files written (none for non-river reaches).

    ``step`` is the algorithm's workflow-table row (default: the row named by ``$CONFLUENCE_STEP``,
    else by the algorithm's name).
    """
    step = step or workflow.current_step(algo.name)
    items = load_entry(algo, step, entry, input_dir, source)
    if not items:
        return []
    results = run_combiner(algo, items, flpe_dir) if is_combiner(algo) else run_algorithm(algo, step.fanout, items)
    if len(results) != len(items):
        raise ConfluenceError(f"{algo.name} returned {len(results)} results for {len(items)} reaches")
    return write_outputs(algo, step, items, results, flpe_dir)


def run_batch(algo: Algorithm, entries: Sequence[tuple[int, Any]], input_dir: Path, flpe_dir: Path,
              step: workflow.Step, logger: logging.Logger, source: str = "fan-out list") -> list[tuple[int, str]]:
    """Run a group of per-reach entries in one ``algo.run`` call (an algorithm that batches, e.g.
    neoBAM compiling once per job); return ``(list index, reason)`` of the entries that failed.

    Each entry is read and written on its own, so one bad entry fails alone (a ``entry failed``
    line, :mod:`confluence_core.entries`); when the batched run itself raises, the entries are run
    one by one (:func:`run_entry`) so that the error belongs to the reach that caused it.
    """
    from confluence_core.entries import entry_done, entry_failed

    failed: list[tuple[int, str]] = []
    loaded: list[tuple[int, Any, list[ReachInput]]] = []
    for i, entry in entries:
        try:
            loaded.append((i, entry, load_entry(algo, step, entry, input_dir, f"{source}[{i}]")))
        except (ConfluenceError, ValueError) as exc:
            entry_failed(logger, i, str(exc))
            failed.append((i, str(exc)))
    every = [item for _, _, items in loaded for item in items]
    try:
        results = run_algorithm(algo, step.fanout, every) if every else []
        if len(results) != len(every):
            raise ConfluenceError(f"{algo.name} returned {len(results)} results for {len(every)} reaches")
    except Exception as exc:  # the batch as a whole: find the entry that fails, one by one
        logger.warning("%s: the batch of %d reaches failed (%s: %s); running them one by one", algo.name,
                       len(every), type(exc).__name__, exc)
        for i, entry, _ in loaded:
            try:
                run_entry(algo, entry, input_dir, flpe_dir, f"{source}[{i}]", step)
            except Exception as one:
                reason = str(one) if isinstance(one, ConfluenceError) else f"unexpected {type(one).__name__}: {one}"
                entry_failed(logger, i, reason)
                failed.append((i, reason))
            else:
                entry_done(logger, i)
        return failed
    at = 0
    for i, _entry, items in loaded:
        mine = results[at:at + len(items)]
        at += len(items)
        try:
            if items:
                write_outputs(algo, step, items, mine, flpe_dir)
        except (ConfluenceError, OSError) as exc:
            entry_failed(logger, i, str(exc))
            failed.append((i, str(exc)))
        else:
            entry_done(logger, i)
    return failed

