"""``confluence-datagen``: one continent's reach, node, granule and reach-set lists."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import click
from confluence_core import riversp, sword
from confluence_core.cli import index_option, module_command
from confluence_core.errors import ConfluenceError
from confluence_core.ids import CONTINENTS
from confluence_core.index import continent_entry, entry, resolve_index
from confluence_core.volumes import volume_path
from confluence_core.workflow import fanout_list

from . import hydrocron, io, sources

log = logging.getLogger("confluence-datagen")


@module_command("confluence-datagen")
@index_option
@click.option("--source", envvar="CONFLUENCE_SOURCE", default=None,
              help="Where granules are: a folder (default: the source volume), s3://bucket/prefix, "
                   "or 'cmr' for a NASA CMR search. [env CONFLUENCE_SOURCE]")
@click.option("--sword-version", envvar="CONFLUENCE_SWORD_VERSION", default=sword.DEFAULT_VERSION,
              show_default=True, type=int,
              help="Keep granules built on this SWORD version. [env CONFLUENCE_SWORD_VERSION]")
@click.option("--collection", envvar="CONFLUENCE_CMR_COLLECTION", default=sources.DEFAULT_COLLECTION,
              show_default=True, help="CMR collection short name. [env CONFLUENCE_CMR_COLLECTION]")
@click.option("--temporal-start", envvar="CONFLUENCE_TEMPORAL_START", default=None,
              help="CMR: first time, ISO 8601 (e.g. 2024-01-01T00:00:00Z). [env CONFLUENCE_TEMPORAL_START]")
@click.option("--temporal-end", envvar="CONFLUENCE_TEMPORAL_END", default=None,
              help="CMR: last time, ISO 8601. [env CONFLUENCE_TEMPORAL_END]")
@click.option("--cmr-url", envvar="CONFLUENCE_CMR_URL", default=sources.DEFAULT_CMR_URL, show_default=True,
              help="CMR search root earthaccess queries (e.g. https://cmr.uat.earthdata.nasa.gov/search/; "
                   "a .../search/granules.umm_json endpoint is accepted too). [env CONFLUENCE_CMR_URL]")
@click.option("--reach-ids", envvar="CONFLUENCE_REACH_IDS", default=None,
              help="Hydrocron: reach ids (comma/space separated) or a file of ids; with a folder of "
                   "{reach_id}.csv responses, only these. [env CONFLUENCE_REACH_IDS]")
@click.option("--hydrocron-url", envvar="CONFLUENCE_HYDROCRON_URL", default=hydrocron.DEFAULT_URL,
              show_default=True, help="Hydrocron timeseries endpoint. [env CONFLUENCE_HYDROCRON_URL]")
def main(index: int | None, source: str | None, sword_version: int, collection: str,
         temporal_start: str | None, temporal_end: str | None, cmr_url: str,
         reach_ids: str | None, hydrocron_url: str) -> None:
    """List the RiverSP granules of entry INDEX of continent.json and write its datagen files.

    With --source hydrocron (and --reach-ids), or a source folder of Hydrocron
    {reach_id}.csv responses, the reaches' time series come from Hydrocron
    instead (see confluence_datagen.hydrocron): they are checked and kept in
    input/hydrocron/, and a minimal SWORD and SoS are written when none is given.

    Writes reaches_, reach_node_, s3_list_, s3_reach_, cycle_passes_, passes_, basin_,
    metrosets_, hivdisets_ and sicsets_{c}.json to the input volume.  With
    input/sword/{c}_sword_v{N}.nc present the reach list, topology and facc come from
    SWORD; without it from the granules (and reach sets cannot grow).  reaches.json
    lists every observed reach of the continent, lakes and dams (types 3, 4) too:
    the flow-law steps skip non-river reaches themselves.
    """
    i = resolve_index(index)
    cont_path = volume_path("input", fanout_list("datagen"))
    if cont_path.is_file():
        continent, digits = continent_entry(entry(cont_path, i), cont_path)
    else:
        if i >= len(CONTINENTS):
            raise ConfluenceError(f"no continent.json and index {i} is past the {len(CONTINENTS)} continents")
        log.info("%s not found: using the built-in continent table", cont_path)
        continent, digits = continent_entry(CONTINENTS[i], cont_path)
    log.info("continent %s (reach ids starting %s), SWORD v%d", continent, digits, sword_version)

    folder = None if source and source.lower() == "hydrocron" else (Path(source) if source
                                                                    else volume_path("source"))
    if folder is None or hydrocron.is_hydrocron_folder(folder):
        _hydrocron(continent, digits, folder, reach_ids, collection, temporal_start, temporal_end,
                   hydrocron_url, sword_version)
        return
    refs, locate, s3 = _list(source, continent, collection, temporal_start, temporal_end, cmr_url)
    refs = [r for r in refs if sources.may_hold(r, continent)]
    sword_path = volume_path("input", "sword", sword.sword_name(continent, sword_version))
    remote = bool(refs) and refs[0].uri.startswith("s3://")
    # Remote Node granules are 4x the Reach ones: with SWORD their nodes come from SWORD and
    # their SWORD version from their Reach twin, so they are not downloaded here.
    read_nodes = not (remote and sword_path.is_file())
    scan = io.scan_granules(refs, locate, digits, sword_version, read_nodes, s3=s3)
    if not refs:
        log.warning("no granules for %s: writing empty lists", continent)
    net, nodes = io.build_network(scan, sword_path)
    outputs = io.continent_outputs(continent, scan, net, nodes, sword_version)
    io.write_outputs(continent, outputs)
    log.info("%s: %d granules read (%d skipped), %d reaches in %d basins, %d metrosets, %d hivdisets, "
             "%d sicsets", continent, len(refs), scan.skipped, len(outputs["reaches"]),
             len(outputs["basin"]), len(outputs["metrosets"]), len(outputs["hivdisets"]),
             len(outputs["sicsets"]))


def _hydrocron(continent: str, digits: list[int], folder: Path | None, reach_ids: str | None, collection: str,
               start: str | None, end: str | None, url: str, sword_version: int) -> None:
    """The Hydrocron path: get, check and keep each reach's series; write the lists (and SWORD/SoS)."""
    wanted = hydrocron.parse_reach_ids(reach_ids)
    if folder is not None:
        hydrocron.report_untied(folder, digits)
    if folder is not None and not wanted:
        wanted = sorted(hydrocron.folder_reaches(folder))
    if folder is None and not wanted:
        raise ConfluenceError("--source hydrocron needs reach ids (--reach-ids or CONFLUENCE_REACH_IDS)")
    mine = [r for r in wanted if r // 10**10 in digits]
    client = None if folder is not None else hydrocron.HydrocronClient(url=url)
    end = end or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    records, failed = hydrocron.collect(mine, folder, client, start or hydrocron.DEFAULT_START, end, collection)
    if mine and not records:
        raise ConfluenceError(f"none of the {len(mine)} reaches could be used ({len(failed)} failed; first: "
                              f"{next(iter(failed.values()))})", folder or url)
    outputs = hydrocron.build(continent, records, sword_version)
    io.write_outputs(continent, outputs)
    log.info("%s: %d of %d Hydrocron reaches kept (%d failed), %d basins, %d metrosets, %d hivdisets",
             continent, len(records), len(mine), len(failed), len(outputs["basin"]), len(outputs["metrosets"]),
             len(outputs["hivdisets"]))


def _list(source: str | None, continent: str, collection: str, start: str | None, end: str | None,
          cmr_url: str) -> tuple[list[sources.GranuleRef], Any, Any]:
    """Return (granule refs, URI -> readable path, S3 client or None) for ``source``."""
    if source and source.lower() == "cmr":
        refs = sources.list_cmr(collection, continent, start, end, url=cmr_url)
        return refs, str, riversp.s3_client() if refs else None
    if source and source.startswith("s3://"):
        client = riversp.s3_client()
        refs = sources.list_s3(source, client)
        if not refs:
            raise ConfluenceError("no SWOT_L2_HR_RiverSP_*.zip granules under this prefix", source)
        return refs, str, client
    root = Path(source) if source else volume_path("source")
    refs = sources.list_local(root)
    if not refs:
        raise ConfluenceError("no SWOT_L2_HR_RiverSP_*.zip granules in the source folder", root)
    return refs, lambda uri: str(root / uri), None

