"""Reach time series from PO.DAAC Hydrocron (live API or a folder of saved responses).

Hydrocron (https://podaac.github.io/hydrocron/timeseries.html) serves the SWOT
L2_HR_RiverSP reach records of one reach as CSV::

    GET {url}?feature=Reach&feature_id={reach_id}&start_time=...Z&end_time=...Z
        &output=csv&fields=reach_id,time_str,...&collection_name=SWOT_L2_HR_RiverSP_2.0

The body is either the raw CSV or a JSON object ``{"status", "hits", "results":
{"csv": "..."}}``; an error is a 4xx/5xx status with a JSON ``error`` (or
``message``) text.  Hydrocron answers 400 both for a bad parameter and for a
feature with no data in the time range (its documented behaviour); 413 when
the answer would pass 6 MB; 429/5xx are transient (retried here with
exponential backoff, honouring ``Retry-After``).  Assumed, not documented:
the 400 body carries the reason in ``error``; when it does not, the raw body
(first 200 characters) is reported.

For the workflow this module (datagen step, ``--source hydrocron`` or a
folder of ``{reach_id}.csv`` responses):

1. gets each reach's CSV (one request per reach, at most one request every
   ``min_interval`` seconds), checks it (header, reach id, at least one row
   with a real ``time_str``) and saves it verbatim as
   ``input/hydrocron/{reach_id}.csv`` for the input step; a reach that fails
   is logged with its reason and left out, the others go on;
2. writes the datagen JSON lists (contracts.md section 4) with each reach's
   ``s3_reach`` entry pointing at its saved CSV (``hydrocron/{reach_id}.csv``,
   relative to the input volume);
3. when the input volume holds no SWORD / SoS for the continent, writes a
   minimal SWORD and an SoS without model priors (see :func:`network` and
   :func:`mean_flow_prior` for what is assumed).
"""

from __future__ import annotations

import csv
import datetime as dt
import io as _io
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from confluence_core import atomic, ncio, sos, sword
from confluence_core.errors import ConfluenceError, InputError
from confluence_core.fill import FLOAT_FILL, STR_FILL
from confluence_core.volumes import volume_path

from .sets import SET_RULES, build_sets

log = logging.getLogger(__name__)

DEFAULT_URL = "https://soto.podaac.earthdatacloud.nasa.gov/hydrocron/v1/timeseries"
DEFAULT_COLLECTION = "SWOT_L2_HR_RiverSP_2.0"
DEFAULT_START = "2023-01-01T00:00:00Z"
#: Reach fields asked for (RiverSP attribute names plus Hydrocron's cycle_id / pass_id).
FIELDS = (
    "reach_id,time,time_str,cycle_id,pass_id,wse,wse_u,width,width_u,slope,slope_u,slope2,slope2_u,"
    "d_x_area,d_x_area_u,area_total,reach_q,reach_q_b,dark_frac,ice_clim_f,ice_dyn_f,partial_f,"
    "n_good_nod,obs_frac_n,xovr_cal_q,xtrk_dist,p_width,p_length,p_lat,p_lon"
)
#: Folder (in the input volume) where the checked responses are kept for the input step.
SAVED_DIR = "hydrocron"
RETRY_STATUS = (429, 500, 502, 503, 504)
#: Moody and Troutman (2002), doi:10.1002/esp.391: W = 7.2 Q^0.50 at mean flow (m, m3/s).
MT_W_COEF, MT_W_EXP = 7.2, 0.50
MEAN_Q_SOURCE = ("observations: mean_q = (W50 / 7.2) ** 2, the Moody & Troutman (2002) downstream "
                 "hydraulic geometry W = 7.2 Q^0.5 inverted at the median observed width; not a model "
                 "or gauge value")
_FILLS = {FLOAT_FILL, -999.0, -99999999.0}


class HydrocronError(InputError):
    """Hydrocron refused or failed a request, or its answer is unusable (names the reach)."""


# --------------------------------------------------------------------------------------- HTTP

#: ``transport(url, headers, timeout) -> (status, headers, body)``; raises OSError on network failure.
Transport = Callable[[str, dict[str, str], float], tuple[int, dict[str, str], bytes]]


def urllib_transport(url: str, headers: dict[str, str], timeout: float) -> tuple[int, dict[str, str], bytes]:
    """GET ``url`` with urllib; HTTP error statuses are returned, not raised."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in (exc.headers or {}).items()}, exc.read() or b""


@dataclass
class HydrocronClient:
    """A polite Hydrocron client: timeouts, retries with exponential backoff, a minimum request interval.

    Parameters
    ----------
    url : str
        The timeseries endpoint.
    transport : Transport
        Does the GET (tests pass a fake one or point ``url`` at 127.0.0.1).
    retries : int
        Attempts per reach for transient failures (429, 5xx, timeouts, connection errors).
    backoff_s : float
        First wait; doubled after each failed attempt (``Retry-After`` wins when larger, capped at 60 s).
    min_interval_s : float
        Least time between two requests (rate limit).
    timeout_s : float
        Per-request timeout.
    """

    url: str = DEFAULT_URL
    transport: Transport = urllib_transport
    retries: int = 5
    backoff_s: float = 2.0
    min_interval_s: float = 1.0
    timeout_s: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _last: float = field(default=-1e9, repr=False)

    def query_url(self, reach_id: int, start: str, end: str, fields: str = FIELDS,
                  collection: str = DEFAULT_COLLECTION) -> str:
        """The request URL of one reach."""
        params = {"feature": "Reach", "feature_id": str(reach_id), "start_time": start, "end_time": end,
                  "output": "csv", "fields": fields, "collection_name": collection}
        return f"{self.url}?{urllib.parse.urlencode(params, safe=',:')}"

    def reach_csv(self, reach_id: int, start: str, end: str, fields: str = FIELDS,
                  collection: str = DEFAULT_COLLECTION) -> str:
        """Return the CSV text of one reach's time series; HydrocronError with the reason otherwise."""
        url = self.query_url(reach_id, start, end, fields, collection)
        delay = self.backoff_s
        for attempt in range(1, self.retries + 1):
            wait = self.min_interval_s - (self.clock() - self._last)
            if wait > 0:
                self.sleep(wait)
            self._last = self.clock()
            try:
                status, headers, body = self.transport(url, {"Accept": "application/json"}, self.timeout_s)
            except (OSError, TimeoutError) as exc:  # URLError, socket timeouts, refused connections
                status, headers, body, why = -1, {}, b"", f"network error ({exc})"
            else:
                why = f"HTTP {status}: {error_text(body)}"
            if status == 200:
                return response_csv(body, reach_id)
            if status not in RETRY_STATUS and status != -1:
                raise HydrocronError(f"reach {reach_id}: Hydrocron refused the request: {why}", self.url)
            if attempt == self.retries:
                raise HydrocronError(f"reach {reach_id}: Hydrocron failed {self.retries} times, last: {why}",
                                     self.url)
            pause = max(delay, _retry_after(headers))
            log.info("reach %s: %s (attempt %d of %d); retrying in %.1f s", reach_id, why, attempt,
                     self.retries, pause)
            self.sleep(min(pause, 60.0))
            delay *= 2
        raise AssertionError("unreachable")


def _retry_after(headers: dict[str, str]) -> float:
    try:
        return float(headers.get("retry-after", 0))
    except ValueError:
        return 0.0


def error_text(body: bytes) -> str:
    """The reason in a Hydrocron error body (JSON ``error``/``message``, else the text, shortened)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        obj = json.loads(text)
    except ValueError:
        return text[:200] or "(empty body)"
    if isinstance(obj, dict):
        for key in ("error", "message", "errorMessage", "status"):
            if obj.get(key):
                return str(obj[key])[:200]
    return text[:200]


def response_csv(body: bytes, reach_id: int) -> str:
    """The CSV of a 200 answer: raw CSV, a JSON string, or JSON ``results.csv``."""
    text = body.decode("utf-8-sig", "replace")
    stripped = text.lstrip()
    if stripped.startswith(("{", '"')):
        try:
            obj = json.loads(stripped)
        except ValueError:
            raise HydrocronError(f"reach {reach_id}: Hydrocron answer is neither CSV nor JSON") from None
        if isinstance(obj, str):
            return obj
        csv_text = obj.get("results", {}).get("csv") if isinstance(obj, dict) else None
        if not isinstance(csv_text, str):
            raise HydrocronError(f"reach {reach_id}: Hydrocron JSON answer has no results.csv")
        return csv_text
    return text


# --------------------------------------------------------------------------------------- checking

@dataclass
class ReachRecord:
    """What datagen needs of one reach's response (NaN where fill)."""

    reach_id: int
    text: str
    time: np.ndarray  # s since 2000-01-01 UTC, valid rows only
    width: np.ndarray
    area_total: np.ndarray
    reach_q: np.ndarray
    columns: dict[str, np.ndarray]
    n_rows: int
    n_placeholder: int


def _num(values: list[str]) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        try:
            x = float(v)
        except ValueError:
            continue
        if x not in _FILLS:
            out[i] = x
    return out


def time_seconds(time_str: Iterable[str]) -> np.ndarray:
    """``YYYY-MM-DDThh:mm:ss[.f]Z`` -> seconds since 2000-01-01 UTC (NaN for ``no_data`` / unparsable)."""
    epoch = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    out = []
    for s in time_str:
        try:
            t = dt.datetime.fromisoformat(s.strip().replace("Z", "+00:00"))
            out.append((t.astimezone(dt.UTC) - epoch).total_seconds() if t.tzinfo else np.nan)
        except ValueError:
            out.append(np.nan)
    return np.asarray(out, dtype=np.float64)


def check_response(text: str, reach_id: int, where: str | Path) -> ReachRecord:
    """Check one reach's CSV and return its summary; HydrocronError naming the reach and reason."""
    try:
        rows = list(csv.reader(_io.StringIO(text)))
    except csv.Error as exc:
        raise HydrocronError(f"reach {reach_id}: malformed CSV ({exc})", where) from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise HydrocronError(f"reach {reach_id}: empty response (no header, no rows)", where)
    head = [h.strip() for h in rows[0]]
    missing = [c for c in ("reach_id", "time_str") if c not in head]
    if missing:
        raise HydrocronError(f"reach {reach_id}: malformed CSV: no column {', '.join(missing)} in the header",
                             where)
    body = rows[1:]
    if not body:
        raise HydrocronError(f"reach {reach_id}: empty result (a header and no rows)", where)
    for k, r in enumerate(body):
        if len(r) != len(head):
            raise HydrocronError(f"reach {reach_id}: malformed CSV: line {k + 2} has {len(r)} fields, the "
                                 f"header {len(head)}", where)
    cols = {h: [r[i].strip() for r in body] for i, h in enumerate(head)}
    ids = set(cols["reach_id"])
    if ids != {str(reach_id)}:
        raise HydrocronError(f"reach {reach_id}: the response holds reach ids {sorted(ids)[:3]}", where)
    t = time_seconds(cols["time_str"])
    placeholder = np.asarray([s == STR_FILL for s in cols["time_str"]])
    bad = ~np.isfinite(t) & ~placeholder
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise HydrocronError(f"reach {reach_id}: malformed CSV: line {k + 2} time_str "
                             f"{cols['time_str'][k]!r} is not YYYY-MM-DDThh:mm:ssZ", where)
    ok = ~placeholder
    if not ok.any():
        raise HydrocronError(f"reach {reach_id}: all {len(body)} rows are no_data placeholders (no observation)",
                             where)
    numeric = {c: _num(v)[ok] for c, v in cols.items() if c not in ("reach_id", "time_str")
               and not c.endswith("_units")}
    width = numeric.get("width", np.full(int(ok.sum()), np.nan))
    return ReachRecord(reach_id, text, t[ok], width, numeric.get("area_total", np.full_like(width, np.nan)),
                       numeric.get("reach_q", np.full_like(width, np.nan)), numeric, len(body),
                       int(placeholder.sum()))


# --------------------------------------------------------------------------------------- sources

def folder_reaches(root: Path) -> dict[int, Path]:
    """``{reach_id: path}`` of the ``{reach_id}.csv`` files (11-digit names) in ``root``."""
    if not root.is_dir():
        return {}
    return {int(p.stem): p for p in sorted(root.glob("*.csv")) if p.stem.isdigit() and len(p.stem) == 11}


def is_hydrocron_folder(root: Path) -> bool:
    """True when ``root`` holds ``{reach_id}.csv`` responses (and so is a Hydrocron source folder)."""
    return bool(folder_reaches(root))


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
                    raise HydrocronError(f"reach {rid}: no {rid}.csv in the source folder", folder)
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
            log.error("skipped: %s", exc)
            failed[rid] = str(exc)
    return records, failed


# --------------------------------------------------------------------------------------- network

@dataclass
class Network:
    """Reaches of the run with assumed topology (arrays aligned on ``reach_id``)."""

    reach_id: np.ndarray
    up: np.ndarray  # [n, 4]
    dn: np.ndarray  # [n, 4]
    orbits: list[frozenset[int]]


def network(reach_ids: Iterable[int]) -> Network:
    """Chain the reaches by id, the assumption made when no SWORD is given.

    Within one SWORD level-6 basin (first 6 digits) reach numbers (digits 7-10)
    of one river grow upstream (true of the Kobuk reaches 81320300011-051 and
    of SWORD's numbering along a main stem, not guaranteed across tributaries):
    reach ``CBBBBBRRRRT``'s upstream neighbour is the run's reach with number
    ``RRRR + 1`` in the same basin, its downstream neighbour ``RRRR - 1``.
    Reaches without such a neighbour in the run have none.
    """
    ids = np.asarray(sorted(set(int(r) for r in reach_ids)), dtype=np.int64)
    key = {(int(r) // 10**5, (int(r) // 10) % 10**4): int(r) for r in ids}
    up = np.zeros((ids.size, 4), dtype=np.int64)
    dn = np.zeros((ids.size, 4), dtype=np.int64)
    for i, r in enumerate(ids.tolist()):
        basin, number = r // 10**5, (r // 10) % 10**4
        up[i, 0] = key.get((basin, number + 1), 0)
        dn[i, 0] = key.get((basin, number - 1), 0)
    return Network(ids, up, dn, [frozenset() for _ in ids])


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


# --------------------------------------------------------------------------------------- priors

def mean_flow_prior(width: np.ndarray, reach_q: np.ndarray | None = None) -> float:
    """Mean-flow prior (m3/s) from a reach's observed widths, for runs without an SoS.

    ``Q = (W50 / 7.2) ** 2``: the global downstream hydraulic geometry of Moody
    and Troutman (2002, Earth Surf. Process. Landforms 27:1251, doi:10.1002/esp.391),
    ``W = 7.2 Q^0.50`` at mean flow, inverted at ``W50``, the median width of
    passes with ``reach_q <= 1`` (all valid widths when fewer than 5 such).
    A factor-two scatter in width is a factor four in flow: the value is
    flagged ``bad_priors = 1`` with this formula as ``bad_prior_source``.
    Kept over width-and-slope alternatives (Manning's equation with the Moody
    & Troutman depth or velocity and Chow's n) because it is the closest to
    the true mean flow on the eight Pepsi-1 rivers (median factor 1.9, median
    |ln ratio| 0.62 against 1.2-2.5; ``bench/noprior_eval.py``).
    NaN when no width is valid.
    """
    w = np.asarray(width, dtype=np.float64)
    ok = np.isfinite(w) & (w > 0)
    if reach_q is not None:
        good = ok & (np.asarray(reach_q) <= 1)
        if np.count_nonzero(good) >= 5:
            ok = good
    if not ok.any():
        return float("nan")
    return float((np.median(w[ok]) / MT_W_COEF) ** (1.0 / MT_W_EXP))


def _median(values: np.ndarray | None) -> float:
    if values is None:
        return float("nan")
    v = values[np.isfinite(values)]
    return float(np.median(v)) if v.size else float("nan")


def reach_table(records: dict[int, ReachRecord], ids: np.ndarray) -> dict[str, np.ndarray]:
    """SWORD-like reach attributes from the observations (median of valid values; NaN when unknown).

    ``reach_length``: SWORD's ``p_length`` when the response has it, else the median of
    ``area_total / width`` (the water area of a reach over its width).
    """
    out: dict[str, list[float]] = {k: [] for k in ("x", "y", "reach_length", "width", "wse", "slope",
                                                   "mean_q")}
    for r in ids.tolist():
        rec = records[r]
        c = rec.columns
        length = _median(c.get("p_length"))
        if not np.isfinite(length):
            with np.errstate(invalid="ignore", divide="ignore"):
                length = _median(rec.area_total / np.where(rec.width > 0, rec.width, np.nan))
        width = _median(c.get("p_width"))
        out["x"].append(_median(c.get("p_lon")))
        out["y"].append(_median(c.get("p_lat")))
        out["reach_length"].append(length)
        out["width"].append(width if np.isfinite(width) else _median(rec.width))
        out["wse"].append(_median(c.get("wse")))
        slope = c.get("slope2") if c.get("slope2") is not None else c.get("slope")
        out["slope"].append(_median(slope) * 1000.0)  # m/m -> m/km (SWORD unit)
        out["mean_q"].append(mean_flow_prior(rec.width, rec.reach_q))
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def write_minimal_sword(path: Path, net: Network, table: dict[str, np.ndarray]) -> Path:
    """A SWORD file holding only what a Hydrocron run knows (no nodes, no centerlines, facc unknown)."""
    n = net.reach_id.size
    orbits = np.zeros((n, sword.N_ORBITS), dtype=np.int64)
    for i, o in enumerate(net.orbits):
        vals = sorted(o)[: sword.N_ORBITS]
        orbits[i, : len(vals)] = vals
    with ncio.create(path, Name=path.name[:2].upper(), version="minimal",
                     comment="Minimal SWORD written by confluence-datagen for a Hydrocron run: reach ids from "
                             "the request, topology assumed from the id order (reach numbers grow upstream "
                             "within a basin), reach_length = median(area_total / width), width, wse and "
                             "slope = medians of the observations; facc, dist_out and nodes unknown.") as ds:
        ds.createDimension(sword.REACH_DIM, n)
        ds.createDimension(sword.NODE_DIM, 0)
        ds.createDimension(sword.DOMAIN_DIM, sword.N_DOMAINS)
        ds.createDimension(sword.ORBIT_DIM, sword.N_ORBITS)
        nodes = ds.createGroup("nodes")
        for name, dtype in (("node_id", "i8"), ("reach_id", "i8"), ("x", "f8"), ("y", "f8")):
            ncio.write_var(nodes, name, np.zeros(0), (sword.NODE_DIM,), dtype)
        rc = ds.createGroup("reaches")
        ncio.write_var(rc, "reach_id", net.reach_id, (sword.REACH_DIM,), "i8")
        units = {"x": "degrees east", "y": "degrees north", "reach_length": "m", "width": "m", "wse": "m",
                 "slope": "m/km"}
        for name, unit in units.items():
            ncio.write_var(rc, name, table[name], (sword.REACH_DIM,), attrs={"units": unit})
        for name, unit in (("facc", "km^2"), ("dist_out", "m")):
            ncio.write_var(rc, name, np.full(n, np.nan), (sword.REACH_DIM,), attrs={"units": unit})
        ncio.write_var(rc, "n_nodes", np.zeros(n, np.int64), (sword.REACH_DIM,), "i4")
        ncio.write_var(rc, "n_rch_up", (net.up > 0).sum(axis=1), (sword.REACH_DIM,), "i4")
        ncio.write_var(rc, "n_rch_down", (net.dn > 0).sum(axis=1), (sword.REACH_DIM,), "i4")
        ncio.write_var(rc, "rch_id_up", net.up.T, (sword.DOMAIN_DIM, sword.REACH_DIM), "i8")
        ncio.write_var(rc, "rch_id_dn", net.dn.T, (sword.DOMAIN_DIM, sword.REACH_DIM), "i8")
        ncio.write_var(rc, "swot_orbits", orbits.T, (sword.ORBIT_DIM, sword.REACH_DIM), "i8")
        ncio.write_var(rc, "lakeflag", np.where(net.reach_id % 10 == 3, 1, 0), (sword.REACH_DIM,), "i4")
        var = rc.createVariable("river_name", str, (sword.REACH_DIM,))
        var[:] = np.asarray(["NODATA"] * n, dtype=object)
    return path


def write_minimal_sos(path: Path, continent: str, sword_version: int, ids: np.ndarray,
                      table: dict[str, np.ndarray]) -> Path:
    """An SoS with no model priors except a flagged observation-based mean flow, and no gauges.

    ``model/mean_q`` is :func:`mean_flow_prior` (``bad_priors`` 1, formula in
    ``bad_prior_source``); every other model flow is fill.  The priors step fills
    ``gbpriors`` from the observations and adds gauges given to it (validation
    gauges, CAL 0, for a Hydrocron run).
    """
    n = ids.size
    nan = np.full(n, np.nan)
    with ncio.create(path, gauge_agency="", product_version="0000", sword_version=str(sword_version),
                     continent=continent, run_type="unconstrained", mean_q_source=MEAN_Q_SOURCE,
                     comment="Minimal SoS written by confluence-datagen for a Hydrocron run without an SoS: "
                             "no model (WBM/GRADES) priors; mean_q from the observed widths, flagged.") as ds:
        ds.createDimension(sos.REACH_DIM, n)
        ds.createDimension(sos.NODE_DIM, 0)
        ds.createDimension(sos.MONTH_DIM, sos.N_MONTHS)
        ds.createDimension(sos.PROB_DIM, len(sos.EXCEEDANCE))
        rg = ds.createGroup("reaches")
        ncio.write_var(rg, "reach_id", ids, (sos.REACH_DIM,), "i8")
        ncio.write_var(rg, "x", table["x"], (sos.REACH_DIM,), attrs={"units": "degrees east"})
        ncio.write_var(rg, "y", table["y"], (sos.REACH_DIM,), attrs={"units": "degrees north"})
        rg.createVariable("river_name", str, (sos.REACH_DIM,))[:] = np.asarray(["NODATA"] * n, dtype=object)
        ng = ds.createGroup("nodes")
        for name, dtype in (("node_id", "i8"), ("reach_id", "i8"), ("x", "f8"), ("y", "f8")):
            ncio.write_var(ng, name, np.zeros(0), (sos.NODE_DIM,), dtype)
        mg = ds.createGroup("model")
        q_units = {"units": "m^3/s"}
        ncio.write_var(mg, "mean_q", table["mean_q"], (sos.REACH_DIM,),
                       attrs={**q_units, "source": MEAN_Q_SOURCE})
        for name in ("min_q", "max_q", "two_year_return_q"):
            ncio.write_var(mg, name, nan, (sos.REACH_DIM,), attrs=q_units)
        ncio.write_var(mg, "monthly_q", np.full((n, sos.N_MONTHS), np.nan), (sos.REACH_DIM, sos.MONTH_DIM),
                       attrs=q_units)
        ncio.write_var(mg, "flow_duration_q", np.full((n, len(sos.EXCEEDANCE)), np.nan),
                       (sos.REACH_DIM, sos.PROB_DIM), attrs=q_units)
        ncio.write_var(mg, "probability", np.asarray(sos.EXCEEDANCE, float), (sos.PROB_DIM,),
                       attrs={"units": "percent", "long_name": "exceedance probability"})
        ncio.write_var(mg, "overwritten_indexes", np.zeros(n, np.int64), (sos.REACH_DIM,), "i4")
        mg.createVariable("overwritten_source", str, (sos.REACH_DIM,))[:] = np.asarray([""] * n, dtype=object)
        flagged = np.isfinite(table["mean_q"])
        ncio.write_var(mg, "bad_priors", flagged.astype(np.int64), (sos.REACH_DIM,), "i4")
        mg.createVariable("bad_prior_source", str, (sos.REACH_DIM,))[:] = np.asarray(
            [MEAN_Q_SOURCE if f else "no valid width: no mean_q" for f in flagged], dtype=object)
    return path


# --------------------------------------------------------------------------------------- outputs

def continent_outputs(continent: str, records: dict[int, ReachRecord], net: Network, sword_version: int,
                      set_facc: np.ndarray) -> dict[str, Any]:
    """The datagen JSON documents of a Hydrocron run (contracts.md section 4)."""
    sword_file = sword.sword_name(continent, sword_version)
    sos_file = sos.sos_name(continent, sword_version)

    def entry(r: int) -> dict[str, Any]:
        return {"reach_id": int(r), "sword": sword_file, "swot": f"{r}_SWOT.nc", "sos": sos_file}

    ids = net.reach_id.tolist()
    basins: dict[int, list[int]] = {}
    for r in ids:
        basins.setdefault(r // 10**7, []).append(r)
    cps: dict[str, int] = {}
    for r in ids:
        c = records[r].columns
        if "cycle_id" in c and "pass_id" in c:
            for cy, pa in zip(c["cycle_id"], c["pass_id"], strict=True):
                if np.isfinite(cy) and np.isfinite(pa):
                    cps[f"{int(cy):03d}_{int(pa):03d}"] = int(cy) * 1000 + int(pa)
    out: dict[str, Any] = {
        "reaches": [entry(r) for r in ids],
        "reach_node": [[str(r), []] for r in ids],
        "s3_list": [f"{SAVED_DIR}/{r}.csv" for r in ids],
        "s3_reach": {str(r): [f"{SAVED_DIR}/{r}.csv"] for r in ids},
        "cycle_passes": dict(sorted(cps.items())),
        "passes": {str(v): k.split("_") for k, v in sorted(cps.items())},
        "basin": [{"basin_id": b, "reach_id": [str(r) for r in rs], "sword": sword_file, "sos": sos_file,
                   "swot": [f"{r}_SWOT.nc" for r in rs]} for b, rs in sorted(basins.items())],
    }
    for name, rule in SET_RULES.items():
        sets = build_sets(net.reach_id, net.up, net.dn, set_facc, net.orbits, rule)
        out[name] = [[entry(r) for r in s] for s in sets]
    return out


def save_responses(records: dict[int, ReachRecord]) -> None:
    """Keep each checked response verbatim in ``input/hydrocron/{reach_id}.csv`` (atomically)."""
    for rid, rec in records.items():
        atomic.write_text(volume_path("input", SAVED_DIR, f"{rid}.csv"), rec.text)


def build(continent: str, records: dict[int, ReachRecord], sword_version: int) -> dict[str, Any]:
    """Save the responses, write the minimal SWORD / SoS when absent, return the JSON documents."""
    save_responses(records)
    times = {r: rec.time for r, rec in records.items()}
    net = network(records)
    tracks = _pass_ids(records) or pass_tracks(times)
    net.orbits = [tracks[int(r)] for r in net.reach_id]
    table = reach_table(records, net.reach_id) if records else {}
    sword_path = volume_path("input", "sword", sword.sword_name(continent, sword_version))
    sos_path = volume_path("input", "sos", sos.sos_name(continent, sword_version))
    if sword_path.is_file():
        _sword_topology(net, sword_path)
    if records and not sword_path.is_file():
        write_minimal_sword(sword_path, net, table)
        log.warning("no SWORD for %s: wrote a minimal one (%s): topology assumed from the id order, facc "
                    "unknown", continent, sword_path)
    if records and not sos_path.is_file():
        write_minimal_sos(sos_path, continent, sword_version, net.reach_id, table)
        log.warning("no SoS for %s: wrote one without model priors (%s); mean_q from the observed widths "
                    "(Moody & Troutman 2002), flagged bad_priors", continent, sos_path)
        for r, q in zip(net.reach_id.tolist(), table["mean_q"].tolist(), strict=True):
            log.info("reach %s: mean-flow prior %.0f m3/s from its median width", r, q)
    set_facc = _set_facc(net, sword_path)
    return continent_outputs(continent, records, net, sword_version, set_facc)


def _pass_ids(records: dict[int, ReachRecord]) -> dict[int, frozenset[int]] | None:
    """Per reach, the pass numbers in its answer (None unless every reach's answer has ``pass_id``)."""
    out = {}
    for r, rec in records.items():
        p = rec.columns.get("pass_id")
        if p is None or not np.isfinite(p).any():
            return None
        out[r] = frozenset(int(x) for x in p[np.isfinite(p)])
    return out


def _sword_topology(net: Network, sword_path: Path) -> None:
    """Replace the assumed neighbours by SWORD's for the reaches SWORD knows."""
    try:
        table = sword.read_reaches(sword_path)
    except InputError as exc:
        log.warning("%s: topology assumed from the id order", exc)
        return
    pos = {int(r): i for i, r in enumerate(table.reach_id)}
    known = 0
    for i, r in enumerate(net.reach_id.tolist()):
        if r in pos:
            net.up[i], net.dn[i] = table.rch_id_up[pos[r]], table.rch_id_dn[pos[r]]
            known += 1
    log.info("%s: topology of %d of %d reaches from SWORD", sword_path.name, known, net.reach_id.size)


def _set_facc(net: Network, sword_path: Path) -> np.ndarray:
    """facc for the reach sets: SWORD's when known, else 1.0 on every reach of an assumed chain.

    With facc unknown, consecutive reaches of one assumed chain are taken to
    have no tributary between them (the same assumption as the topology), so
    sets can grow along the chain; reaches seen on different passes still
    stay apart (MetroMan's same-orbit rule).
    """
    facc = np.full(net.reach_id.size, np.nan)
    if sword_path.is_file():
        try:
            table = sword.read_reaches(sword_path)
            pos = {int(r): i for i, r in enumerate(table.reach_id)}
            facc = np.asarray([table.facc[pos[int(r)]] if int(r) in pos else np.nan for r in net.reach_id])
        except InputError as exc:
            log.warning("%s", exc)
    if not np.isfinite(facc).any():
        chained = ((net.up > 0) | (net.dn > 0)).any(axis=1)
        facc = np.where(chained, 1.0, np.nan)
        log.info("facc unknown: reach sets grow along the assumed chain (%d reaches)", int(chained.sum()))
    return facc
