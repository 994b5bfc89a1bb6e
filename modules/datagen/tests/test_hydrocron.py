"""Hydrocron source of datagen: recorded answers only (fake transport or a 127.0.0.1 server), never the network."""

from __future__ import annotations

import http.server
import json
import shutil
import threading
from collections.abc import Iterator
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
def server(kobuk: Path) -> Iterator[str]:
    """A local HTTP server: Kobuk reaches answer their recorded CSV, others the recorded 400."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            rid = self.path.split("feature_id=")[1].split("&")[0]
            path = kobuk / f"{rid}.csv"
            status, body = (200, path.read_bytes()) if path.exists() else (
                400, (DATA / "400_unknown_reach.json").read_bytes())
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/hydrocron/v1/timeseries"
    httpd.shutdown()


def test_live_path_over_http_other_reaches_go_on(server: str, mnt: Path) -> None:
    c = hc.HydrocronClient(url=server, min_interval_s=0.0, retries=1)
    records, failed = hc.collect([81320300011, 81320300991], None, c, "2023-01-01T00:00:00Z", "2026-01-01T00:00:00Z")
    assert list(records) == [81320300011]
    assert records[81320300011].n_rows == 195 and records[81320300011].n_placeholder == 28
    assert records[81320300011].time.size == 167
    assert "were not found" in failed[81320300991]


@pytest.mark.parametrize(("name", "reason"), [
    ("empty_result.csv", "empty result"),
    ("malformed.csv", "malformed CSV: line 2 has 5 fields"),
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


def test_mean_flow_prior_is_the_inverted_relation() -> None:
    w = np.array([700.0, 720.0, 740.0, 9000.0, np.nan, -5.0])
    assert hc.mean_flow_prior(w) == pytest.approx((730.0 / 7.2) ** 2)
    assert np.isnan(hc.mean_flow_prior(np.array([np.nan])))


def test_mean_flow_prior_uses_the_good_passes_when_five() -> None:
    w = np.array([100.0, 110.0, 120.0, 130.0, 140.0, 5000.0, 6000.0, 7000.0, 8000.0, 9000.0, 9500.0])
    q = np.array([1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3])
    assert hc.mean_flow_prior(w, q) == pytest.approx((120.0 / 7.2) ** 2)
    assert hc.mean_flow_prior(w, np.where(q == 1, 2, q)) == pytest.approx((5000.0 / 7.2) ** 2)  # < 5 good


def test_mean_flow_prior_on_pepsi1_rivers(shared_data: Path) -> None:
    """The no-model prior against the true mean flow of the Pepsi-1 rivers (bench/noprior_eval.py)."""
    netCDF4 = pytest.importorskip("netCDF4")
    files = sorted((shared_data / "pepsi1").glob("*.nc"))
    assert len(files) == 8
    log_ratio = []
    for path in files:
        with netCDF4.Dataset(path) as ds:
            ds.set_auto_mask(False)
            good = np.asarray(ds["River_Info/gdrch"][:]).astype(int).ravel() - 1
            w = np.asarray(ds["Reach_Timeseries/W"][:], dtype=float)[:, good]
            q = np.asarray(ds["Reach_Timeseries/Q"][:], dtype=float)[:, good]
        prior = np.array([hc.mean_flow_prior(w[:, j]) for j in range(good.size)])
        log_ratio.append(np.mean(np.log(prior / np.nanmean(q, axis=0))))
    assert np.median(np.abs(log_ratio)) == pytest.approx(0.62, abs=0.01)


def test_reach_ids_and_topology(tmp_path: Path) -> None:
    f = tmp_path / "ids.txt"
    f.write_text("81320300021\n81320300011, 81320300041\n")
    assert hc.parse_reach_ids(str(f)) == [81320300011, 81320300021, 81320300041]
    with pytest.raises(Exception, match="not an 11-digit"):
        hc.parse_reach_ids("8132030001")
    net = hc.network([81320300011, 81320300021, 81320300041])
    assert net.up[:, 0].tolist() == [81320300021, 0, 0] and net.dn[:, 0].tolist() == [0, 81320300011, 0]
