"""``confluence-postdiagnostics flpe|moi``: realism, stability and pre/post-integration flags.

``flpe`` (step 8) reads entry ``--index`` of ``input/reaches.json`` and writes
``diagnostics/postdiagnostics/{reach_id}_flpe_diag.nc``; ``moi`` (step 10)
reads entry ``--index`` of ``input/basin.json`` and writes
``diagnostics/postdiagnostics/{reach_id}_moi_diag.nc`` for every reach of the
basin.  Flags: 0 pass, 1 flagged, 2 no reference, -999 no result.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click
from confluence_core.cli import index_option, list_option, module_command
from confluence_core.entries import for_each_entry
from confluence_core.volumes import volume_path

from . import checks, io
from .previous import PREVIOUS_ENV, open_previous
from .steps import Settings, run_flpe, run_moi

NAME = "confluence-postdiagnostics"
log = logging.getLogger(NAME)

#: The workflow-table row of each mode (its fan-out list comes from the table).
STEPS = {"flpe": "postdiagnostics_flpe", "moi": "postdiagnostics_moi"}


def run(step: str, index: int | None, previous: str | None, settings: Settings,
        list_name: str | None = None) -> list[Path]:
    """Run ``step`` on the entries of job ``index`` of its fan-out list; return the files written."""
    if previous is None and volume_path("previous").is_dir():
        previous = str(volume_path("previous"))  # the driver's --previous, mounted as a volume
    prev = open_previous(previous)
    io.clear_caches()
    written: list[Path] = []

    def one(item: Any, _path: Path, _i: int) -> None:
        written.extend([run_flpe(item, settings, prev)] if step == "flpe" else run_moi(item, settings, prev))

    try:
        for_each_entry(STEPS[step], index, one, log, list_name, kind=dict)
    finally:
        prev.close()
    return written


@module_command(NAME, help=(__doc__ or "").replace("``", ""))
@click.argument("step", type=click.Choice(sorted(STEPS)))
@index_option
@click.option("--previous", default=None, envvar=PREVIOUS_ENV, show_envvar=True,
              help="Previous run to compare with: a run folder (its flpe/ and moi/ volumes) or "
                   "s3://bucket/prefix laid out the same way. Without it stability flags are 2 (no reference).")
@click.option("--threshold", type=float, default=checks.DEFAULT_THRESHOLD, show_default=True,
              envvar="CONFLUENCE_STABILITY_THRESHOLD", show_envvar=True,
              help="Relative change of the mean flow against the previous run above which a result is unstable.")
@click.option("--prepost-threshold", type=float, default=checks.DEFAULT_PREPOST_THRESHOLD, show_default=True,
              envvar="CONFLUENCE_PREPOST_THRESHOLD", show_envvar=True,
              help="moi: relative change of the mean flow by the integration above which it is flagged.")
@click.option("--bounds-factor", type=float, default=checks.DEFAULT_BOUNDS_FACTOR, show_default=True,
              envvar="CONFLUENCE_BOUNDS_FACTOR", show_envvar=True,
              help="Tolerance on the SoS prior flow bounds: flows in [min_q/F, max_q*F] are realistic.")
@list_option
def main(step: str, index: int | None, previous: str | None, threshold: float, prepost_threshold: float,
         bounds_factor: float, list_name: str | None) -> None:
    """Flag FLPE (step 8) or MOI (step 10) discharge of one list entry."""
    settings = Settings(threshold, prepost_threshold, bounds_factor)
    run(step, index, previous, settings, list_name)
