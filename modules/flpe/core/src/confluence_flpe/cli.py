"""``confluence-flpe ALGO [--index N]``: run one FLPE plug-in on one fan-out entry."""

from __future__ import annotations

import click
from confluence_core import index as cindex
from confluence_core.cli import get_logger, index_option, module_command
from confluence_core.volumes import volume_path

from . import registry
from .io import FANOUT_LISTS
from .runner import run_entry


@module_command("confluence-flpe", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("algo")
@index_option
@click.option("--list", "list_name", default=None,
              help="Fan-out list in the input volume (default: the plug-in's fanout_list, else "
                   "reaches.json for reach algorithms and metrosets.json for reach-set ones).")
def main(algo: str, index: int | None, list_name: str | None) -> None:
    """Run FLPE algorithm ALGO (an installed plug-in, e.g. momma) on entry --index of its list.

    Reads input/swot, input/sword and input/sos; writes flpe/ALGO/.  Plug-ins
    installed: give any unknown name to list them.
    """
    logger = get_logger("confluence-flpe")
    plugin = registry.get(algo)
    i = cindex.resolve_index(index)
    name = list_name or getattr(plugin, "fanout_list", None) or FANOUT_LISTS[plugin.fanout]
    list_path = volume_path("input", name)
    entry = cindex.entry(list_path, i)
    logger.info("%s: entry %d of %s", algo, i, list_path)
    paths = run_entry(plugin, entry, volume_path("input"), volume_path("flpe"), source=f"{list_path}[{i}]")
    logger.info("%s: entry %d done, %d file(s) written", algo, i, len(paths))
