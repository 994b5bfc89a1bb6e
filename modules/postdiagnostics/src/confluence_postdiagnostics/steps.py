"""The two postdiagnostics steps: ``flpe`` (per reach, step 8) and ``moi`` (per basin, step 10).

Each reads by the contracts (``io``), computes the flags with the pure checks
(``checks``) and writes one diagnostics file per reach.  Per-algorithm read
problems (missing or corrupt files, current or previous) are logged in one line
and give that algorithm's fill / "no reference" flag; the rest is written.  In
the basin step a reach without its integrator file (e.g. one that ``confluence
run --keep-going`` left out, ``input/left_out.json``: the warning gives the
reason) gets -999 flags and the other reaches go on.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from confluence_core import flpe, leftout
from confluence_core.errors import ConfluenceError, InputError
from confluence_core.ids import continent_of
from confluence_core.index import reach_entry
from confluence_core.sos import sos_name
from confluence_core.volumes import volume_path

from . import checks, io
from .previous import PreviousRun

log = logging.getLogger("confluence-postdiagnostics")
T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """Thresholds of the flags (fractions) and the tolerance factor on the SoS flow bounds."""

    threshold: float = checks.DEFAULT_THRESHOLD
    prepost_threshold: float = checks.DEFAULT_PREPOST_THRESHOLD
    bounds_factor: float = checks.DEFAULT_BOUNDS_FACTOR

    def __post_init__(self) -> None:
        if not (self.threshold > 0 and self.prepost_threshold > 0):
            raise ConfluenceError("thresholds must be positive fractions (e.g. 0.1 for 10 %)")
        if not self.bounds_factor >= 1:
            raise ConfluenceError(f"the bounds factor must be >= 1, not {self.bounds_factor}")


def diag_path(reach_id: int, step: str) -> Path:
    """``diagnostics/postdiagnostics/{reach_id}_{step}_diag.nc``."""
    return volume_path("diagnostics", "postdiagnostics", f"{reach_id}_{step}_diag.nc")


def _sos_path(entry: dict[str, Any], reach_id: int) -> Path:
    name = entry.get("sos") or sos_name(continent_of(reach_id), os.environ.get("CONFLUENCE_SWORD_VERSION", "16"))
    return volume_path("input", "sos", str(name))


def _attempt(read: Callable[[], T], what: str) -> tuple[T | None, str]:
    """Run a reader; an InputError is logged in one line and gives ``(None, reason)``."""
    try:
        return read(), ""
    except InputError as exc:
        log.warning("%s unreadable: %s", what, exc)
        return None, f"unreadable: {exc.reason}"


def _attrs(step: str, settings: Settings, previous: PreviousRun, sos: Path) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "step": step,
        "previous_run": previous.describe(),
        "stability_threshold": settings.threshold,
        "bounds_factor": settings.bounds_factor,
        "sos_file": sos.name,
        "parameter_ranges": "; ".join(r.describe() for r in checks.param_ranges().values()),
        "flag_convention": "0 pass, 1 flagged, 2 no reference, -999 no result (see each flag's attributes)",
    }
    if step == "moi":
        attrs["prepost_threshold"] = settings.prepost_threshold
    if os.environ.get("CONFLUENCE_RUN_ID"):
        attrs["run_id"] = os.environ["CONFLUENCE_RUN_ID"]
    return attrs


def _realism(results: Sequence[io.Result | None], notes: Sequence[str], bounds: tuple[float, float],
             factor: float) -> tuple[np.ndarray, list[str]]:
    """Realism flags and reason texts of each algorithm's result."""
    problems: list[list[str] | None] = []
    for res in results:
        if res is None:
            problems.append(None)
            continue
        found = checks.flow_problems(res.q, *bounds, factor=factor) + checks.parameter_problems(res.params)
        if not res.valid:
            found.append("algorithm marked its result invalid")
        problems.append(found)
    reasons = [note or ("no result" if p is None else "; ".join(p)) for p, note in zip(problems, notes, strict=True)]
    return checks.realism_flags(problems), reasons


def _means(results: Sequence[io.Result | None]) -> tuple[np.ndarray, np.ndarray]:
    means = np.asarray([checks.series_mean(r.q if r else None) for r in results], dtype=np.float64)
    return means, np.asarray([r is not None for r in results])


def run_flpe(entry: dict[str, Any], settings: Settings, previous: PreviousRun) -> Path:
    """Step 8 on one ``reaches.json`` entry: flag every FLPE algorithm and the consensus of the reach."""
    reach_id = reach_entry(entry).reach_id
    sos = _sos_path(entry, reach_id)
    bounds = io.read_bounds(sos, [reach_id]).get(reach_id, (math.nan, math.nan))
    specs = [*flpe.algorithms().values(), flpe.consensus()]
    flpe_root = volume_path("flpe")
    current, notes = zip(*(_attempt(partial(io.read_flpe, s, flpe_root, reach_id), f"{s.name} result")
                           for s in specs), strict=True)
    prev = [_previous_flpe(previous, s, reach_id) for s in specs]
    realism, reasons = _realism(current, notes, bounds, settings.bounds_factor)
    mean_q, has_q = _means(current)
    prev_mean, has_prev = _means(prev)
    stability, rel = checks.change_flags(mean_q, prev_mean, has_q, has_prev, settings.threshold)
    out = io.write_diag(
        diag_path(reach_id, "flpe"), reach_id, [io.diag_name(s) for s in specs],
        {"realism_flags": realism, "stability_flags": stability}, reasons,
        {"mean_q": mean_q, "previous_mean_q": prev_mean, "stability_rel_change": rel},
        _attrs("flpe", settings, previous, sos),
    )
    _log_summary(reach_id, specs, realism, stability, None, out)
    return out


def _previous_flpe(previous: PreviousRun, spec: flpe.FlpeOutput, reach_id: int) -> io.Result | None:
    rel = f"flpe/{spec.folder}/{spec.file.format(reach_id=reach_id)}"
    local = previous.fetch(rel)
    root = previous.root
    if local is None or root is None:
        if root is not None:
            log.info("reach %s: previous run %s has no %s: %s stability 'no reference'",
                     reach_id, previous.describe(), rel, spec.name)
        return None
    res, _ = _attempt(lambda: io.read_flpe(spec, root / "flpe", reach_id), f"previous {spec.name} result")
    return res


def run_moi(entry: dict[str, Any], settings: Settings, previous: PreviousRun) -> list[Path]:
    """Step 10 on one ``basin.json`` entry: one ``{reach}_moi_diag.nc`` per reach of the basin.

    Raises
    ------
    ConfluenceError
        When the entry lists no reach, or no reach of the basin could be written.
    """
    reach_ids = [int(r) for r in entry.get("reach_id") or []]
    if not reach_ids:
        raise InputError(f"basin entry lists no reach: {entry.get('basin_id')!r}")
    sos = _sos_path(entry, reach_ids[0])
    bounds = io.read_bounds(sos, reach_ids)
    written, failed = [], []
    left = leftout.read(volume_path("input"))
    for rid in reach_ids:
        try:
            written.append(_moi_reach(rid, bounds.get(rid, (math.nan, math.nan)), sos, settings, previous,
                                      left.get(rid, "")))
        except ConfluenceError as exc:  # one reach's failure never stops the basin
            log.error("reach %s: %s", rid, exc)
            failed.append(rid)
    if not written:
        raise ConfluenceError(f"no moi diagnostics written for basin {entry.get('basin_id')} "
                              f"({len(failed)} reach(es) failed)")
    return written


def _moi_reach(reach_id: int, bounds: tuple[float, float], sos: Path, settings: Settings,
               previous: PreviousRun, left_out: str = "") -> Path:
    specs = [s for s in flpe.algorithms().values() if s.moi]
    moi_file = volume_path("moi", f"{reach_id}_integrator.nc")
    integ, note = _attempt(lambda: io.read_integrator(moi_file), "integrator file")
    if integ is None and not note:
        why = f" (left out upstream: {left_out})" if left_out else ""
        log.warning("reach %s: %s not found%s: moi flags are -999 (no result)", reach_id, moi_file, why)
    current = [(integ or {}).get(s.moi) for s in specs]
    notes = [note if integ is None else "" for _ in specs]
    flpe_root = volume_path("flpe")
    pre = [_attempt(partial(io.read_flpe, s, flpe_root, reach_id), f"{s.name} result")[0] for s in specs]
    prev_integ = _previous_moi(previous, reach_id)
    prev = [(prev_integ or {}).get(s.moi) for s in specs]

    realism, reasons = _realism(current, notes, bounds, settings.bounds_factor)
    mean_q, has_q = _means(current)
    prev_mean, has_prev = _means(prev)
    flpe_mean, has_flpe = _means(pre)
    stability, rel = checks.change_flags(mean_q, prev_mean, has_q, has_prev, settings.threshold)
    prepost, pp_rel = checks.change_flags(mean_q, flpe_mean, has_q, has_flpe, settings.prepost_threshold)
    out = io.write_diag(
        diag_path(reach_id, "moi"), reach_id, [io.diag_name(s) for s in specs],
        {"realism_flags": realism, "stability_flags": stability, "prepost_flags": prepost}, reasons,
        {"mean_q": mean_q, "previous_mean_q": prev_mean, "stability_rel_change": rel,
         "flpe_mean_q": flpe_mean, "prepost_rel_change": pp_rel},
        _attrs("moi", settings, previous, sos),
    )
    _log_summary(reach_id, specs, realism, stability, prepost, out)
    return out


def _previous_moi(previous: PreviousRun, reach_id: int) -> dict[str, io.Result] | None:
    rel = f"moi/{reach_id}_integrator.nc"
    local = previous.fetch(rel)
    if local is None:
        if previous.root is not None:
            log.info("reach %s: previous run %s has no %s: stability 'no reference'",
                     reach_id, previous.describe(), rel)
        return None
    res, _ = _attempt(lambda: io.read_integrator(local), "previous integrator file")
    return res


def _log_summary(reach_id: int, specs: Sequence[flpe.FlpeOutput], realism: np.ndarray, stability: np.ndarray,
                 prepost: np.ndarray | None, out: Path) -> None:
    def names(flags: np.ndarray, value: int) -> str:
        return ",".join(io.diag_name(s) for s, f in zip(specs, flags, strict=True) if f == value) or "none"

    text = (f"reach {reach_id}: unrealistic {names(realism, checks.FLAGGED)}; "
            f"unstable {names(stability, checks.FLAGGED)}; no reference {names(stability, checks.NO_REFERENCE)}")
    if prepost is not None:
        text += f"; changed by integration {names(prepost, checks.FLAGGED)}"
    log.info("%s -> %s", text, out)
