"""confluence_core.sos_podaac: the PO.DAAC SoS from recorded CMR answers and a small SoS file, never the network.

``responses`` intercepts every ``requests`` call (an unregistered URL fails the
test): a fake CMR answers ``granules.umm_json`` from ``data/sos_podaac/*.json``
(filtered by short name and granule-name pattern as CMR does) and the granules'
HTTPS links serve a small SoS priors file written here to the SoS layout
(:mod:`confluence_core.sos`).  Earthdata Login is the real earthaccess code,
its token endpoint answered by the fake too.
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import netCDF4
import numpy as np
import pytest
from confluence_core import ncio, sos
from confluence_core import sos_podaac as sp
from confluence_core.errors import ConfluenceError

responses = pytest.importorskip("responses")
requests = pytest.importorskip("requests")
pytest.importorskip("earthaccess")

DATA = Path(__file__).parent / "data" / "sos_podaac"
CMR_ROOT = "https://cmr.test.example/search/"
URS_TOKEN = "https://urs.earthdata.nasa.gov/api/users/find_or_create_token"
V3 = "SWOT_L4_HR_DAWG_SOS_DISCHARGE_V3"
NA_PRIORS = "na_sword_v16_SOS_priors_unconstrained_20230502T204408_20250502T204408_20251219T163700.nc"
NA_PRIORS_C = "na_sword_v16_SOS_priors_constrained_20230502T204408_20250502T204408_20251219T163700.nc"
HOST = "https://archive.podaac.earthdata.nasa.gov/podaac-ops-cumulus-protected"
AGENCY = "USGS"


# --- a small SoS priors file -------------------------------------------------------------

def write_sos(path: Path, *, style: str = "project", drop: tuple[str, ...] = (), gauge_agency: str = AGENCY,
              gbpriors: bool = True, n_reach: int = 3, stray_node: bool = False) -> Path:
    """Write a 3-reach, 6-node SoS priors file; ``style`` "podaac" uses the published files' spellings.

    ``drop`` names ``group/variable`` entries (or whole groups) to leave out.
    """
    rng = np.random.default_rng(7)
    R, K, G, D = n_reach, 2 * n_reach, 2, 10
    reach_id = np.array([74269900011 + 10 * i for i in range(R)], dtype=np.int64)
    node_reach = np.repeat(reach_id, 2)
    if stray_node:
        node_reach[-1] = 74269999991
    node_id = np.array([int(f"{str(r)[:10]}{k:03d}1") for k, r in enumerate(node_reach)], dtype=np.int64)
    mean = rng.uniform(10, 100, R)

    def put(group: Any, gpath: str, name: str, data: Any, dims: tuple[str, ...], dtype: str = "f8") -> None:
        if f"{gpath}/{name}" not in drop:
            ncio.write_var(group, name, data, dims, dtype)

    def text(group: Any, gpath: str, name: str, values: list[str], dim: str) -> None:
        if f"{gpath}/{name}" in drop:
            return
        if style == "podaac":  # char arrays, as the published files
            if "nchars" not in group.dimensions:
                group.createDimension("nchars", 16)
            ncio.write_strings(group, name, values, (dim,), char_dim="nchars")
        else:
            var = group.createVariable(name, str, (dim,))
            var[:] = np.asarray(values, dtype=object)

    with ncio.create(path, gauge_agency=gauge_agency, product_version="0003", sword_version="16",
                     continent="na") as ds:
        ds.createDimension(sos.REACH_DIM, R)
        ds.createDimension(sos.NODE_DIM, K)
        ds.createDimension(sos.MONTH_DIM, sos.N_MONTHS)
        ds.createDimension(sos.PROB_DIM, len(sos.EXCEEDANCE))
        rg = ds.createGroup("reaches")
        put(rg, "reaches", "reach_id", reach_id, (sos.REACH_DIM,), "i8")
        put(rg, "reaches", "x", rng.uniform(-160, -150, R), (sos.REACH_DIM,))
        put(rg, "reaches", "y", rng.uniform(60, 70, R), (sos.REACH_DIM,))
        text(rg, "reaches", "river_name", ["Kobuk River"] * R, sos.REACH_DIM)
        ng = ds.createGroup("nodes")
        put(ng, "nodes", "node_id", node_id, (sos.NODE_DIM,), "i8")
        put(ng, "nodes", "reach_id", node_reach, (sos.NODE_DIM,), "i8")
        if "model" not in drop:
            mg = ds.createGroup("model")
            for name, scale in (("mean_q", 1.0), ("min_q", 0.1), ("max_q", 5.0), ("two_year_return_q", 3.0)):
                put(mg, "model", name, mean * scale, (sos.REACH_DIM,))
            put(mg, "model", "monthly_q", mean[:, None] * np.linspace(0.5, 1.5, 12), (sos.REACH_DIM, sos.MONTH_DIM))
            put(mg, "model", "flow_duration_q", mean[:, None] * np.linspace(3, 0.1, 20), (sos.REACH_DIM, sos.PROB_DIM))
            put(mg, "model", "probability", np.asarray(sos.EXCEEDANCE, float), (sos.PROB_DIM,))
            if style == "podaac":
                put(mg, "model", "area_estimate_flag", np.zeros(R), (sos.REACH_DIM,), "i4")
        if gbpriors:
            gb = ds.createGroup("gbpriors")
            for level, dim, n in (("reach", sos.REACH_DIM, R), ("node", sos.NODE_DIM, K)):
                lg = gb.createGroup(level)
                gpath = f"gbpriors/{level}"
                for p in sos.GB_PARAMS:
                    put(lg, gpath, f"{p}_hat", rng.normal(size=n), (dim,))
                    put(lg, gpath, f"{p}_sd", rng.uniform(0.1, 1, n), (dim,))
                    if style == "podaac":
                        lo, hi = ("lowerbound_A0", "upperbound_A0") if p == "logA0" else \
                            (f"lowerbound_{p}", f"upperbound_{p}")
                    else:
                        lo, hi = f"lower_{p}", f"upper_{p}"
                    put(lg, gpath, lo, np.full(n, -5.0), (dim,))
                    put(lg, gpath, hi, np.full(n, 5.0), (dim,))
                for name in sos.GB_EXTRA:
                    put(lg, gpath, name, np.ones(n), (dim,), "i4" if name == "river_type" else "f8")
        if gauge_agency and AGENCY not in drop:
            A = AGENCY
            ag = ds.createGroup(A)
            if style == "podaac":  # dimensions inside the group, as the published files
                gd, dd = f"num_{A}_reaches", "num_days"
                ag.createDimension(gd, G)
                ag.createDimension(dd, D)
            else:
                gd, dd = sos.agency_dim(A), sos.agency_days_dim(A)
                ds.createDimension(gd, G)
                ds.createDimension(dd, D)
            put(ag, A, f"{A}_reach_id", reach_id[:G], (gd,), "i8")
            text(ag, A, f"{A}_id", ["15744500", "15746000"], gd)
            qt = np.array([sos.date_to_qt(sos.qt_to_date(738000 + d)) for d in range(D)], float)
            put(ag, A, f"{A}_q", rng.uniform(5, 50, (G, D)), (gd, dd))
            put(ag, A, f"{A}_qt", np.tile(qt, (G, 1)), (gd, dd))
            for s in ("mean_q", "min_q", "max_q", "two_year_return_q"):
                put(ag, A, f"{A}_{s}", rng.uniform(5, 50, G), (gd,))
            put(ag, A, f"{A}_monthly_q", rng.uniform(5, 50, (G, 12)), (gd, sos.MONTH_DIM))
            put(ag, A, f"{A}_flow_duration_q", rng.uniform(5, 50, (G, 20)), (gd, sos.PROB_DIM))
            put(ag, A, "CAL" if style == "podaac" else f"{A}_CAL", np.array([1, 0]), (gd,), "i4")
    return path


# --- a fake CMR and PO.DAAC --------------------------------------------------------------

def recorded(name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads((DATA / name).read_text())["items"]
    return items


@dataclass
class FakePodaac:
    """CMR granules (filtered as CMR filters them), served files, token endpoint, and what was asked."""

    mock: Any
    items: list[dict[str, Any]] = field(default_factory=lambda: recorded("cmr_v3.json") + recorded("cmr_v1.json"))
    cmr_queries: list[dict[str, list[str]]] = field(default_factory=list)
    cmr_failures: list[int] = field(default_factory=list)
    downloads: list[dict[str, Any]] = field(default_factory=list)

    def cmr(self, request: Any) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url).query)
        self.cmr_queries.append(query)
        if self.cmr_failures:
            return self.cmr_failures.pop(0), {"Content-Type": "application/json"}, \
                json.dumps({"errors": ["An Internal Error has occurred."]})
        short = query.get("short_name", query.get("short_name[]", [""]))[0]
        patterns = query.get("readable_granule_name", []) + query.get("readable_granule_name[]", [])
        hits = [it for it in self.items if it["umm"]["CollectionReference"]["ShortName"] == short
                and any(fnmatch.fnmatchcase(it["umm"]["GranuleUR"], p) for p in patterns)]
        size = int(query.get("page_size", ["10"])[0])
        body = {"hits": len(hits), "took": 5, "items": hits[:size] if size else []}
        return 200, {"Content-Type": "application/json", "CMR-Hits": str(len(hits))}, json.dumps(body)

    def serve(self, name: str, path: Path, *, status: int = 200, body: bytes | None = None,
              size: str = "bytes", checksum: str | None = "md5") -> str:
        """Serve ``path`` (or ``body``) at the HTTPS link of file ``name``; CMR's size/MD5 become the file's.

        ``size``: "bytes" (``SizeInBytes``), "mb" (``Size`` in MB) or "none" (no size in CMR).
        """
        data = path.read_bytes()
        url = ""
        for it in self.items:
            for e in it["umm"]["DataGranule"]["ArchiveAndDistributionInformation"]:
                if e["Name"] != name:
                    continue
                for key in ("SizeInBytes", "Size", "SizeUnit"):
                    e.pop(key, None)
                if size == "mb":
                    e.update(Size=len(data) / 1024**2, SizeUnit="MB")
                elif size == "bytes":
                    e["SizeInBytes"] = len(data)
                if checksum == "md5":
                    e["Checksum"] = {"Value": hashlib.md5(data).hexdigest(), "Algorithm": "MD5"}
                elif checksum is None:
                    e.pop("Checksum", None)
            url = next((u["URL"] for it in self.items for u in it["umm"]["RelatedUrls"]
                        if u["Type"] == "GET DATA" and u["URL"].endswith("/" + name)), url)
        assert url, name
        payload = data if body is None else body

        def answer(request: Any) -> tuple[int, dict[str, str], bytes]:
            self.downloads.append({"url": request.url, "auth": request.headers.get("Authorization")})
            return status, {"Content-Type": "application/octet-stream"}, payload

        self.mock.add_callback(responses.GET, url, callback=answer)
        return url


@pytest.fixture()
def podaac(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakePodaac]:
    """The fake at ``CMR_ROOT`` and the archive host; no Earthdata credentials; retries wait no time."""
    monkeypatch.setattr(sp, "DOWNLOAD_BACKOFF_S", 0.0)
    monkeypatch.setattr(sp, "CMR_BACKOFF_S", 0.0)
    for var in ("EARTHDATA_USERNAME", "EARTHDATA_PASSWORD", "EARTHDATA_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakePodaac(mock, items=copy.deepcopy(recorded("cmr_v3.json") + recorded("cmr_v1.json")))
        mock.add_callback(responses.GET, re.compile(re.escape(f"{CMR_ROOT}granules.umm_json")), fake.cmr)
        yield fake


@pytest.fixture()
def small_sos(tmp_path: Path) -> Path:
    return write_sos(tmp_path / "served" / "small_priors.nc")


def one_line(exc: pytest.ExceptionInfo[ConfluenceError]) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


# --- fetch_priors ------------------------------------------------------------------------

def test_fetch_downloads_newest_priors_of_branch_and_reuses_the_cache(podaac: FakePodaac, small_sos: Path,
                                                                      tmp_path: Path) -> None:
    url = podaac.serve(NA_PRIORS, small_sos)
    cache = tmp_path / "cache"
    got = sp.fetch_priors("na", cache, session=requests.Session(), cmr_url=CMR_ROOT)
    assert got.path == cache / NA_PRIORS and got.path.read_bytes() == small_sos.read_bytes()
    assert (got.collection, got.version, got.branch, got.continent) == (V3, "3", "unconstrained", "na")
    assert got.granule_id == NA_PRIORS.removesuffix(".nc") and got.concept_id == "G3905100002-POCLOUD"
    assert got.source_url == url == f"{HOST}/{V3}/{NA_PRIORS}"
    assert got.s3_url == f"s3://podaac-ops-cumulus-protected/{V3}/{NA_PRIORS}"
    assert got.checksum == f"MD5:{hashlib.md5(small_sos.read_bytes()).hexdigest()}"
    assert got.sha256 == hashlib.sha256(small_sos.read_bytes()).hexdigest()
    assert got.size == small_sos.stat().st_size and got.downloaded and got.product_version == "0003"
    # CMR was asked for this collection's granules of the continent only
    q = podaac.cmr_queries[-1]
    assert q["short_name"] == [V3] and q["readable_granule_name"] == ["na_sword_*"]
    assert q["options[readable_granule_name][pattern]"] == ["true"]
    record = json.loads((cache / f"{NA_PRIORS}.json").read_text())
    assert record == json.loads(json.dumps(got.record())) and record["path"] == str(got.path)
    assert [p.name for p in cache.iterdir() if p.name.startswith(".")] == []

    again = sp.fetch_priors("na", cache, session=requests.Session(), cmr_url=CMR_ROOT)
    assert len(podaac.downloads) == 1  # the second call found the file in the cache
    assert not again.downloaded and again.sha256 == got.sha256 and again.path == got.path


def test_cached_file_needs_no_login_and_a_wrong_size_is_downloaded_again(podaac: FakePodaac, small_sos: Path,
                                                                         tmp_path: Path) -> None:
    podaac.serve(NA_PRIORS, small_sos)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / NA_PRIORS).write_bytes(small_sos.read_bytes())  # put there by hand: no record beside it
    got = sp.fetch_priors("na", cache, cmr_url=CMR_ROOT)  # no session, no credentials: no login tried
    assert not got.downloaded and got.sha256 is None and podaac.downloads == []

    (cache / NA_PRIORS).write_bytes(b"CDF\x01 something else")
    with pytest.raises(ConfluenceError, match="no Earthdata Login credentials") as exc:
        sp.fetch_priors("na", cache, cmr_url=CMR_ROOT)  # must download now, and has no credentials
    assert "EARTHDATA_USERNAME" in one_line(exc) and ".netrc" in str(exc.value)
    got = sp.fetch_priors("na", cache, session=requests.Session(), cmr_url=CMR_ROOT)
    assert got.downloaded and (cache / NA_PRIORS).read_bytes() == small_sos.read_bytes()


def test_constrained_branch_and_version_1_two_file_granule(podaac: FakePodaac, small_sos: Path,
                                                           tmp_path: Path) -> None:
    podaac.serve(NA_PRIORS_C, small_sos)
    got = sp.fetch_priors("na", tmp_path / "c", branch="constrained", session=requests.Session(), cmr_url=CMR_ROOT)
    assert got.file_name == NA_PRIORS_C and got.branch == "constrained"

    v1 = "eu_sword_v15_SOS_unconstrained_0001_20240228T205029_priors.nc"
    podaac.serve(v1, small_sos, size="mb")  # version 1 gives sizes in MB
    got = sp.fetch_priors("eu", tmp_path / "c", version="1", session=requests.Session(), cmr_url=CMR_ROOT)
    assert (got.collection, got.version, got.file_name) == ("SWOT_L4_DAWG_SOS_DISCHARGE", "1", v1)
    assert got.granule_id == "eu_sword_v15_SOS_unconstrained_0001_20240228T205029"  # the _results.nc is left
    assert podaac.cmr_queries[-1]["short_name"] == ["SWOT_L4_DAWG_SOS_DISCHARGE"]
    again = sp.fetch_priors("eu", tmp_path / "c", version="v1", session=requests.Session(), cmr_url=CMR_ROOT)
    assert not again.downloaded  # the size in MB matches the cached file


def test_no_matching_granule_is_one_line_naming_the_collection(podaac: FakePodaac, tmp_path: Path) -> None:
    with pytest.raises(ConfluenceError) as exc:
        sp.fetch_priors("oc", tmp_path, session=requests.Session(), cmr_url=CMR_ROOT)
    assert one_line(exc) == f"PO.DAAC {V3}: no granule for continent 'oc' (granule names oc_sword_*)"
    with pytest.raises(ConfluenceError) as exc:  # eu has a results granule only
        sp.fetch_priors("eu", tmp_path, session=requests.Session(), cmr_url=CMR_ROOT)
    assert one_line(exc).startswith(f"PO.DAAC {V3}: 1 granule(s) for 'eu' but no unconstrained priors file")
    assert "eu_sword_v16_SOS_results_unconstrained" in str(exc.value)
    with pytest.raises(ConfluenceError, match="no constrained priors file"):
        sp.fetch_priors("sa", tmp_path, branch="constrained", session=requests.Session(), cmr_url=CMR_ROOT)
    for kwargs, pattern in (({"branch": "gauged"}, "unknown branch 'gauged'"),
                            ({"version": "2"}, r"unknown version '2'; known versions: 1 \(SWOT_L4_DAWG")):
        with pytest.raises(ConfluenceError, match=pattern):
            sp.fetch_priors("na", tmp_path, cmr_url=CMR_ROOT, **kwargs)
    with pytest.raises(ConfluenceError, match="unknown continent 'xx'"):
        sp.fetch_priors("xx", tmp_path, cmr_url=CMR_ROOT)


def test_cmr_failure_is_one_line(podaac: FakePodaac, tmp_path: Path) -> None:
    podaac.cmr_failures = [500]
    with pytest.raises(ConfluenceError) as exc:
        sp.fetch_priors("na", tmp_path, session=requests.Session(), cmr_url=CMR_ROOT)
    assert one_line(exc) == (f"PO.DAAC {V3}: CMR search failed: HTTP 500 Internal Server Error: "
                             f"An Internal Error has occurred. ({CMR_ROOT})")


def test_http_500_is_retried_then_one_line_and_leaves_nothing(podaac: FakePodaac, small_sos: Path,
                                                              tmp_path: Path) -> None:
    url = podaac.serve(NA_PRIORS, small_sos, status=500, body=b"Internal Server Error")
    cache = tmp_path / "cache"
    with pytest.raises(ConfluenceError) as exc:
        sp.fetch_priors("na", cache, session=requests.Session(), cmr_url=CMR_ROOT)
    assert one_line(exc) == (f"PO.DAAC {V3}: download of {NA_PRIORS} failed after {sp.DOWNLOAD_ATTEMPTS} "
                             f"attempt(s): HTTP 500 Internal Server Error ({url})")
    assert len(podaac.downloads) == sp.DOWNLOAD_ATTEMPTS
    assert list(cache.iterdir()) == []  # no half-written file, no record


def test_a_transient_error_then_success(podaac: FakePodaac, small_sos: Path, tmp_path: Path) -> None:
    podaac.serve(NA_PRIORS, small_sos)
    url = f"{HOST}/{V3}/{NA_PRIORS}"
    podaac.mock.replace(responses.GET, url, status=503, headers={"Retry-After": "0"})  # first answer: 503
    podaac.mock.add(responses.GET, url, body=small_sos.read_bytes(), status=200)
    got = sp.fetch_priors("na", tmp_path / "cache", session=requests.Session(), cmr_url=CMR_ROOT)
    assert got.downloaded and got.path.read_bytes() == small_sos.read_bytes()
    assert [c.response.status_code for c in podaac.mock.calls if c.request.url == url] == [503, 200]


def test_download_is_atomic_and_verified(podaac: FakePodaac, small_sos: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    good = small_sos.read_bytes()
    url = podaac.serve(NA_PRIORS, small_sos, body=good[: len(good) // 2])  # cut short
    with pytest.raises(ConfluenceError) as exc:
        sp.fetch_priors("na", cache, session=requests.Session(), cmr_url=CMR_ROOT)
    assert one_line(exc) == (f"PO.DAAC {V3}: download of {NA_PRIORS} failed: got {len(good) // 2} bytes, "
                             f"CMR gives {len(good)} ({url})")
    assert list(cache.iterdir()) == []

    podaac.mock.replace(responses.GET, url, body=good[:-1] + b"\x00", status=200)  # right size, wrong bytes
    with pytest.raises(ConfluenceError, match=r"MD5 checksum [0-9a-f]{32} differs from CMR's"):
        sp.fetch_priors("na", cache, session=requests.Session(), cmr_url=CMR_ROOT)
    assert list(cache.iterdir()) == []

    html = b"<html><body>Earthdata Login</body></html>"
    podaac.serve(NA_PRIORS, small_sos, size="none", checksum=None)
    podaac.mock.replace(responses.GET, url, body=html, status=200, content_type="text/html")
    with pytest.raises(ConfluenceError, match="got the Earthdata Login page"):
        sp.fetch_priors("na", cache, session=requests.Session(), cmr_url=CMR_ROOT)
    podaac.mock.replace(responses.GET, url, body=b"not netcdf", status=200)
    with pytest.raises(ConfluenceError, match="the answer is not a NetCDF file"):
        sp.fetch_priors("na", cache, session=requests.Session(), cmr_url=CMR_ROOT)
    assert list(cache.iterdir()) == []
    podaac.mock.replace(responses.GET, url, status=403)
    with pytest.raises(ConfluenceError, match=r"Earthdata Login refused access \(HTTP 403\)"):
        sp.fetch_priors("na", cache, session=requests.Session(), cmr_url=CMR_ROOT)


def test_earthdata_login_bad_credentials_token_and_none(podaac: FakePodaac, small_sos: Path,
                                                        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    podaac.serve(NA_PRIORS, small_sos)
    monkeypatch.setenv("EARTHDATA_USERNAME", "someone")
    monkeypatch.setenv("EARTHDATA_PASSWORD", "wrong")
    podaac.mock.add(responses.POST, URS_TOKEN, status=401, json={"error": "invalid_credentials",
                                                                 "error_description": "Invalid user credentials"})
    with pytest.raises(ConfluenceError) as exc:
        sp.fetch_priors("na", tmp_path / "cache", cmr_url=CMR_ROOT)
    assert one_line(exc).startswith("Earthdata Login refused the credentials (environment): "
                                    "Authentication with Earthdata Login failed with:")
    assert podaac.downloads == []

    monkeypatch.delenv("EARTHDATA_USERNAME")
    monkeypatch.delenv("EARTHDATA_PASSWORD")
    monkeypatch.setenv("EARTHDATA_TOKEN", "tok-123")
    got = sp.fetch_priors("na", tmp_path / "cache", cmr_url=CMR_ROOT)
    assert got.downloaded and podaac.downloads[-1]["auth"] == "Bearer tok-123"


def test_netrc_credentials_are_used(podaac: FakePodaac, small_sos: Path, monkeypatch: pytest.MonkeyPatch,
                                    tmp_path: Path) -> None:
    podaac.serve(NA_PRIORS, small_sos)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine urs.earthdata.nasa.gov login someone password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    podaac.mock.add(responses.POST, URS_TOKEN, status=200,
                    json={"access_token": "edl-tok", "token_type": "Bearer", "expiration_date": "12/31/2099"})
    got = sp.fetch_priors("na", tmp_path / "cache", cmr_url=CMR_ROOT)
    assert got.downloaded and podaac.downloads[-1]["auth"] == "Bearer edl-tok"


def test_names_and_sizes() -> None:
    assert sp.is_priors_file(NA_PRIORS, "na", "unconstrained")
    assert not sp.is_priors_file(NA_PRIORS, "na", "constrained")
    assert sp.is_priors_file(NA_PRIORS_C, "na", "constrained")
    assert not sp.is_priors_file(NA_PRIORS_C, "na", "unconstrained")
    assert sp.is_priors_file("na_sword_v15_SOS_unconstrained_0001_20240228T205032_priors.nc", "na", "unconstrained")
    assert not sp.is_priors_file("na_sword_v15_SOS_unconstrained_0001_20240228T205032_results.nc", "na",
                                 "unconstrained")
    assert not sp.is_priors_file(NA_PRIORS, "sa", "unconstrained")
    assert not sp.is_priors_file(NA_PRIORS + ".md5", "na", "unconstrained")
    assert sp.collection_for(None) == (V3, "3") and sp.collection_for("1.0") == ("SWOT_L4_DAWG_SOS_DISCHARGE", "1")
    assert sp._size_bytes({"SizeInBytes": 12}) == (12, 0)
    assert sp._size_bytes({"Size": 983.1, "SizeUnit": "MB"}) == (round(983.1 * 1024**2), 52429)
    assert sp._size_bytes({"Size": 1.5}) == (1572864, 52429)
    assert sp._size_bytes({}) == (None, 0)


# --- check_layout ------------------------------------------------------------------------

@pytest.mark.parametrize("style", ["project", "podaac"])
def test_layout_of_a_good_file_in_both_spellings(tmp_path: Path, style: str) -> None:
    path = write_sos(tmp_path / f"{style}.nc", style=style)
    assert sp.check_layout(path) == []
    with netCDF4.Dataset(path) as ds:  # the two spellings really differ
        names = set(ds["gbpriors/reach"].variables)
        assert ("lowerbound_A0" in names) == (style == "podaac") and ("lower_logA0" in names) == (style == "project")
        assert ("CAL" in ds[AGENCY].variables) == (style == "podaac")


def test_missing_optional_groups_are_not_problems(tmp_path: Path) -> None:
    path = write_sos(tmp_path / "bare.nc", gbpriors=False, gauge_agency="")
    assert sp.check_layout(path) == []


def test_layout_problems_are_named(tmp_path: Path) -> None:
    drop = ("model", "nodes/reach_id", "gbpriors/node/logn_sd", "gbpriors/reach/upper_logQc",
            "gbpriors/reach/sigma_man", f"{AGENCY}/{AGENCY}_qt", f"{AGENCY}/{AGENCY}_CAL")
    path = write_sos(tmp_path / "bad.nc", drop=drop, gauge_agency=f"{AGENCY};WSC")
    assert sp.check_layout(path) == [
        "no group 'model'",
        "'nodes' has no variable 'reach_id'",
        "'gbpriors/reach' has no upper bound of logQc (upper_logQc or upperbound_logQc)",
        "'gbpriors/reach' has no variable 'sigma_man'",
        "'gbpriors/node' has no variable 'logn_sd'",
        "gauge_agency lists 'WSC' but the file has no group 'WSC'",
        f"'{AGENCY}' has no variable '{AGENCY}_qt'",
        f"'{AGENCY}' has no calibration flag ({AGENCY}_CAL or CAL)",
    ]


def test_layout_shapes_and_stray_nodes(tmp_path: Path) -> None:
    path = write_sos(tmp_path / "shapes.nc", stray_node=True, drop=("model/monthly_q", "gbpriors/node/b_hat"))
    with netCDF4.Dataset(path, "a") as ds:  # put them back with the wrong dimensions
        ds.createDimension("eleven", 11)
        ds["model"].createVariable("monthly_q", "f8", (sos.REACH_DIM, "eleven"))
        ds["gbpriors/node"].createVariable("b_hat", "f8", (sos.REACH_DIM,))
    assert sp.check_layout(path) == [
        "'nodes/reach_id' names 1 reach(es) missing from 'reaches/reach_id' (e.g. 74269999991)",
        "'model/monthly_q' has shape (3, 11), expected (3, 12)",
        "'gbpriors/node/b_hat' has shape (3,), expected first dimension 6",
    ]


def test_layout_of_a_missing_or_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ConfluenceError, match="file not found"):
        sp.check_layout(tmp_path / "none.nc")
    (tmp_path / "junk.nc").write_bytes(b"junk")
    with pytest.raises(ConfluenceError, match="not a readable NetCDF file"):
        sp.check_layout(tmp_path / "junk.nc")
