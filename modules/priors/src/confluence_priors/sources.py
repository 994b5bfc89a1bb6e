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
  statistic 00003 daily mean) through ``dataretrieval`` (the USGS package),
  converted from ft3/s to m3/s.

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
from typing import Protocol, cast

import numpy as np
import pandas as pd
from confluence_core import ncio, tables
from confluence_core.errors import ConfluenceError, InputError
from confluence_core.sos import date_to_qt

LOG = logging.getLogger("confluence-priors")

#: ft3/s -> m3/s (exact: 0.3048 m per ft, cubed).
CFS_TO_CMS = 0.3048**3
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
    """A CSV gauge file ``agency,site,reach_id,date,discharge_cms[,cal]``, read with pandas (as text, then
    each column converted and checked, the first bad cell named by its line)."""

    path: Path
    name: str = "CSV"

    def load(self) -> list[GaugeSeries]:
        cols = self._read()
        lines = np.arange(2, len(cols) + 2)
        days = self._dates(cols["date"], lines)
        flows = self._floats(cols["discharge_cms"], lines, "discharge_cms")
        reach = self._ints(cols["reach_id"], lines, "reach_id")
        cal = self._ints(cols["cal"], lines, "cal", missing=-1) if "cal" in cols else np.full(len(cols), -1)
        out = []
        for (agency, site), rows in cols.groupby(["agency", "site"], sort=False).indices.items():
            _check_agency(agency, self.path)
            out.append(self._series(agency, site, reach[rows], cal[rows], days[rows], flows[rows], lines[rows]))
        return out

    def _read(self) -> pd.DataFrame:
        """The known columns as stripped text, one row per non-blank line."""
        try:
            table = tables.read_text_table(self.path)
        except FileNotFoundError:
            raise InputError("gauge file not found", self.path) from None
        except (UnicodeDecodeError, csv.Error, pd.errors.ParserError) as exc:
            raise InputError(f"not a readable CSV file ({exc})", self.path) from None
        if table is None:
            raise InputError("empty gauge file (no header)", self.path)
        names = [h.lower() for h in table.header]
        missing = [c for c in CSV_COLUMNS if c not in names]
        if missing:
            raise InputError(f"bad header: missing column(s) {', '.join(missing)}; "
                             f"expected {','.join(CSV_COLUMNS)}[,cal]", self.path)
        bad = table.first_bad_width()
        if bad is not None:
            raise InputError(f"line {bad + 2}: {table.n_fields[bad]} fields, the header has {len(names)}", self.path)
        wanted = [c for c in (*CSV_COLUMNS, "cal") if c in names]
        return pd.DataFrame({c: table.rows[names.index(c)] for c in wanted})

    def _bad(self, ok: np.ndarray, text: pd.Series, lines: np.ndarray, what: str) -> None:
        """InputError naming the first line where ``ok`` is False."""
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            raise InputError(f"line {lines[i]}: {what.format(text.iloc[i])}", self.path)

    def _dates(self, text: pd.Series, lines: np.ndarray) -> np.ndarray:
        days = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        self._bad((days.notna() & (text.str.len() == 10)).to_numpy(), text, lines,
                  "unparsable date {!r} (expected YYYY-MM-DD)")
        ordinal: np.ndarray = (days.to_numpy().astype("datetime64[D]") - np.datetime64("0001-01-01", "D"))
        return ordinal.astype(np.int64)

    def _floats(self, text: pd.Series, lines: np.ndarray, col: str) -> np.ndarray:
        values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        missing = text.str.lower().isin(_MISSING).to_numpy()
        self._bad(~np.isnan(values) | missing, text, lines, col + " {!r} is not a number")
        return np.where(missing, np.nan, values)

    def _ints(self, text: pd.Series, lines: np.ndarray, col: str, missing: int | None = None) -> np.ndarray:
        absent = text.str.lower().isin(_MISSING).to_numpy() if missing is not None else np.zeros(len(text), bool)
        values = pd.to_numeric(text.where(~absent, "0"), errors="coerce").to_numpy(dtype=np.float64,
                                                                                na_value=np.nan)
        self._bad(np.isfinite(values) & (values == np.floor(values)), text, lines, col + " {!r} is not an integer")
        return np.where(absent, missing if missing is not None else 0, values).astype(np.int64)

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
            # the `need` variables are present: checked above
            agency = cast(np.ndarray, ncio.read_strings(ds, "agency"))
            site = cast(np.ndarray, ncio.read_strings(ds, "site"))
            reach = cast(np.ndarray, ncio.read_int(ds, "reach_id"))
            cal = ncio.read_int(ds, "cal")
            qt = cast(np.ndarray, ncio.read_float(ds, "qt"))
            q = cast(np.ndarray, ncio.read_float(ds, "discharge_cms"))
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

NWIS_PARAMETER = "00060"  # discharge, ft3/s
NWIS_STATISTIC = "00003"  # daily mean
#: The value NWIS gives a day without data.
NWIS_NO_DATA = -999999.0
#: Where :func:`nwis_daily` reads (for messages).
NWIS_SERVICE = "https://waterservices.usgs.gov/nwis/dv/"


def nwis_daily(sites: Sequence[str], start: dt.date, end: dt.date) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """USGS daily mean discharge of ``sites`` from NWIS through ``dataretrieval`` (``nwis.get_dv``).

    dataretrieval queries the Water Services daily-values service
    (parameter 00060, statistic 00003), retries transient failures and parses
    its WaterML-JSON answer into a DataFrame; here the values become m3/s and
    NWIS's no-data value NaN.

    Returns
    -------
    dict
        site number -> (qt days since 0001-01-01, daily discharge m3/s), for the sites with data.

    Raises
    ------
    ConfluenceError
        When the service cannot be reached or answers with an error (after dataretrieval's retries).
    """
    logging.getLogger("dataretrieval.ogc.shaping").setLevel(logging.ERROR)  # "no geopandas": not used here
    from dataretrieval import nwis
    from dataretrieval.exceptions import DataRetrievalError, NoSitesError

    try:
        df, _ = nwis.get_dv(sites=list(sites), start=start.isoformat(), end=end.isoformat(),
                            parameterCd=NWIS_PARAMETER, statCd=NWIS_STATISTIC, siteStatus="all", multi_index=False)
    except NoSitesError:
        return {}
    except (DataRetrievalError, ValueError) as exc:
        raise ConfluenceError(f"NWIS daily values request failed ({exc})", NWIS_SERVICE) from None
    flows = [c for c in df.columns if str(c).startswith(NWIS_PARAMETER) and not str(c).endswith("_cd")]
    if df.empty or not flows:
        return {}
    days = pd.DatetimeIndex(df.index)
    days = days.tz_localize(None) if days.tz is not None else days  # the service's local day, tagged UTC
    day = days.to_numpy().astype("datetime64[D]")
    cfs = pd.concat([pd.to_numeric(df[c], errors="coerce") for c in flows], axis=1).bfill(axis=1).iloc[:, 0]
    q = cfs.to_numpy(dtype=np.float64, na_value=np.nan)
    q = np.where(q == NWIS_NO_DATA, np.nan, q) * CFS_TO_CMS
    qt = (day - np.datetime64("0001-01-01", "D")).astype(np.int64)
    site = df["site_no"].astype(str).to_numpy()
    return {str(s): dedupe_days(qt[site == s], q[site == s]) for s in dict.fromkeys(site)}


@dataclass
class NwisGauges:
    """USGS daily discharge from NWIS for given sites (site -> reach id), ``batch`` sites per request."""

    sites: dict[str, int]
    start: dt.date
    end: dt.date
    batch: int = 50
    name: str = "NWIS"

    def load(self) -> list[GaugeSeries]:
        ids = sorted(self.sites)
        out = []
        for i in range(0, len(ids), self.batch):
            chunk = ids[i:i + self.batch]
            daily = nwis_daily(chunk, self.start, self.end)
            for site in chunk:
                if site not in daily:
                    LOG.warning("NWIS: no daily discharge for USGS site %s", site)
                    continue
                qt, q = daily[site]
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
