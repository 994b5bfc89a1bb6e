"""Put the run's data in place: the source volume, SWORD and SoS files, continent.json."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from confluence_core import atomic
from confluence_core.errors import ConfluenceError, InputError

from .runner import RunFolder

#: ``--source`` value that makes datagen read the live Hydrocron API.
HYDROCRON = "hydrocron"
#: The run's validation gauges, as the priors step reads them (relative to the input volume).
GAUGES_FILE = "gauges/validation_gauges.csv"
#: ft3/s -> m3/s.
CFS_TO_CMS = 0.3048**3


def _find(root: Path, pattern: str, exclude: str | None = None) -> list[Path]:
    return sorted(p for p in root.rglob(pattern) if p.is_file() and not (exclude and exclude in p.name))


def _files(spec: str | None, root: Path | None, pattern: str, exclude: str | None = None) -> list[Path]:
    if spec:
        path = Path(spec)
        return [path] if path.is_file() else _find(path, pattern, exclude)
    return _find(root, pattern, exclude) if root else []


def prepare_data(folder: RunFolder, source: str | None, sword: str | None, sos: str | None,
                 needs_data: bool = True) -> str:
    """Link the source volume and stage SWORD/SoS; with no source, make the demo world.

    Returns a line to tell the user what data the run uses ("" when nothing changed).
    """
    folder.write_continents()
    link = folder.volume("source")
    note = ""
    if source and source.lower() == HYDROCRON:
        folder.stage(_files(sword, None, "*_sword_v*.nc", exclude="SOS"), "sword")
        folder.stage(_files(sos, None, "*_SOS_priors.nc"), "sos")
        return "data: reach time series from the Hydrocron API (datagen fetches them)"
    if source and is_hydrocron_folder(Path(source)):
        root = Path(source)
        folder.link_source(root)
        swords = folder.stage(_files(sword, root, "*_sword_v*.nc", exclude="SOS"), "sword")
        soses = folder.stage(_files(sos, root, "*_SOS_priors.nc"), "sos")
        note = f"data: Hydrocron reach CSVs from {root}"
        if not swords:
            note += "; no SWORD given (datagen writes a minimal one: topology from the id order)"
        if not soses:
            note += "; no SoS given (datagen writes one: mean flow from observed widths, flagged)"
        return note
    if source:
        root = Path(source)
        folder.link_source(root)
        note = f"data: granules from {root}"
    elif link.exists():
        root = link.resolve()
    elif needs_data:
        try:
            from confluence_demo import generate
        except ImportError:
            raise ConfluenceError(
                "no --source given and the demo world package (confluence-demo) is not installed: "
                "run `make install` or give --source DIR"
            ) from None
        root = folder.root / "demo"
        if not (root / "manifest.json").exists():
            generate(root)
        folder.link_source(root)
        note = f"data: the built-in demo world ({root})"
    else:
        return ""
    swords = folder.stage(_files(sword, root, "*_sword_v*.nc", exclude="SOS"), "sword")
    soses = folder.stage(_files(sos, root, "*_SOS_priors.nc"), "sos")
    if source and not swords:
        note += "; no SWORD file found (reaches and topology come from the granules)"
    if source and not soses:
        note += "; no SoS file found (steps that need priors will say so)"
    return note


# ------------------------------------------------------------------------------------ Hydrocron runs

def is_hydrocron_folder(root: Path) -> bool:
    """True when ``root`` holds Hydrocron reach answers saved as ``{reach_id}.csv`` (11-digit names)."""
    return root.is_dir() and any(p.stem.isdigit() and len(p.stem) == 11 for p in root.glob("*.csv"))


def hydrocron_reaches(source: str | None, reach_ids: set[str] | None) -> list[str]:
    """The run's reach ids: ``--reach-ids``, else the ``{reach_id}.csv`` names of a source folder."""
    if reach_ids:
        bad = sorted(r for r in reach_ids if not (r.isdigit() and len(r) == 11))
        if bad:
            raise ConfluenceError(f"--reach-ids: {bad[0]!r} is not an 11-digit SWORD reach id")
        return sorted(reach_ids)
    if source and source.lower() != HYDROCRON and is_hydrocron_folder(Path(source)):
        return sorted(p.stem for p in Path(source).glob("*.csv") if p.stem.isdigit() and len(p.stem) == 11)
    return []


def run_environment(folder: RunFolder, source: str | None, reach_ids: set[str] | None, gauges: str | None,
                    gauge_reaches: tuple[str, ...], utc_offset: float | None) -> tuple[dict[str, str], str]:
    """Environment for every job of a Hydrocron / gauge run, and a note for the user.

    - ``--source hydrocron``: ``CONFLUENCE_SOURCE=hydrocron`` and ``CONFLUENCE_REACH_IDS`` (required);
    - ``--reach-ids`` with a folder: datagen keeps only these reaches;
    - ``--gauges FILE``: converted to the priors CSV (``input/gauges/validation_gauges.csv``) as
      validation gauges (CAL 0, never priors) and passed as ``CONFLUENCE_GAUGES``;
    - ``--utc-offset``: ``CONFLUENCE_GAUGE_UTC_OFFSET`` for validation.
    """
    env: dict[str, str] = {}
    notes: list[str] = []
    live = bool(source) and source.lower() == HYDROCRON
    ids = hydrocron_reaches(source, reach_ids)
    if live:
        if not ids:
            raise ConfluenceError("--source hydrocron needs --reach-ids (ids, or a file of ids)")
        env["CONFLUENCE_SOURCE"] = HYDROCRON
    if reach_ids:
        env["CONFLUENCE_REACH_IDS"] = ",".join(ids)
    if gauges:
        n_sites, n_rows, mapping = write_gauges(Path(gauges), folder.volume("input") / GAUGES_FILE,
                                                parse_gauge_reaches(gauge_reaches), ids)
        env["CONFLUENCE_GAUGES"] = GAUGES_FILE
        notes.append(f"gauges: {n_sites} validation gauge series ({n_rows} days) from {gauges} "
                     f"({mapping}), CAL 0: used for validation only")
    elif gauge_reaches:
        raise ConfluenceError("--gauge-reaches needs --gauges FILE")
    if utc_offset is not None:
        env["CONFLUENCE_GAUGE_UTC_OFFSET"] = f"{utc_offset:g}"
    return env, "; ".join(notes)


def parse_gauge_reaches(values: tuple[str, ...]) -> dict[str, list[str]]:
    """``SITE=REACH[,REACH...]`` items (repeatable or space separated) -> ``{site: [reach ids]}``."""
    out: dict[str, list[str]] = {}
    for item in (i for v in values for i in v.split()):
        site, sep, reaches = item.partition("=")
        ids = [r.strip() for r in reaches.split(",") if r.strip()]
        if not sep or not site.strip() or not ids or not all(r.isdigit() and len(r) == 11 for r in ids):
            raise ConfluenceError(f"--gauge-reaches {item!r} is not SITE=REACH_ID[,REACH_ID...] "
                                  "(11-digit reach ids)")
        out.setdefault(site.strip(), []).extend(ids)
    return out


def _column(names: list[str], *candidates: str) -> int | None:
    for c in candidates:
        if c in names:
            return names.index(c)
    return None


def write_gauges(src: Path, dest: Path, site_reaches: dict[str, list[str]], run_reaches: list[str]
                 ) -> tuple[int, int, str]:
    """Convert a gauge file to the priors CSV ``agency,site,reach_id,date,discharge_cms,cal`` (cal 0).

    Accepted inputs (header names, any order):

    - ``site,reach_id,date,discharge_cms`` (also ``discharge`` or ``q_cms`` for the flow, in m3/s;
      optional ``agency``, default ``GAUGE``);
    - a USGS daily-values table ``site_no,time_local,...`` with ``q_cms`` (m3/s) or
      ``discharge_cfs`` (ft3/s, converted): agency ``USGS``, reaches from ``--gauge-reaches
      SITE=REACH,...``, else every reach of the run (said in the note).

    A site on several reaches becomes one gauge per reach, named ``{site}_{reach_id}`` (the SoS holds
    one reach per gauge).  Returns (gauge series, rows, how sites were mapped).
    """
    try:
        with src.open(newline="", encoding="utf-8-sig") as fh:
            rows = [r for r in csv.reader(fh) if any(c.strip() for c in r)]
    except OSError as exc:
        raise InputError(f"gauge file unreadable ({exc})", src) from None
    if len(rows) < 2:
        raise InputError("gauge file has no data rows", src)
    names = [h.strip().lower() for h in rows[0]]
    i_site = _column(names, "site", "site_no")
    i_date = _column(names, "date", "time_local")
    i_reach = _column(names, "reach_id")
    i_q = _column(names, "discharge_cms", "discharge", "q_cms")
    i_cfs = _column(names, "discharge_cfs")
    i_agency = _column(names, "agency")
    if i_site is None or i_date is None or (i_q is None and i_cfs is None):
        raise InputError("gauge file needs columns site (or site_no), date (or time_local) and "
                         "discharge_cms / q_cms (m3/s) or discharge_cfs", src)
    usgs = "site_no" in names and i_reach is None
    if i_reach is None and not site_reaches and not run_reaches:
        raise InputError("gauge file has no reach_id column: give --gauge-reaches SITE=REACH_ID,...", src)
    out = [["agency", "site", "reach_id", "date", "discharge_cms", "cal"]]
    keys: set[tuple[str, str]] = set()
    defaulted: set[str] = set()
    for n, r in enumerate(rows[1:], start=2):
        if len(r) != len(names):
            raise InputError(f"line {n}: {len(r)} fields, the header has {len(names)}", src)
        site, date = r[i_site].strip(), r[i_date].strip()[:10]
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
            raise InputError(f"line {n}: date {r[i_date]!r} is not YYYY-MM-DD", src)
        text = r[i_q].strip() if i_q is not None else r[i_cfs].strip()
        try:
            q = float(text) if text and text.lower() not in ("na", "nan") else float("nan")
        except ValueError:
            raise InputError(f"line {n}: discharge {text!r} is not a number", src) from None
        if i_q is None:
            q *= CFS_TO_CMS
        agency = "USGS" if usgs else (r[i_agency].strip() if i_agency is not None else "GAUGE")
        if i_reach is not None:
            reaches = [r[i_reach].strip()]
        elif site in site_reaches:
            reaches = site_reaches[site]
        else:
            reaches = run_reaches
            defaulted.add(site)
        for rid in reaches:
            name = site if len(reaches) == 1 else f"{site}_{rid}"
            keys.add((agency, name))
            out.append([agency, name, rid, date, repr(q), "0"])
    unknown = sorted(set(site_reaches) - {r[i_site].strip() for r in rows[1:]})
    if unknown:
        raise InputError(f"--gauge-reaches names site {unknown[0]} that is not in the file", src)
    with atomic.atomic_path(dest) as tmp, tmp.open("w", newline="") as fh:
        csv.writer(fh).writerows(out)
    mapping = (f"sites {', '.join(sorted(defaulted))} mapped to every reach of the run "
               f"({len(run_reaches)}); choose with --gauge-reaches" if defaulted else "reaches as given")
    return len(keys), len(out) - 1, mapping
