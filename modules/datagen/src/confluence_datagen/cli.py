"""``confluence-datagen``: one continent's reach, node, granule and reach-set lists."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click
from confluence_core import riversp, sword
from confluence_core.cli import index_option, module_command
from confluence_core.errors import ConfluenceError
from confluence_core.ids import CONTINENTS
from confluence_core.index import entry, resolve_index
from confluence_core.volumes import volume_path

from . import io, sources

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
              help="CMR granule search endpoint (UMM JSON). [env CONFLUENCE_CMR_URL]")
@click.option("--cmr-page-size", envvar="CONFLUENCE_CMR_PAGE_SIZE", default=sources.CMR_PAGE_SIZE,
              show_default=True, type=click.IntRange(1, 2000),
              help="CMR granules per page. [env CONFLUENCE_CMR_PAGE_SIZE]")
def main(index: int | None, source: str | None, sword_version: int, collection: str,
         temporal_start: str | None, temporal_end: str | None, cmr_url: str, cmr_page_size: int) -> None:
    """List the RiverSP granules of entry INDEX of continent.json and write its datagen files.

    Writes reaches_, reach_node_, s3_list_, s3_reach_, cycle_passes_, passes_, basin_,
    metrosets_, hivdisets_ and sicsets_{c}.json to the input volume.  With
    input/sword/{c}_sword_v{N}.nc present the reach list, topology and facc come from
    SWORD; without it from the granules (and reach sets cannot grow).  reaches.json
    lists every observed reach of the continent, lakes and dams (types 3, 4) too:
    the flow-law steps skip non-river reaches themselves.
    """
    i = resolve_index(index)
    cont_path = volume_path("input", "continent.json")
    if cont_path.is_file():
        continent, digits = io.continent_digits(entry(cont_path, i), cont_path)
    else:
        if i >= len(CONTINENTS):
            raise ConfluenceError(f"no continent.json and index {i} is past the {len(CONTINENTS)} continents")
        log.info("%s not found: using the built-in continent table", cont_path)
        continent, digits = io.continent_digits(CONTINENTS[i], cont_path)
    log.info("continent %s (reach ids starting %s), SWORD v%d", continent, digits, sword_version)

    refs, locate, s3 = _list(source, continent, collection, temporal_start, temporal_end, cmr_url,
                             cmr_page_size)
    refs = [r for r in refs if sources.may_hold(r, continent)]
    sword_path = volume_path("input", "sword", sword.sword_name(continent, sword_version))
    remote = bool(refs) and refs[0].uri.startswith("s3://")
    # Remote Node granules are 4x the Reach ones: with SWORD their nodes come from SWORD and
    # their SWORD version from their Reach twin, so they are not downloaded here.
    read_nodes = not (remote and sword_path.is_file())
    scan = io.scan_granules(refs, locate, digits, sword_version, read_nodes, s3=s3)
    if not refs:
        log.warning("no granules for %s: writing empty lists", continent)
    net = io.build_network(scan, sword_path)
    outputs = io.continent_outputs(continent, scan, net, sword_version)
    io.write_outputs(continent, outputs)
    log.info("%s: %d granules read (%d skipped), %d reaches in %d basins, %d metrosets, %d hivdisets, "
             "%d sicsets", continent, len(refs), scan.skipped, len(outputs["reaches"]),
             len(outputs["basin"]), len(outputs["metrosets"]), len(outputs["hivdisets"]),
             len(outputs["sicsets"]))


def _list(source: str | None, continent: str, collection: str, start: str | None, end: str | None,
          cmr_url: str, page_size: int) -> tuple[list[sources.GranuleRef], Any, Any]:
    """Return (granule refs, URI -> readable path, S3 client or None) for ``source``."""
    if source and source.lower() == "cmr":
        refs = sources.list_cmr(collection, continent, start, end, url=cmr_url, page_size=page_size)
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

