"""Put the run's data in place: the source volume, SWORD and SoS files, continent.json."""

from __future__ import annotations

import csv
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from confluence_core import atomic, hydrocron, tables
from confluence_core.branch import CONSTRAINED
from confluence_core.branch import DEFAULT as DEFAULT_BRANCH
from confluence_core.errors import ConfluenceError, InputError
from confluence_core.jsonio import read_json, write_json

from .runner import RunFolder

#: ``--source`` value that makes datagen read the live Hydrocron API.
HYDROCRON = "hydrocron"
#: The run's ``--gauges``, as the priors step reads them (relative to the input volume).
GAUGES_FILE = "gauges/gauges.csv"
#: Folder (in the input volume) of the run's prior CSV, as the priors step reads it (``CONFLUENCE_PRIOR_CSV``).
PRIOR_CSV_DIR = "priors"
#: ``--sos`` value that downloads the published SoS priors from PO.DAAC (earthaccess).
PODAAC = "podaac"
#: A SoS priors file name, this project's or PO.DAAC's (``na_sword_v16_SOS_priors_unconstrained_....nc``,
#: ``na_sword_v15_SOS_unconstrained_0001_..._priors.nc``): continent and SWORD version.
_SOS_NAME = re.compile(r"^([a-z]{2})_sword_v(\d+)_SOS_.*priors.*\.nc$")
#: ft3/s -> m3/s.
CFS_TO_CMS = 0.3048**3


def _find(root: Path, pattern: str, exclude: str | None = None) -> list[Path]:
    return sorted(p for p in root.rglob(pattern) if p.is_file() and not (exclude and exclude in p.name))


def _files(spec: str | None, root: Path | None, pattern: str, exclude: str | None = None) -> list[Path]:
    if spec:
        path = Path(spec)
        return [path] if path.is_file() else _find(path, pattern, exclude)
    return _find(root, pattern, exclude) if root else []


def sos_cache_dir() -> Path:
    """Where downloaded SoS files are kept between runs: ``$CONFLUENCE_CACHE/sos`` or ``~/.cache/confluence/sos``."""
    root = os.environ.get("CONFLUENCE_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "confluence") / "sos"


def stage_sos(folder: RunFolder, files: list[Path]) -> list[Path]:
    """Copy SoS priors files into ``input/sos/`` under the name the workflow reads
    (``{continent}_sword_v{N}_SOS_priors.nc``), checking each against the published SoS layout."""
    from confluence_core.sos_podaac import check_layout

    dest_dir = folder.volume("input") / "sos"
    dest_dir.mkdir(parents=True, exist_ok=True)
    staged = []
    for f in files:
        problems = check_layout(f)
        if problems:
            raise InputError(f"not a SoS priors file in the published layout: {problems[0]}"
                             + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""), f)
        m = _SOS_NAME.match(f.name)
        dest = dest_dir / (f"{m.group(1)}_sword_v{m.group(2)}_SOS_priors.nc" if m else f.name)
        if not dest.exists():
            with atomic.atomic_path(dest) as tmp:
                shutil.copyfile(f, tmp)
        staged.append(dest)
    return staged


def fetch_podaac_sos(folder: RunFolder, reach_ids: list[str], branch: str) -> list[Path]:
    """``--sos podaac``: the published SoS priors of every continent of ``reach_ids``, through the cache.

    Records each download (collection, version, granule, checksum, URL) in ``run.json`` (key ``sos``).
    """
    from confluence_core.ids import continent_of
    from confluence_core.sos_podaac import fetch_priors

    if not reach_ids:
        raise ConfluenceError("--sos podaac needs the run's reaches (a Hydrocron source folder or --reach-ids) "
                              "to know which continents to download; for a granule source download the SoS "
                              "once and give --sos FILE")
    continents = sorted({continent_of(r) for r in reach_ids})
    downloads = [fetch_priors(c, sos_cache_dir(), branch=branch) for c in continents]
    record_path = folder.root / "run.json"
    record = read_json(record_path) if record_path.exists() else {}
    record["sos"] = [d.record() for d in downloads]
    write_json(record_path, record, indent=1)
    return stage_sos(folder, [d.path for d in downloads])


def prepare_data(folder: RunFolder, source: str | None, sword: str | None, sos: str | None,
                 needs_data: bool = True, reach_ids: set[str] | None = None, sos_branch: str = "unconstrained",
                 demo_dir: Path | None = None) -> str:
    """Link the source volume and stage SWORD/SoS; with no source, make the demo world.

    The demo world is made in ``demo_dir`` (default ``{run folder}/demo``) unless it is there: both
    branches of a run read the one world in the run folder (``--branch``).

    Returns a line to tell the user what data the run uses ("" when nothing changed).
    """
    folder.write_continents()
    link = folder.volume("source")
    note = ""
    podaac: list[Path] = []
    if sos and sos.lower() == PODAAC:
        podaac = fetch_podaac_sos(folder, hydrocron_reaches(source, reach_ids), sos_branch)
        sos = None
    elif sos and not Path(sos).exists():
        raise InputError("--sos: no such file or folder (give a SoS priors file, a folder of them, or 'podaac')", sos)
    if source and source.lower() == HYDROCRON:
        folder.stage(_files(sword, None, "*_sword_v*.nc", exclude="SOS"), "sword")
        podaac += stage_sos(folder, _files(sos, None, "*_SOS_priors*.nc"))
        return "data: reach time series from the Hydrocron API (datagen fetches them)" + _sos_note(podaac)
    if source and is_hydrocron_folder(Path(source)):
        root = Path(source)
        folder.link_source(root)
        swords = folder.stage(_files(sword, root, "*_sword_v*.nc", exclude="SOS"), "sword")
        soses = podaac + stage_sos(folder, _files(sos, root, "*_SOS_priors*.nc"))
        note = f"data: Hydrocron reach CSVs from {root}" + _sos_note(podaac)
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
        root = demo_dir or folder.root / "demo"
        if not (root / "manifest.json").exists():
            generate(root)
        folder.link_source(root)
        note = f"data: the built-in demo world ({root})"
    else:
        return ""
    swords = folder.stage(_files(sword, root, "*_sword_v*.nc", exclude="SOS"), "sword")
    soses = podaac + stage_sos(folder, _files(sos, root, "*_SOS_priors*.nc"))
    note += _sos_note(podaac)
    if source and not swords:
        note += "; no SWORD file found (reaches and topology come from the granules)"
    if source and not soses:
        note += "; no SoS file found (steps that need priors will say so)"
    return note


def _sos_note(podaac: list[Path]) -> str:
    return f"; SoS priors from PO.DAAC: {', '.join(p.name for p in podaac)} (run.json: sos)" if podaac else ""


# ------------------------------------------------------------------------------------ Hydrocron runs

def is_hydrocron_folder(root: Path) -> bool:
    """True when ``root`` holds Hydrocron reach answers: CSVs whose names hold one 11-digit reach id
    (``{reach_id}.csv``, ``{reach_id} copy.csv``, ...: :func:`confluence_core.hydrocron.reach_id_of_name`)."""
    return bool(hydrocron.folder_answers(root)[0]) if root.is_dir() else False


def hydrocron_reaches(source: str | None, reach_ids: set[str] | None) -> list[str]:
    """The run's reach ids: ``--reach-ids``, else those the CSV names of a source folder stand for."""
    if reach_ids:
        bad = sorted(r for r in reach_ids if not (r.isdigit() and len(r) == 11))
        if bad:
            raise ConfluenceError(f"--reach-ids: {bad[0]!r} is not an 11-digit SWORD reach id")
        return sorted(reach_ids)
    if source and source.lower() != HYDROCRON and is_hydrocron_folder(Path(source)):
        return sorted(str(r) for r in hydrocron.folder_answers(Path(source))[0])
    return []


def run_environment(folder: RunFolder, source: str | None, reach_ids: set[str] | None, gauges: str | None,
                    gauge_reaches: tuple[str, ...], utc_offset: float | None,
                    prior_csv: str | None = None, branch: str = DEFAULT_BRANCH) -> tuple[dict[str, str], str]:
    """Environment for every job of a Hydrocron / gauge run, and a note for the user.

    - ``--source hydrocron``: ``CONFLUENCE_SOURCE=hydrocron`` and ``CONFLUENCE_REACH_IDS`` (required);
    - ``--reach-ids`` with a folder: datagen keeps only these reaches;
    - ``--gauges FILE``: converted to the priors CSV (``input/gauges/gauges.csv``) with each gauge's CAL
      (the file's ``cal`` column; none: CAL 0, validation only) and passed as ``CONFLUENCE_GAUGES``;
      CAL 1 gauges are priors in the constrained ``branch`` only;
    - ``--utc-offset``: ``CONFLUENCE_GAUGE_UTC_OFFSET`` for validation;
    - ``--prior-csv FILE``: the user's ``reach_id,mean_q[,sd_ln]`` copied as is to
      ``input/priors/{name}`` and passed as ``CONFLUENCE_PRIOR_CSV`` (the priors step checks it and
      writes it into the SoS); never the ``--gauges`` file.
    """
    env: dict[str, str] = {}
    notes: list[str] = []
    live = source is not None and source.lower() == HYDROCRON
    ids = hydrocron_reaches(source, reach_ids)
    if live:
        if not ids:
            raise ConfluenceError("--source hydrocron needs --reach-ids (ids, or a file of ids)")
        env["CONFLUENCE_SOURCE"] = HYDROCRON
    if reach_ids:
        env["CONFLUENCE_REACH_IDS"] = ",".join(ids)
    if gauges:
        n_sites, n_rows, mapping, n_cal = write_gauges(Path(gauges), folder.volume("input") / GAUGES_FILE,
                                                       parse_gauge_reaches(gauge_reaches), ids)
        env["CONFLUENCE_GAUGES"] = GAUGES_FILE
        use = ("priors of this constrained branch" if branch == CONSTRAINED
               else "not priors in the unconstrained branch (--branch constrained uses them)")
        cal_note = (f"{n_cal} CAL 1 (calibration: {use}, not validated against), {n_sites - n_cal} CAL 0 "
                    "(validation only)" if n_cal else "all CAL 0: validation only")
        notes.append(f"gauges: {n_sites} gauge series ({n_rows} days) from {gauges} ({mapping}); {cal_note}")
    elif gauge_reaches:
        raise ConfluenceError("--gauge-reaches needs --gauges FILE")
    if utc_offset is not None:
        env["CONFLUENCE_GAUGE_UTC_OFFSET"] = f"{utc_offset:g}"
    if prior_csv:
        src = Path(prior_csv)
        if gauges and src.resolve() == Path(gauges).resolve():
            raise ConfluenceError("--prior-csv is the --gauges file: validation gauges are never priors", src)
        rel = f"{PRIOR_CSV_DIR}/{src.name}"
        try:
            atomic.write_bytes(folder.volume("input") / rel, src.read_bytes())
        except OSError as exc:
            raise InputError(f"cannot read the prior CSV ({exc.strerror or exc})", src) from None
        env["CONFLUENCE_PRIOR_CSV"] = rel
        notes.append(f"prior CSV: mean flows of the reaches it lists from {src} (the priors step writes them "
                     "into the SoS)")
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


def _first_bad(*checks: np.ndarray) -> tuple[int, int] | None:
    """(row, check) of the first row failing any check (``True`` = bad), checks in the order given; None if none."""
    hits = [(int(np.flatnonzero(bad)[0]), k) for k, bad in enumerate(checks) if bad.any()]
    return min(hits) if hits else None


def write_gauges(src: Path, dest: Path, site_reaches: dict[str, list[str]], run_reaches: list[str]
                 ) -> tuple[int, int, str, int]:
    """Convert a gauge file to the priors CSV ``agency,site,reach_id,date,discharge_cms,cal``.

    Accepted inputs (header names, any order), read with pandas:

    - ``site,reach_id,date,discharge_cms`` (also ``discharge`` or ``q_cms`` for the flow, in m3/s;
      optional ``agency``, default ``GAUGE``);
    - a USGS daily-values table ``site_no,time_local,...`` with ``q_cms`` (m3/s) or
      ``discharge_cfs`` (ft3/s, converted): agency ``USGS``, reaches from ``--gauge-reaches
      SITE=REACH,...``, else every reach of the run (said in the note).

    Optional column ``cal`` (also ``CAL``): 1 a calibration gauge (a prior in the constrained branch
    only), 0 a validation gauge; one value per site, on every row.  Without the column every gauge
    is CAL 0 (validation only: a file never constrains priors unless it says so).

    A site on several reaches becomes one gauge per reach, named ``{site}_{reach_id}`` (the SoS holds
    one reach per gauge).  Returns (gauge series, rows, how sites were mapped, CAL 1 series).
    """
    try:
        table = tables.read_text_table(src)
    except (OSError, UnicodeDecodeError, csv.Error, pd.errors.ParserError) as exc:
        raise InputError(f"gauge file unreadable ({exc})", src) from None
    if table is None or table.rows.empty:
        raise InputError("gauge file has no data rows", src)
    names = [h.lower() for h in table.header]
    i_site = table.column("site", "site_no")
    i_date = table.column("date", "time_local")
    i_reach = table.column("reach_id")
    i_q = table.column("discharge_cms", "discharge", "q_cms")
    i_cfs = table.column("discharge_cfs")
    i_agency = table.column("agency")
    i_cal = table.column("cal")
    if i_site is None or i_date is None or (i_q is None and i_cfs is None):
        raise InputError("gauge file needs columns site (or site_no), date (or time_local) and "
                         "discharge_cms / q_cms (m3/s) or discharge_cfs", src)
    usgs = "site_no" in names and i_reach is None
    if i_reach is None and not site_reaches and not run_reaches:
        raise InputError("gauge file has no reach_id column: give --gauge-reaches SITE=REACH_ID,...", src)
    rows = table.rows
    site, date = rows[i_site], rows[i_date].str[:10]
    text = rows[i_q if i_q is not None else i_cfs]
    absent = (text == "") | text.str.lower().isin(("na", "nan"))
    q = pd.to_numeric(text.where(~absent, "nan"), errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    reach_ok = (rows[i_reach].str.fullmatch(r"[1-9]\d{10}").to_numpy() if i_reach is not None
                else np.ones(len(rows), dtype=bool))
    with np.errstate(invalid="ignore"):
        negative = q < 0
    cal = rows[i_cal].str.strip() if i_cal is not None else pd.Series("0", index=rows.index)
    several_cal = cal.groupby(site).transform("nunique").to_numpy() > 1
    bad = _first_bad(table.n_fields != len(names), ~date.str.fullmatch(r"\d{4}-\d{2}-\d{2}").to_numpy(),
                     np.isnan(q) & ~absent.to_numpy(), negative, ~reach_ok, ~cal.isin(("0", "1")).to_numpy(),
                     several_cal)
    if bad is not None:
        i, check = bad
        line = i + 2
        reason = [f"{table.n_fields[i]} fields, the header has {len(names)}",
                  f"date {rows[i_date].iloc[i]!r} is not YYYY-MM-DD",
                  f"discharge {text.iloc[i]!r} is not a number",
                  f"discharge {text.iloc[i]!r} is negative (a gauge flow must be >= 0; leave the value empty "
                  "where it is unknown)",
                  f"reach_id {rows[i_reach].iloc[i] if i_reach is not None else ''!r} is not an 11-digit "
                  "SWORD reach id",
                  f"cal {cal.iloc[i]!r} is not 0 (validation gauge) or 1 (calibration gauge)",
                  f"site {site.iloc[i]} has both cal 0 and cal 1: give one value per site"][check]
        raise InputError(f"line {line}: {reason}", src)
    if i_q is None:
        q = q * CFS_TO_CMS
    agency = "USGS" if usgs else (rows[i_agency] if i_agency is not None else "GAUGE")
    if i_reach is not None:
        reaches = rows[i_reach].map(lambda r: [r])
    else:
        reaches = site.map(lambda s: site_reaches.get(s, run_reaches))
    out = pd.DataFrame({"agency": agency, "site": site, "reach_id": reaches, "date": date,
                        "discharge_cms": [repr(float(x)) for x in q], "cal": cal}).explode("reach_id")
    out = out[out["reach_id"].notna()]  # a site mapped to no reach (none in the run) gives no row
    several = reaches.str.len().reindex(out.index) != 1
    out["site"] = out["site"].where(~several, out["site"] + "_" + out["reach_id"])
    unknown = sorted(set(site_reaches) - set(site))
    if unknown:
        raise InputError(f"--gauge-reaches names site {unknown[0]} that is not in the file", src)
    with atomic.atomic_path(dest) as tmp:
        out.to_csv(tmp, index=False, lineterminator="\r\n")
    defaulted = sorted(set(site[~site.isin(site_reaches)])) if i_reach is None else []
    mapping = (f"sites {', '.join(defaulted)} mapped to every reach of the run "
               f"({len(run_reaches)}); choose with --gauge-reaches" if defaulted else "reaches as given")
    series = out[["agency", "site", "cal"]].drop_duplicates(["agency", "site"])
    return len(series), len(out), mapping, int((series["cal"] == "1").sum())
