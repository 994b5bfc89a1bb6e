"""``confluence-prediagnostics``: quality checks and outlier filter for one reach.

Reads entry ``--index`` of ``input/reaches.json``, filters
``input/swot/{reach_id}_SWOT.nc`` in place and writes
``diagnostics/prediagnostics/{reach_id}_prediagnostics.nc`` (flags) and
``diagnostics/prediagnostics/{reach_id}_prediagnostics.json`` (counts per check).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click
import numpy as np
from confluence_core.cli import index_option, list_option, module_command
from confluence_core.entries import for_each_entry
from confluence_core.index import ReachEntry, reach_entry
from confluence_core.volumes import volume_path

from . import io
from .checks import Outcome, prediagnose
from .config import CONFIG_ENV, Thresholds, describe, load_thresholds

NAME = "confluence-prediagnostics"
log = logging.getLogger(NAME)


def diagnostics_path(reach_id: int) -> Path:
    """``diagnostics/prediagnostics/{reach_id}_prediagnostics.nc``."""
    return volume_path("diagnostics", "prediagnostics", f"{reach_id}_prediagnostics.nc")


def summary_path(reach_id: int) -> Path:
    """``diagnostics/prediagnostics/{reach_id}_prediagnostics.json`` (the counts, for the run record)."""
    return volume_path("diagnostics", "prediagnostics", f"{reach_id}_prediagnostics.json")


#: Prior fields read from SWORD when the SWOT file does not hold them.
PRIOR_FIELDS = (("reach", "p_width"), ("reach", "p_length"), ("node", "p_width"))


def _add_prior(
    entry: ReachEntry, data: io.SwotData, reach: dict[str, Any], node: dict[str, Any], notes: dict[str, str],
) -> None:
    """Add ``p_width`` / ``p_length`` (m) from SWORD where the SWOT file has none; ``notes`` say why not."""
    groups = {"reach": reach, "node": node}
    wanted = [(level, name) for level, name in PRIOR_FIELDS if groups[level].get(name) is None]
    if not wanted:
        return
    sword = volume_path("input", "sword", entry.sword)
    prior = io.read_prior(sword, entry.reach_id, data.node_id)
    if prior is None:
        log.info("%s absent: prior width / length checks skipped", sword)
        notes.update({f"{level}/{name}": f"SWORD file {sword.name} absent" for level, name in wanted})
        return
    found = {("reach", "p_width"): prior.p_width, ("reach", "p_length"): prior.p_length,
             ("node", "p_width"): prior.node_p_width}
    for level, name in wanted:
        value = found[(level, name)]
        if value is None or not np.any(np.isfinite(value)):
            notes[f"{level}/{name}"] = f"no usable prior {name} for this reach in {sword.name}"
            continue
        groups[level][name] = np.asarray(value, dtype=np.float64)  # node: one value per node


def process_reach(entry: dict[str, Any], cfg: Thresholds, config_file: Path | None = None) -> Outcome:
    """Run the step on one ``reaches.json`` entry: read, check, rewrite, write the flags."""
    item = reach_entry(entry)
    reach_id = item.reach_id
    swot = volume_path("input", "swot", item.swot)
    with io.update_swot(swot, reach_id) as update:  # the file is rewritten when the block ends
        data = update.data
        if data.has_original:
            log.debug("%s: rerun, starting from the values kept in its 'original' group", swot)
        reach, node = dict(data.reach), dict(data.node)
        notes: dict[str, str] = {}
        _add_prior(item, data, reach, node, notes)

        outcome = prediagnose(reach, node, cfg, nt=data.nt, nx=data.nx)
        notes = {**outcome.skipped, **notes}
        for key, why in sorted(notes.items()):
            log.debug("reach %s: check %s skipped: %s", reach_id, key, why)

        if outcome.usable:
            update.write(outcome)
        elif outcome.n_observed == 0:
            log.warning("reach %s: no observations in %s; file left untouched", reach_id, swot)
        else:
            log.warning("reach %s: all %d observations removed; %s left untouched",
                        reach_id, outcome.n_observed, swot)
    attrs = {
        **cfg.as_attrs(),
        "config_file": str(config_file) if config_file else "defaults (contracts.md section 9; JPL D-56413)",
        "swot_file": swot.name,
        "usable": np.int32(outcome.usable),
        "swot_file_updated": np.int32(outcome.usable),
        "checks_skipped": "; ".join(f"{k}: {v}" for k, v in sorted(notes.items())) or "none",
    }
    out = io.write_diagnostics(diagnostics_path(reach_id), reach_id, data.nt, data.nx, outcome, cfg,
                               notes, attrs)
    io.write_summary(summary_path(reach_id), reach_id, outcome, outcome.usable)
    passes, nodes = outcome.counts("reach"), outcome.counts("node")
    by_rule = ", ".join(f"{k} {v}" for k, v in passes["removed_by"].items() if v)
    log.info(
        "reach %s: kept %d of %d passes (removed %d: %s) and %d of %d node observations; flags in %s",
        reach_id, passes["kept"], passes["observations"], passes["removed"], by_rule or "none",
        nodes["kept"], nodes["observations"], out,
    )
    return outcome


HELP = (
    (__doc__ or "").replace("``", "")
    + "\n\nConfig keys (TOML `key = value`; defaults from contracts.md section 9):\n\n\b\n"
    + describe()
)


@module_command(NAME, help=HELP)
@index_option
@click.option(
    "--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    envvar=CONFIG_ENV, show_envvar=True,
    help="TOML (or YAML) file overriding the check thresholds (keys above).",
)
@list_option
def main(index: int | None, config_file: Path | None, list_name: str | None) -> None:
    """Filter one reach's SWOT observations (entry INDEX of reaches.json)."""
    cfg = load_thresholds(config_file)
    io.clear_caches()
    for_each_entry("prediagnostics", index, lambda entry, _path, _i: process_reach(entry, cfg, config_file),
                   log, list_name, kind=dict)
