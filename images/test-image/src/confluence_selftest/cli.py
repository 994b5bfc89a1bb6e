"""``confluence-selftest``: write ``selftest/{entry}.json`` and ``.nc`` for one list entry."""

from __future__ import annotations

import os
import time
from typing import Any

import click
import numpy as np
from confluence_core import jsonio, ncio, skips
from confluence_core.cli import get_logger, index_option, module_command
from confluence_core.entries import for_each_entry
from confluence_core.errors import ConfluenceError
from confluence_core.volumes import VOLUMES, volume_path
from confluence_core.workflow import STEP_ENV

NAME = "confluence-selftest"
#: Environment variable naming an entry to fail on (as well as ``--fail-on``).
FAIL_ENV = "SELFTEST_FAIL_ON"
#: Environment variable naming an entry for which one CSV row is reported left out (a counted skip).
SKIP_ENV = "SELFTEST_SKIP_ON"
#: Environment variable an engine may set; echoed into the output.
ENGINE_ENV = "CONFLUENCE_ENGINE"
#: Keys that name a dict entry (reaches.json, basin.json entries).
_NAME_KEYS = ("reach_id", "basin_id", "name")


def entry_name(value: Any, index: int) -> str:
    """Return the file-name stem of a list entry.

    The entry itself when it is a string or a number; for a dict its
    ``reach_id``, ``basin_id`` or ``name``; otherwise the index.
    """
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        for key in _NAME_KEYS:
            if key in value:
                return str(value[key])
    return str(index)


@module_command(NAME)
@index_option
@click.option("--list", "list_name", default="items.json", show_default=True,
              help="JSON list in the input volume whose entry INDEX is this job's.")
@click.option("--volume", default="output", show_default=True, type=click.Choice(sorted(VOLUMES)),
              help="Volume to write selftest/{entry}.json and .nc into.")
@click.option("--sleep", "sleep_s", type=float, default=0.0, show_default=True,
              help="Seconds to sleep before writing.")
@click.option("--fail-on", default=None,
              help=f"Fail (exit 1, no output) when the entry equals this; also ${FAIL_ENV}.")
def main(index: int | None, list_name: str, volume: str, sleep_s: float, fail_on: str | None) -> None:
    """Write selftest/{entry}.json and selftest/{entry}.nc for each entry of job INDEX of --list
    (one entry, or the workflow row's group of entries: confluence_core.entries)."""
    log = get_logger(NAME)
    for_each_entry(os.environ.get(STEP_ENV) or "selftest", index,
                   lambda value, _path, i: write_entry(value, i, volume, sleep_s, fail_on), log, list_name)


def write_entry(value: Any, i: int, volume: str, sleep_s: float, fail_on: str | None) -> None:
    """Write the two files of list entry ``i`` (``value``)."""
    log = get_logger(NAME)
    name = entry_name(value, i)
    log.info("index %d: entry %s", i, name)
    if sleep_s > 0:
        time.sleep(sleep_s)
    fail_values = {v for v in (fail_on, os.environ.get(FAIL_ENV)) if v}
    if name == os.environ.get(SKIP_ENV):
        skips.skip(log, "row", f"{name} table.csv", "line 3: 'abc' is not a number in wse", count=1)
    nc_path = volume_path(volume, "selftest", f"{name}.nc")
    with ncio.create(nc_path, title="confluence-selftest output", entry=name) as ds:
        ncio.write_var(ds, "index", np.int32(i), dtype="i4", attrs={"long_name": "list index"})
        if name in fail_values:  # inside the block: the .nc must not appear
            raise ConfluenceError(f"entry {name} is the entry to fail on (--fail-on/${FAIL_ENV})", nc_path)
    payload = {"entry": value, "index": i, "pid": os.getpid(), "engine_env": os.environ.get(ENGINE_ENV)}
    out = jsonio.write_json(volume_path(volume, "selftest", f"{name}.json"), payload)
    log.info("wrote %s and %s", out, nc_path)
