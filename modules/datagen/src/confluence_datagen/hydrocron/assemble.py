"""The Hydrocron path of datagen: get and check each reach, then write the run's lists (and a stand-in SWORD/SoS).

1. :func:`collect` gets each reach's CSV (from a folder of saved answers or
   the live API through :class:`~.client.HydrocronClient`) and checks it
   (:func:`~.parse.check_response`); a row with a defect is dropped and
   counted (a ``row`` skip, :mod:`confluence_core.skips`), a file that cannot
   be used is a ``file`` skip and its reach a ``reach`` skip, and the other
   reaches go on; a file whose name cannot be tied to a reach id is a
   ``file`` skip (:func:`confluence_core.hydrocron.folder_answers`);
2. :func:`build` keeps each checked answer (verbatim, less the dropped rows) as
   ``input/hydrocron/{reach_id}.csv`` for the input step, writes a minimal
   SWORD and an SoS without model priors when the input volume has none
   (:mod:`.standin`), and returns the datagen JSON lists (contracts.md
   section 4) with each reach's ``s3_reach`` entry pointing at its saved CSV
   (``hydrocron/{reach_id}.csv``, relative to the input volume).

The topology is SWORD's for the reaches a given SWORD holds, else assumed from
the id order (:meth:`confluence_core.network.RiverNetwork.from_id_order`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from confluence_core import atomic, ncio, sos, sword
from confluence_core.errors import ConfluenceError, InputError
from confluence_core.hydrocron import folder_answers, log_dropped, source_name
from confluence_core.network import RiverNetwork
from confluence_core.skips import skip
from confluence_core.volumes import volume_path

from .. import io
from .client import DEFAULT_COLLECTION, HydrocronClient, HydrocronError
from .parse import ReachRecord, check_response
from .standin import reach_table, write_minimal_sos, write_minimal_sword

log = logging.getLogger(__name__)

#: Folder (in the input volume) where the checked responses are kept for the input step.
SAVED_DIR = "hydrocron"


def folder_reaches(root: Path) -> dict[int, Path]:
    """``{reach_id: path}`` of the ``*.csv`` files of ``root`` tied to a reach id by their name.

    ``81320300011.csv``, and also ``81320300011 (1).csv`` or ``Kobuk 81320300011.csv``
    (:func:`confluence_core.hydrocron.folder_answers`).
    """
    return folder_answers(root)[0]


def is_hydrocron_folder(root: Path) -> bool:
    """True when ``root`` holds Hydrocron answers: a ``*.csv`` tied to a reach, or CSVs and no granule zip."""
    if not root.is_dir():
        return False
    tied, untied = folder_answers(root)
    return bool(tied) or (bool(untied) and not any(root.glob("SWOT_L2_HR_RiverSP_*.zip")))


def report_untied(root: Path, digits: list[int]) -> int:
    """Say the ``*.csv`` of ``root`` not tied to a reach (``file`` skips); return how many.

    Every continent's job reads the folder: such a file is said by one job only, the
    one whose continent (first digits of its reach ids: ``digits``) holds the folder's
    lowest reach id (every job when none is tied).
    """
    tied, untied = folder_answers(root)
    if tied and min(tied) // 10**10 not in digits:
        return 0
    for name, reason in untied.items():
        skip(log, "file", name, reason)
    return len(untied)


def parse_reach_ids(text: str | None) -> list[int]:
    """Reach ids from ``--reach-ids``: ids separated by commas or spaces, or a file of such ids."""
    if not text:
        return []
    path = Path(text)
    items = path.read_text().replace(",", " ").split() if path.is_file() else text.replace(",", " ").split()
    out = []
    for item in items:
        if not (item.isdigit() and len(item) == 11):
            raise ConfluenceError(f"--reach-ids: {item!r} is not an 11-digit SWORD reach id")
        out.append(int(item))
    return sorted(set(out))


def collect(
    reach_ids: list[int],
    folder: Path | None,
    client: HydrocronClient | None,
    start: str,
    end: str,
    collection: str = DEFAULT_COLLECTION,
) -> tuple[dict[int, ReachRecord], dict[int, str]]:
    """Get and check every reach (from ``folder`` or ``client``); return (records, reasons of failures)."""
    records: dict[int, ReachRecord] = {}
    failed: dict[int, str] = {}
    saved = folder_reaches(folder) if folder is not None else {}
    for rid in reach_ids:
        try:
            if client is None:
                if rid not in saved:
                    raise HydrocronError(f"reach {rid}: no CSV of reach {rid} in the source folder", folder)
                where: str | Path = saved[rid]
                try:
                    text = saved[rid].read_text(encoding="utf-8-sig")
                except (OSError, UnicodeDecodeError) as exc:
                    raise HydrocronError(f"reach {rid}: unreadable ({exc})", saved[rid]) from None
            else:
                where = client.url
                text = client.reach_csv(rid, start, end, collection=collection)
            records[rid] = check_response(text, rid, where)
        except HydrocronError as exc:
            reason = exc.reason.removeprefix(f"reach {rid}: ")
            if client is None and rid in saved:
                skip(log, "file", source_name(saved[rid], rid), reason)
            skip(log, "reach", str(rid), reason)
            failed[rid] = str(exc)
            continue
        log_dropped(log, records[rid])
    return records, failed


#: SWOT science-orbit repeat period (20.86455 days, s): a pass recurs at the same phase each cycle.
REPEAT_S = 20.86455 * 86400.0


def pass_tracks(times: dict[int, np.ndarray], tolerance_s: float = 3600.0) -> dict[int, frozenset[int]]:
    """Per reach, the orbit tracks (passes) that saw it, when the answer has no ``pass_id``.

    Observation times modulo the 20.86-day repeat period fall in clusters, one
    per pass; phases (of all reaches together) closer than ``tolerance_s`` are
    one pass.  Track ids number the clusters; they are comparable between the
    reaches of one run only.
    """
    allp = np.sort(np.concatenate([np.mod(t, REPEAT_S) for t in times.values()] or [np.zeros(0)]))
    if allp.size == 0:
        return {r: frozenset() for r in times}
    starts = allp[np.concatenate([[True], np.diff(allp) > tolerance_s])]
    wrap = allp[-1] - REPEAT_S  # the last cluster may continue across the period's end

    def track(t: np.ndarray) -> frozenset[int]:
        p = np.mod(t, REPEAT_S)
        k = np.searchsorted(starts, p, side="right") - 1
        if starts.size > 1 and starts[0] - wrap <= tolerance_s:
            k = np.where(k == starts.size - 1, 0, k)
        return frozenset((k + 1).tolist())

    return {r: track(t) for r, t in times.items()}


def continent_outputs(continent: str, records: dict[int, ReachRecord], net: RiverNetwork, sword_version: int,
                      set_facc: np.ndarray) -> dict[str, Any]:
    """The datagen JSON documents of a Hydrocron run (contracts.md section 4)."""
    ids = net.reach_id.tolist()
    cps = set()
    for r in ids:
        c = records[r].columns
        if "cycle_id" in c and "pass_id" in c:
            for cy, pa in zip(c["cycle_id"], c["pass_id"], strict=True):
                if np.isfinite(cy) and np.isfinite(pa):
                    cps.add((int(cy), int(pa)))
    return {
        **io.reach_lists(continent, net, sword_version, set_facc),
        "reach_node": [[str(r), []] for r in ids],
        "s3_list": [f"{SAVED_DIR}/{r}.csv" for r in ids],
        "s3_reach": {str(r): [f"{SAVED_DIR}/{r}.csv"] for r in ids},
        **io.cycle_pass_lists(cps),
    }


def save_responses(records: dict[int, ReachRecord]) -> None:
    """Keep each checked response in ``input/hydrocron/{reach_id}.csv`` (atomically).

    The text is the answer verbatim, less the rows dropped for a defect (said once, here):
    the input step reads the same rows.
    """
    for rid, rec in records.items():
        atomic.write_text(volume_path("input", SAVED_DIR, f"{rid}.csv"), rec.kept_text or rec.text)


def build(continent: str, records: dict[int, ReachRecord], sword_version: int) -> dict[str, Any]:
    """Save the responses, write the minimal SWORD / SoS when absent, return the JSON documents."""
    save_responses(records)
    times = {r: rec.time for r, rec in records.items()}
    tracks = _pass_ids(records) or pass_tracks(times)
    net = RiverNetwork.from_id_order(records)
    net = replace(net, orbits=[tracks[int(r)] for r in net.reach_id])
    sword_path = volume_path("input", "sword", sword.sword_name(continent, sword_version))
    sos_path = volume_path("input", "sos", sos.sos_name(continent, sword_version))
    n_chan: dict[int, float] = {}
    if sword_path.is_file():
        net = _sword_topology(net, sword_path)
        n_chan = _sword_channels(sword_path)
    table = reach_table(records, net.reach_id, net, n_chan) if records else {}
    if not sword_path.is_file() and records:
        write_minimal_sword(sword_path, net, table)
        log.warning("no SWORD for %s: wrote a minimal one (%s): topology assumed from the id order, facc "
                    "unknown", continent, sword_path)
    if records and not sos_path.is_file():
        write_minimal_sos(sos_path, continent, sword_version, net.reach_id, table)
        log.warning("no SoS for %s: wrote one without model priors (%s); mean_q from the observed widths "
                    "(Moody & Troutman 2002), flagged bad_priors: a rough estimate (often off by a factor "
                    "2-5); give --sos or --prior-csv for a better one", continent, sos_path)
        for r, q, sd in zip(net.reach_id.tolist(), table["mean_q"].tolist(), table["mean_q_sd_ln"].tolist(),
                            strict=True):
            log.info("reach %s: mean-flow prior %.0f m3/s (sd of ln %.2f) from its widths", r, q, sd)
    return continent_outputs(continent, records, net, sword_version, _set_facc(net))


def _pass_ids(records: dict[int, ReachRecord]) -> dict[int, frozenset[int]] | None:
    """Per reach, the pass numbers in its answer (None unless every reach's answer has ``pass_id``)."""
    out = {}
    for r, rec in records.items():
        p = rec.columns.get("pass_id")
        if p is None or not np.isfinite(p).any():
            return None
        out[r] = frozenset(int(x) for x in p[np.isfinite(p)])
    return out


def _sword_topology(net: RiverNetwork, sword_path: Path) -> RiverNetwork:
    """SWORD's neighbours and facc for the reaches SWORD knows (the assumed ones for the others)."""
    try:
        table = sword.read_reaches(sword_path)
    except InputError as exc:
        log.warning("%s: topology assumed from the id order", exc)
        return net
    merged, known = net.with_sword(table)
    log.info("%s: topology of %d of %d reaches from SWORD", sword_path.name, known, net.n)
    return merged


def _sword_channels(sword_path: Path) -> dict[int, float]:
    """SWORD's modal channel count ``n_chan_mod`` per reach (empty when the file has none)."""
    try:
        with ncio.open_dataset(sword_path) as ds:
            grp = ncio.get_group(ds, "reaches")
            rid = ncio.read_int(grp, "reach_id") if grp is not None else None
            nch = ncio.read_float(grp, "n_chan_mod") if grp is not None else None
    except (InputError, OSError) as exc:
        log.warning("%s: no channel counts read (%s)", sword_path, exc)
        return {}
    if rid is None or nch is None:
        return {}
    return {int(r): float(c) for r, c in zip(rid.tolist(), nch.tolist(), strict=True) if np.isfinite(c) and c >= 1}


def _set_facc(net: RiverNetwork) -> np.ndarray:
    """facc for the reach sets: SWORD's when known, else 1.0 on every reach of an assumed chain.

    With facc unknown, consecutive reaches of one assumed chain are taken to
    have no tributary between them (the same assumption as the topology), so
    sets can grow along the chain; reaches seen on different passes still
    stay apart (MetroMan's same-orbit rule).
    """
    if np.isfinite(net.facc).any():
        return net.facc
    chained = ((net.up > 0) | (net.dn > 0)).any(axis=1)
    log.info("facc unknown: reach sets grow along the assumed chain (%d reaches)", int(chained.sum()))
    return np.where(chained, 1.0, np.nan)
