"""Read the granules and SWORD of one continent; write its datagen JSON files atomically."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from confluence_core import jsonio, riversp, sword, workflow
from confluence_core.errors import ConfluenceError, InputError
from confluence_core.ids import basin_of, cycle_pass_id
from confluence_core.network import RiverNetwork
from confluence_core.skips import skip
from confluence_core.sos import sos_name
from confluence_core.volumes import volume_path

from .sets import SET_RULES, build_sets
from .sources import GranuleRef

log = logging.getLogger(__name__)

REACH_COLUMNS = ["reach_id", "time", "rch_id_up", "rch_id_dn"]
NODE_COLUMNS = ["reach_id", "node_id"]
#: How the datagen row of the workflow table names a per-continent list: ``{name}_{continent}.json``.
PER_CONTINENT = "_{continent}.json"


def output_names() -> list[str]:
    """The lists this step writes, as its workflow-table row declares them (``reaches``, ``basin`` ...)."""
    return workflow.current_step("datagen").output_stems("input", PER_CONTINENT)


@dataclass
class Scan:
    """What the granules of a continent hold (after the SWORD-version and continent filters)."""

    granules: list[str] = field(default_factory=list)
    observed: set[int] = field(default_factory=set)
    reach_granules: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    nodes: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    up: dict[int, np.ndarray] = field(default_factory=dict)
    dn: dict[int, np.ndarray] = field(default_factory=dict)
    passes: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    cycle_passes: set[tuple[int, int]] = field(default_factory=set)
    tile_reaches: dict[tuple[int, int, str, str], list[int]] = field(default_factory=dict)
    skipped: int = 0


def scan_granules(
    refs: list[GranuleRef],
    locate: Callable[[str], str],
    digits: list[int],
    sword_version: int,
    read_nodes: bool,
    s3: Any = None,
) -> Scan:
    """Read the Reach (and, if ``read_nodes``, Node) granules; keep this continent's reaches.

    Parameters
    ----------
    refs : list of GranuleRef
        Granules that may hold the continent's reaches.
    locate : callable
        Maps a ref's URI to what :func:`confluence_core.riversp.read_granule` opens.
    digits : list of int
        First digits of this continent's reach ids.
    sword_version : int
        Granules whose ``.shp.xml`` names another SWORD version are skipped.  A granule
        without ``.shp.xml`` (the simulated PGA2 ones) is kept.  A Node granule that is
        not read is kept when its Reach twin (same cycle, pass, token and start) was.
    read_nodes : bool
        Read Node granules for their node ids (needed without SWORD).  A Node granule
        whose Reach twin could not be read is read all the same, so that a bad
        granule does not take its pass away from the reaches.
    s3 : boto3 S3 client, optional

    A granule that cannot be read, or is built on another SWORD version, is a
    ``granule`` skip (:mod:`confluence_core.skips`) and the others go on.
    """
    scan = Scan()
    kept_tiles: set[tuple[int, int, str, str]] = set()
    failed_tiles: set[tuple[int, int, str, str]] = set()
    digit_set = np.asarray(sorted(digits), dtype=np.int64)
    no_xml = 0
    reach_refs = [r for r in refs if r.name.feature == "Reach"]
    node_refs = [r for r in refs if r.name.feature == "Node"]
    for ref in reach_refs + node_refs:
        is_reach = ref.name.feature == "Reach"
        if not is_reach and not read_nodes and ref.name.tile_key not in failed_tiles:
            if ref.name.tile_key in kept_tiles:
                scan.granules.append(ref.uri)
                for tile_rid in scan.tile_reaches.get(ref.name.tile_key, []):
                    scan.reach_granules[tile_rid].append(ref.uri)
            continue
        try:
            data, meta = riversp.read_granule(locate(ref.uri), REACH_COLUMNS if is_reach else NODE_COLUMNS, s3=s3)
        except InputError as exc:
            skip(log, "granule", ref.name.name + ".zip", exc.reason)
            scan.skipped += 1
            if is_reach:
                failed_tiles.add(ref.name.tile_key)
            continue
        if meta.sword_version is None:
            no_xml += 1
        elif meta.sword_version != sword_version:
            skip(log, "granule", ref.name.name + ".zip",
                 f"built on SWORD v{meta.sword_version} ({meta.sword_file}), not v{sword_version}")
            scan.skipped += 1
            continue
        rid = data["reach_id"]
        mine = np.isin(rid // 10**10, digit_set)
        if is_reach:
            valid = mine & np.isfinite(data["time"])
            _add_topology(scan, rid[mine], data["rch_id_up"][mine], data["rch_id_dn"][mine])
            reaches = np.unique(rid[valid])
            scan.observed.update(reaches.tolist())
        else:
            reaches = np.unique(rid[mine])
        if reaches.size == 0:
            continue
        if not is_reach:
            nid = data["node_id"][mine]
            order = np.argsort(rid[mine], kind="stable")
            bounds = np.searchsorted(rid[mine][order], reaches)
            for r, nodes in zip(reaches, np.split(nid[order], bounds[1:]), strict=True):
                scan.nodes[int(r)].update(int(n) for n in nodes if n > 0)
        scan.granules.append(ref.uri)
        for r in reaches.tolist():
            scan.reach_granules[r].append(ref.uri)
            scan.passes[r].add(ref.name.pass_number)
        scan.cycle_passes.add((ref.name.cycle, ref.name.pass_number))
        if is_reach:
            kept_tiles.add(ref.name.tile_key)
            scan.tile_reaches.setdefault(ref.name.tile_key, []).extend(reaches.tolist())
    if no_xml:
        log.info("%d granules have no .shp.xml (SWORD version unknown): kept", no_xml)
    return scan


def _add_topology(scan: Scan, rid: np.ndarray, up: np.ndarray, dn: np.ndarray) -> None:
    up_ids, dn_ids = riversp.split_ids(up), riversp.split_ids(dn)
    for i, r in enumerate(rid.tolist()):
        scan.up.setdefault(r, up_ids[i])
        scan.dn.setdefault(r, dn_ids[i])


def build_network(scan: Scan, sword_path: Path) -> tuple[RiverNetwork, dict[int, list[int]]]:
    """Decide the run's reaches and their topology, from SWORD when present, else the granules.

    Returns the network (orbits: SWORD's ``swot_orbits``, else the passes that saw each reach)
    and each reach's node ids (SWORD's and the granules').
    """
    seen = np.asarray(sorted(scan.observed), dtype=np.int64)
    if seen.size == 0:
        return RiverNetwork.empty(), {}
    if not sword_path.is_file():
        log.warning("no SWORD %s: reach list and topology from the granules; no facc, so reach sets "
                    "cannot grow (metrosets empty, HiVDI/SIC4DVar sets single reaches)", sword_path)
        up = np.asarray([scan.up.get(int(r), np.zeros(4, np.int64)) for r in seen], dtype=np.int64)
        dn = np.asarray([scan.dn.get(int(r), np.zeros(4, np.int64)) for r in seen], dtype=np.int64)
        nan = np.full(seen.size, np.nan)
        net = RiverNetwork(seen, up.reshape(-1, 4), dn.reshape(-1, 4), nan, nan.copy(),
                           [frozenset(scan.passes[int(r)]) for r in seen], "granules")
        return net, {int(r): sorted(scan.nodes.get(int(r), ())) for r in seen}
    table = sword.read_reaches(sword_path)
    known = np.isin(seen, table.reach_id)
    for r in seen[~known].tolist():
        skip(log, "reach", str(r), f"seen in the granules but not in {sword_path.name}")
    seen = seen[known]
    net = RiverNetwork.from_sword(table, seen, source=sword_path.name)
    if table.swot_orbits is None:
        net = replace(net, orbits=[frozenset(scan.passes[int(r)]) for r in seen])
    nodes_tab = sword.read_nodes(sword_path)
    in_run = np.isin(nodes_tab["reach_id"], seen)
    n_rid, n_id = nodes_tab["reach_id"][in_run], nodes_tab["node_id"][in_run]
    nodes: dict[int, list[int]] = {int(r): sorted(scan.nodes.get(int(r), ())) for r in seen}
    order = np.lexsort((n_id, n_rid))
    uniq, start = np.unique(n_rid[order], return_index=True)
    for r, ids in zip(uniq.tolist(), np.split(n_id[order], start[1:]), strict=True):
        nodes[r] = sorted(set(nodes[r]).union(ids.tolist()))
    return net, nodes


def reach_lists(continent: str, net: RiverNetwork, sword_version: int,
                set_facc: np.ndarray | None = None) -> dict[str, Any]:
    """The lists every source writes alike: ``reaches``, ``basin`` and the reach sets (contracts section 4).

    ``set_facc`` replaces ``net.facc`` for growing the sets (the Hydrocron path's assumed chains).
    """
    sword_file = sword.sword_name(continent, sword_version)
    sos_file = sos_name(continent, sword_version)

    def entry(r: int) -> dict[str, Any]:
        return {"reach_id": int(r), "sword": sword_file, "swot": f"{r}_SWOT.nc", "sos": sos_file}

    basins: dict[int, list[int]] = defaultdict(list)
    for r in net.reach_id.tolist():
        basins[basin_of(r)].append(r)
    out: dict[str, Any] = {
        "reaches": [entry(int(r)) for r in net.reach_id],
        "basin": [
            {"basin_id": b, "reach_id": [str(r) for r in rs], "sword": sword_file, "sos": sos_file,
             "swot": [f"{r}_SWOT.nc" for r in rs]}
            for b, rs in sorted(basins.items())
        ],
    }
    facc = net.facc if set_facc is None else set_facc
    for name, rule in SET_RULES.items():
        sets = build_sets(net.reach_id, net.up, net.dn, facc, net.orbits, rule)
        out[name] = [[entry(r) for r in s] for s in sets]
    return out


def cycle_pass_lists(cycle_passes: Iterable[tuple[int, int]]) -> dict[str, Any]:
    """``cycle_passes`` (``{"010_331": 10331}``) and ``passes`` (``{"10331": ["010", "331"]}``), sorted."""
    cps = sorted(set(cycle_passes))
    return {
        "cycle_passes": {f"{c:03d}_{p:03d}": cycle_pass_id(c, p) for c, p in cps},
        "passes": {str(cycle_pass_id(c, p)): [f"{c:03d}", f"{p:03d}"] for c, p in cps},
    }


def continent_outputs(
    continent: str, scan: Scan, net: RiverNetwork, nodes: dict[int, list[int]], sword_version: int
) -> dict[str, Any]:
    """Return every datagen JSON document of a continent, keyed by file stem (contracts section 4)."""
    in_run = set(net.reach_id.tolist())
    return {
        **reach_lists(continent, net, sword_version),
        "reach_node": [[str(r), [str(n) for n in nodes.get(int(r), [])]] for r in net.reach_id.tolist()],
        "s3_list": sorted(set(scan.granules)),
        "s3_reach": {str(r): sorted(set(scan.reach_granules[r])) for r in sorted(in_run)},
        **cycle_pass_lists(scan.cycle_passes),
    }


def write_outputs(continent: str, outputs: dict[str, Any]) -> list[Path]:
    """Write ``{name}_{continent}.json`` for every list the workflow row declares (each file atomically).

    Raises
    ------
    ConfluenceError
        When the row declares a list this code does not build (the table and the code disagree).
    """
    names = output_names()
    missing = [n for n in names if n not in outputs]
    if missing:
        raise ConfluenceError(f"the workflow table declares datagen lists this datagen does not build: "
                              f"{', '.join(missing)}")
    return [jsonio.write_json(volume_path("input", f"{name}{PER_CONTINENT.format(continent=continent)}"),
                              outputs[name]) for name in names]
