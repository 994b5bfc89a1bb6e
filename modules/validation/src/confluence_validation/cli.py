"""``confluence-validation``: score a reach's discharge products against its validation gauge.

Per reach (entry ``--index`` of ``input/reaches.json``): when the SoS holds a
validation gauge (``{A}_CAL == 0``) on the reach, every product (FLPE
algorithms, consensus, MOI, offline) is compared with the gauge's daily
discharge on the observation days and the statistics go to
``validation/{reach_id}_validation.nc``.  Calibration gauges (``CAL == 1``: the
priors of the constrained branch) are never scored, in either branch; each is
named in the log and counted in the file (``n_calibration_gauges_held_back``).  ``confluence-validation summary``
(run once after every reach) writes ``validation/summary.csv`` and
``validation/summary.png``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click
import numpy as np
from confluence_core import branch as run_branch
from confluence_core.cli import index_option, list_option, module_command
from confluence_core.entries import for_each_entry
from confluence_core.index import reach_entry
from confluence_core.scores import all_scores
from confluence_core.volumes import volume_path

from . import io
from .align import Aligned, GaugeSeries, align, clean_gauge

NAME = "confluence-validation"
#: Environment variable of ``--utc-offset``.
OFFSET_ENV = "CONFLUENCE_GAUGE_UTC_OFFSET"
log = logging.getLogger(NAME)


def _cleaned(gauges: list[io.GaugeRecord]) -> list[tuple[io.GaugeRecord, GaugeSeries]]:
    """Clean each gauge's record, warning (by name) about duplicate days and negative values."""
    out = []
    for g in gauges:
        series = clean_gauge(g.qt, g.q)
        if series.n_duplicate_days:
            log.warning("%s (reach %s): %d days recorded more than once; their values averaged",
                        g.label, g.reach_id, series.n_duplicate_days)
        if series.n_negative:
            log.warning("%s (reach %s): %d negative discharge values treated as missing",
                        g.label, g.reach_id, series.n_negative)
        out.append((g, series))
    return out


def _choose(candidates: list[tuple[io.GaugeRecord, GaugeSeries, Aligned]]
            ) -> tuple[io.GaugeRecord, GaugeSeries, Aligned]:
    """The gauge with a value on the most observation days (the first in SoS order on a tie)."""
    best = max(range(len(candidates)), key=lambda i: (candidates[i][2].n_gauge_days, -i))
    return candidates[best]


def validate_reach(entry: dict[str, Any], utc_offset: float) -> Path | None:
    """Validate one ``reaches.json`` entry; return the file written, or None when the reach has no gauge."""
    item = reach_entry(entry)
    reach_id = item.reach_id
    sos_path = volume_path("input", "sos", item.sos)
    gauges = io.read_gauges(sos_path, reach_id, cal=0)
    held_back = io.read_gauges(sos_path, reach_id, cal=1)
    if held_back:
        log.info("reach %s: %d calibration gauge(s) (CAL 1) held back, not scored: %s (%s branch: %s)",
                 reach_id, len(held_back), "; ".join(g.label for g in held_back), run_branch.current(),
                 "they are its priors" if run_branch.current() == run_branch.CONSTRAINED
                 else "priors in the constrained branch only")
    if not gauges:
        log.debug("reach %s: no validation gauge (CAL 0) in %s; nothing to validate", reach_id, sos_path)
        return None
    swot_path = volume_path("input", "swot", item.swot)
    times = io.read_times(swot_path, reach_id)
    products = io.read_products(reach_id, times.size)
    if not products:
        log.warning("reach %s: no discharge product found in flpe, moi or offline; file has no products",
                    reach_id)
    est = np.vstack([p.q for p in products]) if products else np.zeros((0, times.size))
    candidates = [(g, s, align(times, est, s, utc_offset)) for g, s in _cleaned(gauges)]
    gauge, series, aligned = _choose(candidates)
    if len(candidates) > 1:
        log.info("reach %s: %d validation gauges; using %s (values on %d of %d observation days)", reach_id,
                 len(candidates), gauge.label, aligned.n_gauge_days, aligned.days.size)
    stats = all_scores(aligned.est, aligned.gauge)
    attrs = {
        "title": f"Validation of discharge products against gauge {gauge.agency} {gauge.gauge_id}",
        "reach_id": np.int64(reach_id),
        "gauge_agency": gauge.agency,
        "gauge_id": gauge.gauge_id,
        "gauge_utc_offset_hours": float(utc_offset),
        "other_validation_gauges": "; ".join(g.label for g, _, _ in candidates if g is not gauge) or "none",
        "n_calibration_gauges_held_back": np.int32(len(held_back)),
        "calibration_gauges_held_back": "; ".join(g.label for g in held_back) or "none",
        "sos_file": sos_path.name,
        "swot_file": swot_path.name,
        "n_observations": np.int32(np.isfinite(times).sum()),
        "n_observation_days": np.int32(aligned.days.size),
        "n_gauge_days": np.int32(series.n_valid),
        "n_gauge_days_on_observation_days": np.int32(aligned.n_gauge_days),
        "gauge_duplicate_days": np.int32(series.n_duplicate_days),
        "gauge_negative_values": np.int32(series.n_negative),
        "day_matching": "observation time + utc offset, floored to the day, equals the gauge day; "
                        "several estimates on one day are averaged",
        "run_id": io.run_id(),
        "date_created": io.now_utc(),
    }
    path = io.write_validation(io.validation_path(reach_id), products, stats, aligned.days, aligned.gauge,
                               aligned.est, attrs)
    n = stats["n_matched"]
    if aligned.n_gauge_days == 0:
        log.warning("reach %s: %s has no usable value on any of the %d observation days (UTC offset %+g h); "
                    "statistics are fill in %s", reach_id, gauge.label, aligned.days.size, utc_offset, path)
    elif not np.any(n > 0):
        log.warning("reach %s: no product has an estimate on any of the %d days %s has a value; "
                    "statistics are fill in %s", reach_id, aligned.n_gauge_days, gauge.label, path)
    else:
        log.info("reach %s: %d products scored against %s on up to %d matched days; wrote %s", reach_id,
                 len(products), gauge.label, int(n.max()), path)
    return path


HELP = (__doc__ or "").replace("``", "") + (
    "\n\nGauge days are local days: an observation at UTC time t matches the gauge day of t + OFFSET hours "
    "(e.g. --utc-offset -9 for Alaska standard time)."
)

offset_option = click.option(
    "--utc-offset", "utc_offset", type=click.FloatRange(-14.0, 14.0), default=0.0, show_default=True,
    envvar=OFFSET_ENV, show_envvar=True,
    help="Gauge local time minus UTC, hours: observation times are moved by it before taking the day.",
)


@module_command(NAME, cls=click.Group, invoke_without_command=True, help=HELP)
@index_option
@offset_option
@list_option
def main(index: int | None, utc_offset: float, list_name: str | None) -> None:
    """Validate one reach (entry INDEX of reaches.json); `summary` summarises a whole run."""
    if click.get_current_context().invoked_subcommand is not None:
        return
    io.clear_caches()
    for_each_entry("validation", index, lambda entry, _path, _i: validate_reach(entry, utc_offset), log,
                   list_name, kind=dict)


@module_command(NAME, help="Summarise every validation/*_validation.nc into validation/summary.csv and "
                           "validation/summary.png (run once, after the per-reach jobs).")
@click.option("--hydrographs", type=click.IntRange(0, 4), default=4, show_default=True,
              help="Reaches shown as hydrographs (those with the most matched days).")
def summary(hydrographs: int) -> None:
    """Write the run's validation summary table and figure."""
    from .summary import summarise

    summarise(volume_path("validation"), n_hydrographs=hydrographs)


main.add_command(summary, "summary")
