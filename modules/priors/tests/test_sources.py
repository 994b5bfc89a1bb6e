"""Gauge sources: CSV, NetCDF archive, NWIS recorded response, merging."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from confluence_core import ncio
from confluence_core.errors import ConfluenceError, InputError
from confluence_core.sos import date_to_qt
from confluence_priors.sources import (
    CFS_TO_CMS,
    CsvGaugeFile,
    GaugeSeries,
    NetcdfGaugeFile,
    NwisGauges,
    merge_series,
    nwis_daily,
    open_gauge_file,
)
from confluence_priors.stats import gauge_stats

DATA = Path(__file__).parent / "data"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_csv_groups_gauges_and_reads_cal(tmp_path: Path) -> None:
    f = write(tmp_path / "g.csv", "site,agency,reach_id,date,discharge_cms,cal\n"
              "1,USGS,74269800011,2020-01-02,5.5,0\n1,USGS,74269800011,2020-01-01,4,0\n"
              "A9,WSC,74269800021,2020-01-01,,\nA9,WSC,74269800021,2020-01-01,7,\n")
    out = open_gauge_file(f).load()
    assert isinstance(open_gauge_file(f), CsvGaugeFile)
    usgs, wsc = out
    assert (usgs.agency, usgs.site, usgs.reach_id, usgs.cal) == ("USGS", "1", 74269800011, 0)
    assert usgs.qt.tolist() == [date_to_qt(__import__("datetime").date(2020, 1, 1)), usgs.qt[0] + 1]
    assert usgs.q.tolist() == [4.0, 5.5]
    assert wsc.cal is None and wsc.q.tolist() == [7.0]  # repeated day: the last row wins


@pytest.mark.parametrize(("text", "reason"), [
    ("agency,site,date,discharge_cms\nUSGS,1,2020-01-01,3\n", "bad header: missing column(s) reach_id"),
    ("agency,site,reach_id,date,discharge_cms\nUSGS,1,74269800011,2020-01-01,3\n"
     "USGS,1,74269800011,01/02/2020,3\n", "line 3: unparsable date '01/02/2020'"),
    ("agency,site,reach_id,date,discharge_cms\nUSGS,1,74269800011,2020-02-30,3\n", "line 2: unparsable date"),
    ("agency,site,reach_id,date,discharge_cms\nUSGS,1,74269800011,2020-01-01,lots\n", "line 2: discharge_cms"),
    ("agency,site,reach_id,date,discharge_cms\nUSGS,1,742x,2020-01-01,3\n", "line 2: reach_id"),
    ("agency,site,reach_id,date,discharge_cms\nUS GS,1,74269800011,2020-01-01,3\n", "not a valid name"),
    ("", "empty gauge file"),
])
def test_malformed_csv(tmp_path: Path, text: str, reason: str) -> None:
    f = write(tmp_path / "bad.csv", text)
    with pytest.raises(InputError) as err:
        CsvGaugeFile(f).load()
    assert reason in str(err.value) and str(f) in str(err.value)


def test_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown gauge file type"):
        open_gauge_file(tmp_path / "g.xlsx")


def test_netcdf_archive(tmp_path: Path) -> None:
    path = tmp_path / "archive.nc"
    with ncio.create(path) as ds:
        ds.createDimension("gauge", 2)
        ds.createDimension("day", 3)
        for name, vals in (("agency", ["USGS", "GRDC"]), ("site", ["1", "4150450"])):
            v = ds.createVariable(name, str, ("gauge",))
            v[:] = np.array(vals, dtype=object)
        ncio.write_var(ds, "reach_id", [74269800011, 74269800021], ("gauge",), "i8", fill=None)
        ncio.write_var(ds, "cal", [1, 0], ("gauge",), "i4")
        ncio.write_var(ds, "qt", [[737000, 737001, np.nan], [737000, 737001, 737002]], ("gauge", "day"))
        ncio.write_var(ds, "discharge_cms", [[1.0, 2.0, np.nan], [3.0, np.nan, 4.0]], ("gauge", "day"))
    a, b = open_gauge_file(path).load()
    assert isinstance(open_gauge_file(path), NetcdfGaugeFile)
    assert (a.agency, a.site, a.cal, a.qt.tolist(), a.q.tolist()) == ("USGS", "1", 1, [737000, 737001], [1.0, 2.0])
    assert (b.agency, b.cal, b.qt.size) == ("GRDC", 0, 3)


def test_netcdf_archive_missing_variable(tmp_path: Path) -> None:
    path = tmp_path / "archive.nc"
    with ncio.create(path) as ds:
        ds.createDimension("gauge", 1)
    with pytest.raises(InputError, match="missing variable"):
        NetcdfGaugeFile(path).load()


@pytest.fixture()
def nwis_service(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Serve the recorded NWIS answer to dataretrieval at the HTTP level (httpx mock transport); the requests."""
    httpx = pytest.importorskip("httpx")
    from dataretrieval.transport import http

    raw = (DATA / "nwis_dv_15744500.json").read_bytes()
    requests: list[Any] = []

    def answer(request: Any) -> Any:
        requests.append(request)
        return httpx.Response(200, headers={"Content-Type": "application/json"}, stream=httpx.ByteStream(raw))

    monkeypatch.setitem(http.HTTPX_DEFAULTS, "transport", httpx.MockTransport(answer))
    return requests


# dataretrieval announces the removal of nwis.get_dv (2027-05-06) in favour of waterdata.get_daily
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_nwis_recorded_response(nwis_service: list[Any]) -> None:
    import datetime as dt

    src = NwisGauges({"15744500": 81320300011, "15000000": 81320300021}, dt.date(2023, 7, 1), dt.date(2023, 7, 8))
    (g,) = src.load()  # the recorded answer has no data for the second site
    (request,) = nwis_service
    assert request.url.host == "waterservices.usgs.gov" and request.url.path.startswith("/nwis/dv")
    params = request.url.params
    assert params["parameterCd"] == "00060" and params["statCd"] == "00003"
    assert params["sites"] == "15000000,15744500" and params["startDT"] == "2023-07-01"
    assert (g.agency, g.site, g.reach_id) == ("USGS", "15744500", 81320300011)
    assert g.qt[0] == date_to_qt(dt.date(2023, 7, 1)) and g.qt.size == 8
    assert g.q[0] == pytest.approx(56500.0 * CFS_TO_CMS)  # 1599.90 m3/s, as in the USGS CSV
    assert g.q[0] == pytest.approx(1599.901832448)
    assert np.isnan(g.q[5])  # the -999999 no-data day


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_nwis_error_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import datetime as dt

    httpx = pytest.importorskip("httpx")
    from dataretrieval.transport import http

    monkeypatch.setitem(http.HTTPX_DEFAULTS, "transport",
                        httpx.MockTransport(lambda request: httpx.Response(400, text="bad request")))
    with pytest.raises(ConfluenceError, match=r"waterservices\.usgs\.gov/nwis/dv/: NWIS daily values request failed"):
        nwis_daily(["15744500"], dt.date(2023, 7, 1), dt.date(2023, 7, 8))


def test_merge_newer_valid_values_win() -> None:
    a = GaugeSeries("USGS", "1", 1, np.array([1, 2, 3]), np.array([1.0, 2.0, 3.0]), 0, "SoS")
    b = GaugeSeries("USGS", "1", 1, np.array([3, 4, 2]), np.array([30.0, 40.0, np.nan]), None, "NWIS")
    m = merge_series(a, b)
    assert m.qt.tolist() == [1, 2, 3, 4] and m.q.tolist() == [1.0, 2.0, 30.0, 40.0] and m.cal == 0


def test_kobuk_usgs_record(shared_data: Path, tmp_path: Path) -> None:
    """The real 731-day Kobuk record (USGS 15744500) through the CSV source."""
    import csv

    rows = list(csv.DictReader((shared_data / "real_swot_kobuk" / "usgs_15744500_daily.csv").open()))
    lines = ["agency,site,reach_id,date,discharge_cms"]
    lines += [f"USGS,15744500,81320300011,{r['time_local']},{r['q_cms']}" for r in rows]
    (g,) = CsvGaugeFile(write(tmp_path / "kobuk.csv", "\n".join(lines) + "\n")).load()
    s = gauge_stats(g.qt, g.q)
    q = np.array([float(r["q_cms"]) for r in rows])
    assert s.n_days == 731 and s.mean_q == pytest.approx(q.mean())
    # record years July 2023 - June 2024 and July 2024 - June 2025, both complete
    first = np.array([r["time_local"] < "2024-07-01" for r in rows])
    assert s.n_years == 2
    assert s.two_year_return_q == pytest.approx(np.median([q[first].max(), q[~first].max()]))
    assert s.monthly_q[0] == pytest.approx(q[[r["time_local"][5:7] == "01" for r in rows]].mean())
