"""``confluence-flpe ALGO [--index N]``: run one FLPE plug-in on one fan-out entry."""

from __future__ import annotations

from pathlib import Path

import click
from confluence_core import workflow
from confluence_core.cli import get_logger, index_option, module_command
from confluence_core.entries import for_each_entry, group_failed, job_entries
from confluence_core.volumes import volume_path

from . import io, registry
from .interface import is_combiner
from .runner import run_batch, run_entry


@module_command("confluence-flpe", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("algo")
@index_option
@click.option("--list", "list_name", default=None,
              help="Fan-out list in the input volume (default: the list of the algorithm's workflow-table row).")
def main(algo: str, index: int | None, list_name: str | None) -> None:
    """Run FLPE algorithm ALGO (an installed plug-in, e.g. momma) on the entries of job --index of its list
    (one entry, or the row's group of entries: confluence_core.entries).

    Reads input/swot, input/sword and input/sos; writes flpe/ALGO/.  Plug-ins
    installed: give any unknown name to list them.
    """
    logger = get_logger("confluence-flpe")
    io.clear_caches()  # SWORD / SoS tables are read once per job (io)
    plugin = registry.get(algo)
    step = workflow.current_step(algo)
    entries, list_path = job_entries(algo, index, list_name)
    logger.info("%s: %d entr%s of %s (%s)", algo, len(entries), "y" if len(entries) == 1 else "ies", list_path,
                ", ".join(str(i) for i, _ in entries[:10]) + (" ..." if len(entries) > 10 else ""))
    if len(entries) > 1 and step.fanout == "reach" and getattr(plugin, "batched", False) \
            and not is_combiner(plugin):
        failed = run_batch(plugin, entries, volume_path("input"), volume_path("flpe"), step, logger,
                           str(list_path))
        if failed:
            raise group_failed(failed, len(entries), list_path)
        return

    def one(entry: object, path: Path, i: int) -> None:
        paths = run_entry(plugin, entry, volume_path("input"), volume_path("flpe"), source=f"{path}[{i}]",
                          step=step)
        logger.info("%s: entry %d done, %d file(s) written", algo, i, len(paths))

    for_each_entry(algo, index, one, logger, list_name)
