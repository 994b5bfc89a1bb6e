"""Gauge data sources behind one interface.

Every source yields :class:`GaugeSeries` (agency, site id, reach id, daily
days and flows in m3/s, optional calibration flag). Sources:

- :class:`SosGauges`: the agency groups already in the SoS (built by
  :func:`confluence_priors.io.read_sos`);
- :class:`CsvGaugeFile`: a CSV with the header
  ``agency,site,reach_id,date,discharge_cms[,cal]`` (any column order; dates
  ``YYYY-MM-DD``; empty, ``NA`` or ``nan`` flow = missing; ``cal`` 1
  calibration / 0 validation, the same on every row of a gauge);
- :class:`NetcdfGaugeFile`: a NetCDF gauge archive (our layout): dimensions
  ``gauge`` and ``day``; ``agency(gauge)``, ``site(gauge)`` strings,
  ``reach_id(gauge)`` int64, optional ``cal(gauge)`` int, ``qt(gauge, day)``
  days since 0001-01-01 and ``discharge_cms(gauge, day)`` (m3/s), both
  padded with the float fill;
- :class:`NwisGauges`: USGS NWIS daily values (parameter 00060 discharge,
  statistic 00003 daily mean) from the Water Services REST API in its
  WaterML-JSON form, converted from ft3/s to m3/s.

Gauge files are chosen by suffix through :data:`FILE_SOURCES` (a registry,
add a reader there). A malformed file (bad header, unparsable date, flow or
reach id) is an :class:`~confluence_core.errors.InputError` naming the file
and the line, raised before anything is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from confluence_core import ncio
from confluence_core.errors import ConfluenceError, InputError
from confluence_core.sos import date_to_qt

LOG = logging.getLogger("confluence-priors")

#: ft3/s -> m3/s (exact: 0.3048 m per ft, cubed).
CFS_TO_CMS = 0.3048**3
#: Unit code of a WaterML series -> factor to m3/s.
UNIT_TO_CMS: dict[str, float] = {"ft3/s": CFS_TO_CMS, "cfs": CFS_TO_CMS, "m3/s": 1.0}
#: Agency names must make valid NetCDF group / variable names.
AGENCY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
CSV_COLUMNS = ("agency", "site", "reach_id", "date", "discharge_cms")
_MISSING = {"", "na", "nan", "null", "none"}


@dataclass
class GaugeSeries:
    """One gauge's daily record.

    ``qt``: days since 0001-01-01 (int64, sorted, unique); ``q``: daily mean
    discharge (m3/s, NaN missing); ``cal``: 1 calibration, 0 validation, None
    when the source does not say.
    """

    agency: str
    site: str
    reach_id: int
    qt: np.ndarray
    q: np.ndarray
    cal: int | None = None
    origin: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.agency, self.site


class GaugeSource(Protocol):
    """Anything that yields gauge series."""

    name: str

    def load(self) -> list[GaugeSeries]:
        """Return every gauge series of the source (InputError on a malformed source)."""
        ...


def dedupe_days(qt: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort by day and keep the last value given for a repeated day."""
    qt = np.asarray(qt, dtype=np.int64)
    q = np.asarray(q, dtype=np.float64)
    rev_qt, rev_q = qt[::-1], q[::-1]
    days, first = np.unique(rev_qt, return_index=True)
    return days, rev_q[first]


def _check_agency(agency: str, where: Path | str) -> str:
    if not AGENCY_RE.match(agency):
        raise InputError(f"agency {agency!r} is not a valid name (letters, digits, _; starts with a letter)",
                         where)
    return agency


@dataclass
class SosGauges:
    """Gauges already stored in the SoS agency groups."""

    series: list[GaugeSeries]
    name: str = "SoS"

    def load(self) -> list[GaugeSeries]:
        return list(self.series)


@dataclass
class CsvGaugeFile:
    """A CSV gauge file ``agency,site,reach_id,date,discharge_cms[,cal]``."""

    path: Path
    name: str = "CSV"

    def load(self) -> list[GaugeSeries]:
        rows, header = self._read()
        cols = {c: [r[header[c]].strip() for r in rows] for c in header}
        lines = np.arange(2, len(rows) + 2)
        days = self._dates(cols["date"], lines)
        flows = self._floats(cols["discharge_cms"], lines, "discharge_cms")
        reach = self._ints(cols["reach_id"], lines, "reach_id")
        cal = self._ints(cols["cal"], lines, "cal", missing=-1) if "cal" in cols else np.full(len(rows), -1)
        keys = np.array([f"{a}\x00{s}" for a, s in zip(cols["agency"], cols["site"], strict=True)])
        out = []
        for key in dict.fromkeys(keys.tolist()):
            sel = keys == key
            agency, site = key.split("\x00")
            _check_agency(agency, self.path)
            out.append(self._series(agency, site, reach[sel], cal[sel], days[sel], flows[sel], lines[sel]))
        return out

    def _read(self) -> tuple[list[list[str]], dict[str, int]]:
        try:
            with self.path.open(newline="") as fh:
                reader = csv.reader(fh)
                head = next(reader, None)
                rows = [r for r in reader if r and any(x.strip() for x in r)]
        except FileNotFoundError:
            raise InputError("gauge file not found", self.path) from None
        except (UnicodeDecodeError, csv.Error) as exc:
            raise InputError(f"not a readable CSV file ({exc})", self.path) from None
        if head is None:
            raise InputError("empty gauge file (no header)", self.path)
        names = [h.strip().lower() for h in head]
        missing = [c for c in CSV_COLUMNS if c not in names]
        if missing:
            raise InputError(f"bad header: missing column(s) {', '.join(missing)}; "
                             f"expected {','.join(CSV_COLUMNS)}[,cal]", self.path)
        for i, r in enumerate(rows):
            if len(r) != len(names):
                raise InputError(f"line {i + 2}: {len(r)} fields, the header has {len(names)}", self.path)
        wanted = [*CSV_COLUMNS, "cal"]
        return rows, {c: names.index(c) for c in wanted if c in names}

    def _dates(self, text: Sequence[str], lines: np.ndarray) -> np.ndarray:
        arr = np.asarray(text, dtype=str)
        days = None
        if arr.size == 0 or not np.any(np.char.str_len(arr) != 10):
            try:
                days = arr.astype("datetime64[D]")
            except ValueError:
                days = None
        if days is None:  # find the offending line (or parse strictly row by row)
            parsed = []
            for i, t in enumerate(text):
                try:
                    if len(t) != 10:
                        raise ValueError(t)
                    parsed.append(np.datetime64(dt.date.fromisoformat(t), "D"))
                except ValueError:
                    raise InputError(f"line {lines[i]}: unparsable date {t!r} (expected YYYY-MM-DD)",
                                     self.path) from None
            days = np.asarray(parsed, dtype="datetime64[D]")
        return (days - np.datetime64("0001-01-01", "D")).astype(np.int64)

    def _floats(self, text: Sequence[str], lines: np.ndarray, col: str) -> np.ndarray:
        clean = ["nan" if t.lower() in _MISSING else t for t in text]
        try:
            return np.asarray(clean, dtype=np.float64)
        except ValueError:
            for i, t in enumerate(clean):
                try:
                    float(t)
                except ValueError:
                    raise InputError(f"line {lines[i]}: {col} {t!r} is not a number", self.path) from None
            raise

    def _ints(self, text: Sequence[str], lines: np.ndarray, col: str, missing: int | None = None) -> np.ndarray:
        out = np.empty(len(text), dtype=np.int64)
        for i, t in enumerate(text):
            if missing is not None and t.lower() in _MISSING:
                out[i] = missing
                continue
            try:
                out[i] = int(float(t)) if t.endswith(".0") else int(t)
            except ValueError:
                raise InputError(f"line {lines[i]}: {col} {t!r} is not an integer", self.path) from None
        return out

    def _series(self, agency: str, site: str, reach: np.ndarray, cal: np.ndarray, days: np.ndarray,
                flows: np.ndarray, lines: np.ndarray) -> GaugeSeries:
        if np.unique(reach).size > 1:
            raise InputError(f"line {lines[0]}: gauge {agency} {site} has several reach_id values", self.path)
        cal_values = np.unique(cal[cal >= 0])
        if cal_values.size > 1 or np.any(cal_values > 1):
            raise InputError(f"gauge {agency} {site}: cal must be 0 or 1 and the same on every row", self.path)
        qt, q = dedupe_days(days, flows)
        return GaugeSeries(agency, site, int(reach[0]), qt, q,
                           int(cal_values[0]) if cal_values.size else None, str(self.path))


@dataclass
class NetcdfGaugeFile:
    """A NetCDF gauge archive (layout in the module docstring)."""

    path: Path
    name: str = "NetCDF"

    def load(self) -> list[GaugeSeries]:
        with ncio.open_dataset(self.path) as ds:
            need = ["agency", "site", "reach_id", "qt", "discharge_cms"]
            missing = [v for v in need if v not in ds.variables]
            if missing:
                raise InputError(f"not a gauge archive: missing variable(s) {', '.join(missing)}", self.path)
            agency = ncio.read_strings(ds, "agency")
            site = ncio.read_strings(ds, "site")
            reach = ncio.read_int(ds, "reach_id")
            cal = ncio.read_int(ds, "cal")
            qt = ncio.read_float(ds, "qt")
            q = ncio.read_float(ds, "discharge_cms")
        if qt.shape != q.shape or qt.ndim != 2 or qt.shape[0] != len(agency):
            raise InputError("qt and discharge_cms must both be [gauge, day]", self.path)
        out = []
        for g in range(len(agency)):
            _check_agency(str(agency[g]), self.path)
            ok = np.isfinite(qt[g])
            days, flows = dedupe_days(qt[g][ok].astype(np.int64), q[g][ok])
            c = None if cal is None or int(cal[g]) not in (0, 1) else int(cal[g])
            out.append(GaugeSeries(str(agency[g]), str(site[g]), int(reach[g]), days, flows, c, str(self.path)))
        return out


#: Gauge file readers by suffix.
FILE_SOURCES: dict[str, Callable[[Path], GaugeSource]] = {
    ".csv": CsvGaugeFile,
    ".nc": NetcdfGaugeFile,
    ".nc4": NetcdfGaugeFile,
}


def open_gauge_file(path: str | Path) -> GaugeSource:
    """Return the source reading ``path``, chosen by its suffix in :data:`FILE_SOURCES`."""
    path = Path(path)
    reader = FILE_SOURCES.get(path.suffix.lower())
    if reader is None:
        raise InputError(f"unknown gauge file type {path.suffix!r}; known: {', '.join(FILE_SOURCES)}", path)
    return reader(path)


# --- USGS NWIS -------------------------------------------------------------------------------

NWIS_DV_URL = "https://waterservices.usgs.gov/nwis/dv/"
NWIS_PARAMETER = "00060"  # discharge
NWIS_STATISTIC = "00003"  # daily mean


class Transport(Protocol):
    """Fetches a JSON document (the seam tests replace with recorded responses)."""

    def get_json(self, url: str, params: dict[str, str]) -> Any: ...


class RequestsTransport:
    """HTTP GET with retries on connection errors and 429/5xx, exponential backoff and timeouts."""

    def __init__(self, retries: int = 5, backoff: float = 2.0, timeout: tuple[float, float] = (10.0, 120.0)):
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        retry = Retry(total=retries, connect=retries, read=retries, backoff_factor=backoff,
                      status_forcelist=(429, 500, 502, 503, 504), allowed_methods=("GET",))
        self.session = requests.Session()
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        self.timeout = timeout

    def get_json(self, url: str, params: dict[str, str]) -> Any:
        import requests

        try:
            resp = self.session.get(url, params=params, timeout=self.timeout)
            resp.raise_for_status()
            return resp.json()
        except (requests.RequestException, ValueError) as exc:
            raise ConfluenceError(f"NWIS request failed after retries ({exc})", url) from None


def parse_nwis_dv(doc: Any, where: str = "NWIS response") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Parse an NWIS daily-values WaterML-JSON document.

    Parameters
    ----------
    doc : dict
        ``{"value": {"timeSeries": [...]}}`` as returned by
        ``waterservices.usgs.gov/nwis/dv/?format=json``.

    Returns
    -------
    dict
        site number -> (qt days since 0001-01-01, discharge m3/s with the
        series' ``noDataValue`` and unparsable values as NaN).
    """
    try:
        series = doc["value"]["timeSeries"]
    except (KeyError, TypeError):
        raise InputError("not an NWIS WaterML-JSON document (no value.timeSeries)", where) from None
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for ts in series:
        try:
            site = str(ts["sourceInfo"]["siteCode"][0]["value"])
            var = ts["variable"]
            code = str(var["variableCode"][0]["value"])
            unit = str(var["unit"]["unitCode"])
            nodata = float(var.get("noDataValue", -999999.0))
            points = [p for block in ts["values"] for p in block["value"]]
        except (KeyError, IndexError, TypeError, ValueError):
            raise InputError("malformed NWIS timeSeries entry", where) from None
        if code != NWIS_PARAMETER:
            continue
        if unit not in UNIT_TO_CMS:
            raise InputError(f"site {site}: unknown discharge unit {unit!r}", where)
        days = np.asarray([p["dateTime"][:10] for p in points], dtype="datetime64[D]")
        raw = np.asarray([_to_float(p.get("value")) for p in points], dtype=np.float64)
        raw[raw == nodata] = np.nan
        qt = (days - np.datetime64("0001-01-01", "D")).astype(np.int64)
        out[site] = dedupe_days(qt, raw * UNIT_TO_CMS[unit])
    return out


def _to_float(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


@dataclass
class NwisGauges:
    """USGS daily discharge from NWIS for given sites (site -> reach id)."""

    sites: dict[str, int]
    start: dt.date
    end: dt.date
    transport: Transport | None = None
    batch: int = 50
    name: str = "NWIS"

    def load(self) -> list[GaugeSeries]:
        transport = self.transport or RequestsTransport()
        ids = sorted(self.sites)
        out = []
        for i in range(0, len(ids), self.batch):
            chunk = ids[i:i + self.batch]
            params = {"format": "json", "sites": ",".join(chunk), "parameterCd": NWIS_PARAMETER,
                      "statCd": NWIS_STATISTIC, "startDT": self.start.isoformat(),
                      "endDT": self.end.isoformat(), "siteStatus": "all"}
            parsed = parse_nwis_dv(transport.get_json(NWIS_DV_URL, params), NWIS_DV_URL)
            for site in chunk:
                if site not in parsed:
                    LOG.warning("NWIS: no daily discharge for USGS site %s", site)
                    continue
                qt, q = parsed[site]
                out.append(GaugeSeries("USGS", site, self.sites[site], qt, q, None, "NWIS"))
        return out


def to_qt(days: Iterable[dt.date]) -> np.ndarray:
    """Days since 0001-01-01 of each date."""
    return np.asarray([date_to_qt(d) for d in days], dtype=np.int64)


def merge_series(base: GaugeSeries | None, new: GaugeSeries) -> GaugeSeries:
    """Combine two records of one gauge: the union of days, ``new``'s valid values winning.

    The reach id comes from ``new``; its calibration flag too when it gives one.
    """
    if base is None:
        return new
    keep = np.isfinite(new.q)
    qt, q = dedupe_days(np.concatenate([base.qt, new.qt[keep]]), np.concatenate([base.q, new.q[keep]]))
    if base.reach_id != new.reach_id:
        LOG.warning("gauge %s %s: reach %d (%s) replaces reach %d (%s)", new.agency, new.site,
                    new.reach_id, new.origin, base.reach_id, base.origin)
    cal = new.cal if new.cal is not None else base.cal
    return GaugeSeries(new.agency, new.site, new.reach_id, qt, q, cal, f"{base.origin}+{new.origin}")
