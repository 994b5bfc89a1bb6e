"""Hydrocron source of datagen: recorded answers only (fake transport or a 127.0.0.1 server), never the network."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from confluence_core import ncio
from confluence_datagen import hydrocron as hc

DATA = Path(__file__).parent / "data" / "hydrocron"
KOBUK = [81320300011, 81320300021, 81320300031, 81320300041, 81320300051]


@pytest.fixture()
def kobuk(shared_data: Path) -> Path:
    return shared_data / "real_swot_kobuk" / "reaches"


class FakeTransport:
    """Answers from a list of (status, headers, body) per reach id, recording every URL asked."""

    def __init__(self, answers: dict[str, list[tuple[int, dict[str, str], bytes]]]) -> None:
        self.answers = answers
        self.urls: list[str] = []

    def __call__(self, url: str, headers: dict[str, str], timeout: float) -> tuple[int, dict[str, str], bytes]:
        self.urls.append(url)
        rid = url.split("feature_id=")[1].split("&")[0]
        return self.answers[rid].pop(0)


def client(transport: FakeTransport, sleeps: list[float]) -> hc.HydrocronClient:
    return hc.HydrocronClient(url="https://example.invalid/timeseries", transport=transport, retries=3,
                              backoff_s=2.0, min_interval_s=0.0, sleep=sleeps.append)


def test_400_is_one_clear_error_and_not_retried() -> None:
    fake = FakeTransport({"81320300991": [(400, {}, (DATA / "400_unknown_reach.json").read_bytes())]})
    with pytest.raises(hc.HydrocronError, match=r"reach 81320300991: .*HTTP 400: 400: Results with the "
                                                r"specified Feature ID 81320300991 were not found"):
        client(fake, []).reach_csv(81320300991, "2023-01-01T00:00:00Z", "2025-01-01T00:00:00Z")
    assert len(fake.urls) == 1


def test_429_is_retried_with_backoff_then_succeeds(kobuk: Path) -> None:
    body = (kobuk / "81320300011.csv").read_bytes()
    throttle = (429, {"retry-after": "5"}, (DATA / "429_throttled.json").read_bytes())
    fake = FakeTransport({"81320300011": [throttle, (503, {}, b""), (200, {}, body)]})
    sleeps: list[float] = []
    text = client(fake, sleeps).reach_csv(81320300011, "2023-01-01T00:00:00Z", "2025-01-01T00:00:00Z")
    assert text == body.decode()
    assert sleeps == [5.0, 4.0]  # Retry-After wins over the 2 s backoff, then 2 * 2 s
    assert "feature=Reach" in fake.urls[0] and "output=csv" in fake.urls[0]


def test_429_until_out_of_retries() -> None:
    throttle = (429, {}, (DATA / "429_throttled.json").read_bytes())
    fake = FakeTransport({"81320300011": [throttle] * 3})
    with pytest.raises(hc.HydrocronError, match="reach 81320300011: Hydrocron failed 3 times, last: HTTP 429: "
                                                "Too Many Requests"):
        client(fake, []).reach_csv(81320300011, "a", "b")


def test_json_wrapped_answer(kobuk: Path) -> None:
    text = (kobuk / "81320300021.csv").read_text()
    body = json.dumps({"status": "200 OK", "hits": 195, "results": {"csv": text, "geojson": {}}}).encode()
    assert hc.response_csv(body, 81320300021) == text
    assert hc.response_csv(json.dumps(text).encode(), 81320300021) == text


@pytest.fixture()
def server(kobuk: Path, local_http: Callable[..., str]) -> str:
    """A local HTTP server: Kobuk reaches answer their recorded CSV, others the recorded 400."""

    def answer(path: str) -> tuple[int, dict[str, str], bytes]:
        recorded = kobuk / f"{path.split('feature_id=')[1].split('&')[0]}.csv"
        if recorded.exists():
            return 200, {}, recorded.read_bytes()
        return 400, {}, (DATA / "400_unknown_reach.json").read_bytes()

    return local_http(answer) + "/hydrocron/v1/timeseries"


def test_live_path_over_http_other_reaches_go_on(server: str, mnt: Path) -> None:
    c = hc.HydrocronClient(url=server, min_interval_s=0.0, retries=1)
    records, failed = hc.collect([81320300011, 81320300991], None, c, "2023-01-01T00:00:00Z", "2026-01-01T00:00:00Z")
    assert list(records) == [81320300011]
    assert records[81320300011].n_rows == 195 and records[81320300011].n_placeholder == 28
    assert records[81320300011].time.size == 167
    assert "were not found" in failed[81320300991]


@pytest.mark.parametrize(("name", "reason"), [
    ("empty_result.csv", "empty result"),
    ("malformed.csv", r"no usable row (1 row: not 6 fields like the header (line 2))"),
    ("only_no_data.csv", "all 2 rows are no_data placeholders"),
])
def test_bad_answers_one_message_each(tmp_path: Path, kobuk: Path, name: str, reason: str) -> None:
    rid = int((DATA / name).read_text().splitlines()[-1].split(",")[0]) if name != "empty_result.csv" \
        else 81320300061
    shutil.copy(DATA / name, tmp_path / f"{rid}.csv")
    shutil.copy(kobuk / "81320300011.csv", tmp_path / "81320300011.csv")
    records, failed = hc.collect([81320300011, rid], tmp_path, None, "", "")
    assert list(records) == [81320300011]
    assert failed[rid].startswith(f"{tmp_path / f'{rid}.csv'}: reach {rid}: {reason}")


def test_kobuk_folder_builds_lists_sword_and_sos(mnt: Path, kobuk: Path) -> None:
    assert hc.is_hydrocron_folder(kobuk)
    records, failed = hc.collect(KOBUK, kobuk, None, "", "")
    assert not failed
    out = hc.build("na", records, 16)
    assert [e["reach_id"] for e in out["reaches"]] == KOBUK
    assert out["s3_reach"]["81320300031"] == ["hydrocron/81320300031.csv"]
    assert (mnt / "input" / "hydrocron" / "81320300031.csv").read_bytes() == (kobuk / "81320300031.csv").read_bytes()
    # ids grow upstream: 051 -> 041 -> 031 is a set; 011 and 021 are seen on other passes
    assert [[e["reach_id"] for e in s] for s in out["metrosets"]] == [
        [81320300051, 81320300041, 81320300031], [81320300011], [81320300021]]
    with ncio.open_dataset(mnt / "input" / "sword" / "na_sword_v16.nc") as ds:
        up = ds["reaches/rch_id_up"][0, :]
        assert up.tolist() == [81320300021, 81320300031, 81320300041, 81320300051, 0]
        assert np.all(ncio.read_float(ds["reaches"], "facc") != ncio.read_float(ds["reaches"], "facc"))  # NaN
        length = ncio.read_float(ds["reaches"], "reach_length")
        assert np.all((length > 5000) & (length < 30000))
    with ncio.open_dataset(mnt / "input" / "sos" / "na_sword_v16_SOS_priors.nc") as ds:
        q = ncio.read_float(ds["model"], "mean_q")
        assert np.all(q > 100) and ds["model/bad_priors"][:].tolist() == [1] * 5
        assert "Moody & Troutman" in ds["model/bad_prior_source"][0]
        sd = ncio.read_float(ds["model"], hc.MEAN_Q_SD_VAR)
        assert np.all((sd >= hc.prior.BASE_SD_LN) & (sd < 3.0))
        assert "sqrt(ln 2)" in ds["model"][hc.MEAN_Q_SD_VAR].source


def test_reach_ids(tmp_path: Path) -> None:
    f = tmp_path / "ids.txt"
    f.write_text("81320300021\n81320300011, 81320300041\n")
    assert hc.parse_reach_ids(str(f)) == [81320300011, 81320300021, 81320300041]
    with pytest.raises(Exception, match="not an 11-digit"):
        hc.parse_reach_ids("8132030001")


@pytest.mark.parametrize(("text", "reason"), [
    ("reach_id,time_str,wse\n81320300011,2024-07-01T00:00:00Z,1.0,2.0,3.0\n",
     r"no usable row \(1 row: not 3 fields like the header \(line 2\)\)"),
    ("reach_id,time_str\n81320300011,2024-07-01T00:00:00\n",
     r"no usable row \(1 row: time_str is not YYYY-MM-DDThh:mm:ssZ \(line 2\)\)"),
    ("reach_id,time_str,reach_q\n81320300011,2024-07-01T00:00:00Z,abc\n",
     r"no usable row \(1 row: reach_q is not a number \(line 2\)\)"),
    ("reach_id,time_str,width_units\n81320300011,2024-07-01T00:00:00Z,km\n",
     "line 2: column width_units says 'km', the contract unit of width is 'm'"),
    ("reach_id,wse\n81320300011,1.0\n", "malformed CSV: no column time_str in the header"),
    ("reach_id,time_str\n81320300012,2024-07-01T00:00:00Z\n", r"the response holds reach ids \['81320300012'\]"),
    (" \n\n", r"empty response \(no header, no rows\)"),
])
def test_check_response_reasons(text: str, reason: str) -> None:
    with pytest.raises(hc.HydrocronError, match=f"r.csv: reach 81320300011: {reason}"):
        hc.check_response(text, 81320300011, "r.csv")


def test_check_response_fills_placeholders_and_blank_lines() -> None:
    text = (" , ,\nreach_id,time_str,width,reach_q,cycle_id,width_units,river_name\n"
            "81320300011,2024-07-22T00:00:00.5Z,-999999999999.0,,18,m,Kobuk River\n\n"
            "81320300011,no_data,-999999999999.0,-999,-99999999,m,no_data\n"
            "81320300011,2024-07-01T00:00:00Z, 310.5 ,1,17,m,Kobuk River\n")
    rec = hc.check_response(text, 81320300011, "r.csv")
    assert (rec.n_rows, rec.n_placeholder) == (3, 1)
    assert rec.time.tolist() == [773107200.0, 774921600.5]  # s since 2000-01-01, in time order
    np.testing.assert_array_equal(rec.width, [310.5, np.nan])
    np.testing.assert_array_equal(rec.reach_q, [1.0, np.nan])
    assert rec.columns["cycle_id"].tolist() == [17.0, 18.0] and "width_units" not in rec.columns
    assert np.isnan(rec.columns["river_name"]).all()  # a text column: no numbers, no error
    assert rec.lines.tolist() == [4, 2] and rec.units == {"width": "m"}
    assert np.isnan(rec.area_total).all() and rec.text == text
