"""``confluence-flpe ALGO [--index N]``: run one FLPE plug-in on one fan-out entry."""

from __future__ import annotations

import click
from confluence_core import index as cindex
from confluence_core import workflow
from confluence_core.cli import get_logger, index_option, module_command
from confluence_core.volumes import volume_path

from . import registry
from .runner import run_entry


@module_command("confluence-flpe", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("algo")
@index_option
@click.option("--list", "list_name", default=None,
              help="Fan-out list in the input volume (default: the list of the algorithm's workflow-table row).")
def main(algo: str, index: int | None, list_name: str | None) -> None:
    """Run FLPE algorithm ALGO (an installed plug-in, e.g. momma) on entry --index of its list.

    Reads input/swot, input/sword and input/sos; writes flpe/ALGO/.  Plug-ins
    installed: give any unknown name to list them.
    """
    logger = get_logger("confluence-flpe")
    plugin = registry.get(algo)
    i = cindex.resolve_index(index)
    step = workflow.current_step(algo)
    list_path = volume_path("input", list_name or workflow.fanout_list(algo))
    entry = cindex.entry(list_path, i)
    logger.info("%s: entry %d of %s", algo, i, list_path)
    paths = run_entry(plugin, entry, volume_path("input"), volume_path("flpe"), source=f"{list_path}[{i}]",
                      step=step)
    logger.info("%s: entry %d done, %d file(s) written", algo, i, len(paths))
