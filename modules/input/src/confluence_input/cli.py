"""``confluence-input``: the SWOT files of one basin."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import click
import numpy as np
from confluence_core import jsonio, riversp, sword
from confluence_core.cli import index_option, module_command
from confluence_core.errors import ConfluenceError, InputError
from confluence_core.hydrocron import log_dropped, source_name
from confluence_core.index import job_entry, selected_reaches
from confluence_core.skips import skip
from confluence_core.volumes import volume_path

from . import hydrocron, io, schema
from .assemble import Grouper, reach_series

log = logging.getLogger("confluence-input")


@module_command("confluence-input")
@index_option
@click.option("--sword-version", envvar="CONFLUENCE_SWORD_VERSION", default=sword.DEFAULT_VERSION,
              show_default=True, type=int,
              help="Skip granules built on another SWORD version. [env CONFLUENCE_SWORD_VERSION]")
def main(index: int | None, sword_version: int) -> None:
    """Write input/swot/{reach_id}_SWOT.nc for every reach of entry INDEX of basin.json
    (only those of $CONFLUENCE_SELECTED_REACHES when it is set: `confluence run --reaches`).

    Hydrocron reach CSVs listed in s3_reach.json (datagen's --source hydrocron
    path, kept in input/hydrocron/) are converted by confluence_input.hydrocron.
    Granules come from s3_reach.json (local paths relative to the source volume, or
    s3:// URIs read with the renew Lambda's credentials from SSM).  A bad granule,
    a bad CSV, a bad row of a CSV and a reach left with no observation are each a
    counted skip (confluence_core.skips) and the rest goes on; the job fails only
    when every granule (or every CSV) failed.
    """
    basin, basin_path, _ = job_entry("input", index)
    try:
        reach_ids = [int(r) for r in basin["reach_id"]]
    except (KeyError, TypeError, ValueError):
        raise InputError(f"entry {basin!r} has no list of reach_id", basin_path) from None
    selected = selected_reaches()
    if selected is not None:  # confluence run --reaches: the other reaches' files are left as they are
        reach_ids = [r for r in reach_ids if r in selected]
        log.info("--reaches: %d reaches of this basin selected", len(reach_ids))
    run_basin(reach_ids, sword_version)


def run_basin(reach_ids: list[int], sword_version: int) -> tuple[int, int]:
    """Read the basin's granules once and write its reaches' files; return (written, failed granules)."""
    t0 = time.perf_counter()
    s3_reach = jsonio.read_json(volume_path("input", "s3_reach.json"))
    known = _reach_nodes(reach_ids)
    cp_path = volume_path("input", "cycle_passes.json")
    cycle_passes = jsonio.read_json(cp_path) if cp_path.is_file() else {}
    granules = sorted({g for r in reach_ids for g in s3_reach.get(str(r), [])})
    if not granules:
        log.warning("no granule lists any of the %d reaches in s3_reach.json: nothing to write", len(reach_ids))
        return 0, 0
    if all(g.endswith(".csv") for g in granules):
        return run_hydrocron(reach_ids, s3_reach)
    source = volume_path("source")

    def locate(uri: str) -> str:
        return uri if uri.startswith("s3://") or Path(uri).is_absolute() else str(source / uri)

    records = io.read_basin(granules, np.asarray(reach_ids, dtype=np.int64), locate, sword_version,
                            cycle_passes, s3=riversp.s3_client)
    if records.read == 0:
        raise ConfluenceError(f"all {len(granules)} granules failed (first: {next(iter(records.failed.items()))})",
                              volume_path("input", "s3_reach.json"))
    by_reach, by_node = Grouper(records.reach), Grouper(records.node)
    written = 0
    out_dir = volume_path("input", "swot")
    for rid in reach_ids:
        series = reach_series(rid, records.reach.take(by_reach.rows(rid)), records.node.take(by_node.rows(rid)),
                              known.get(rid, np.zeros(0, np.int64)), io.REACH_FIELDS, io.NODE_OUT_FIELDS,
                              schema.TILED_FROM_REACH)
        if series is None:
            bad = [g for g in s3_reach.get(str(rid), []) if g in records.failed]
            why = f" ({len(bad)} of them could not be read)" if bad else ""
            skip(log, "reach", str(rid), f"no observation in its {len(s3_reach.get(str(rid), []))} granules{why}: "
                                         f"{rid}_SWOT.nc not written")
            continue
        io.write_swot(out_dir / f"{rid}_SWOT.nc", series)
        written += 1
    log.info("basin: %d of %d reaches written from %d granules (%d failed) in %.1f s", written, len(reach_ids),
             len(granules), len(records.failed), time.perf_counter() - t0)
    return written, len(records.failed)


def run_hydrocron(reach_ids: list[int], s3_reach: dict[str, list[str]]) -> tuple[int, int]:
    """Write the basin's files from Hydrocron CSVs (paths in s3_reach.json, relative to the input volume).

    A row with a defect is dropped (a counted ``row`` skip); a CSV that cannot be used (malformed,
    wrong unit, only placeholders) is a ``file`` skip and its reach a ``reach`` skip, and the
    others go on; the job fails only when no reach could be written.
    """
    t0 = time.perf_counter()
    written, failed = 0, {}
    for rid in reach_ids:
        uris = s3_reach.get(str(rid), [])
        if not uris:
            skip(log, "reach", str(rid), f"no Hydrocron CSV in s3_reach.json: {rid}_SWOT.nc not written")
            continue
        path = Path(uris[-1]) if Path(uris[-1]).is_absolute() else volume_path("input", uris[-1])
        try:
            answer = hydrocron.read_answer(path, rid)
        except InputError as exc:
            reason = exc.reason.removeprefix(f"reach {rid}: ")
            skip(log, "file", source_name(path, rid), reason)
            skip(log, "reach", str(rid), f"{reason}: {rid}_SWOT.nc not written")
            failed[rid] = str(exc)
            continue
        log_dropped(log, answer)
        series = hydrocron.reach_series(answer)
        io.write_swot(volume_path("input", "swot", f"{rid}_SWOT.nc"), series)
        written += 1
    if failed and not written:
        raise ConfluenceError(f"no reach written: all {len(failed)} Hydrocron CSVs failed (first: "
                              f"{next(iter(failed.values()))})", volume_path("input", "s3_reach.json"))
    log.info("basin: %d of %d reaches written from Hydrocron CSVs (%d failed) in %.1f s", written,
             len(reach_ids), len(failed), time.perf_counter() - t0)
    return written, len(failed)


def _reach_nodes(reach_ids: list[int]) -> dict[int, Any]:
    """Nodes of each reach from reach_node.json (empty when the file is absent)."""
    path = volume_path("input", "reach_node.json")
    if not path.is_file():
        return {}
    wanted = set(reach_ids)
    return {int(r): np.asarray([int(n) for n in nodes], dtype=np.int64)
            for r, nodes in jsonio.read_json(path) if int(r) in wanted}
