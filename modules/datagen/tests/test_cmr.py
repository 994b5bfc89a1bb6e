"""The CMR lister (earthaccess) against the fake CMR of conftest.py: query, paging, links, retries, errors."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from confluence_core import skips
from confluence_core.errors import ConfluenceError, InputError
from confluence_datagen import sources


def test_query_names_collection_tokens_and_time(cmr: Any) -> None:
    refs = sources.list_cmr("SWOT_L2_HR_RiverSP_2.0", "na", "2010-08-01T00:00:00Z", "2010-10-01T00:00:00Z",
                            url=cmr.root)
    assert len(refs) == 10 and all(r.uri.startswith("s3://podaac/SWOT_L2_HR_RiverSP_2.0/") for r in refs)
    assert [r.uri for r in refs] == sorted(r.uri for r in refs)
    # earthaccess asks for the hit count (page_size=0), then the granules in pages of up to 2000
    assert [q["query"]["page_size"] for q in cmr.requests] == [["0"], ["11"]]
    query = cmr.requests[1]["query"]
    assert query["short_name"] == ["SWOT_L2_HR_RiverSP_2.0"]
    assert query["temporal[]"] == ["2010-08-01T00:00:00Z,2010-10-01T00:00:00Z"]
    assert sorted(query["readable_granule_name[]"]) == [f"SWOT_L2_HR_RiverSP_*_{t}_*" for t in ("AR", "GR", "NA", "SA")]
    assert query["options[readable_granule_name][pattern]"] == ["true"]
    assert {q["timeout"] for q in cmr.requests} == {sources.CMR_TIMEOUT_S}  # earthaccess itself sets none


def test_granule_without_s3_link_is_skipped(cmr: Any, caplog: pytest.LogCaptureFixture) -> None:
    refs = sources.list_cmr("SWOT_L2_HR_RiverSP_2.0", "na", url=cmr.root)
    assert len(refs) == 10  # 11 recorded granules, one with an HTTPS link only
    found = skips.parse(caplog.messages)
    assert [(k.kind, k.reason) for k in found] == [("granule", "CMR lists no s3:// link for it")]
    assert "temporal[]" not in cmr.requests[-1]["query"]


def test_pages_with_search_after(cmr: Any) -> None:
    """2001 granules: a full page of 2000, then one more requested with CMR-Search-After."""
    template = cmr.items[0]
    cmr.items = []
    for k in range(2001):
        cycle, pass_ = k // 500 + 1, k % 500 + 1
        name = f"SWOT_L2_HR_RiverSP_Reach_{cycle:03d}_{pass_:03d}_NA_20240101T000000_20240101T000010_PIC0_01"
        item = copy.deepcopy(template)
        item["umm"]["GranuleUR"] = name
        item["umm"]["RelatedUrls"] = [{"URL": f"s3://podaac/SWOT_L2_HR_RiverSP_2.0/{name}.zip",
                                       "Type": "GET DATA VIA DIRECT ACCESS"}]
        cmr.items.append(item)
    refs = sources.list_cmr("SWOT_L2_HR_RiverSP_2.0", "na", url=cmr.root)
    assert len(refs) == 2001
    assert [q["query"]["page_size"] for q in cmr.requests] == [["0"], ["2000"], ["2000"]]
    assert [q["after"] for q in cmr.requests] == [None, None, json.dumps(["token-2000"])]


def test_transient_failures_are_retried(cmr: Any) -> None:
    cmr.failures = [(503, "busy"), (502, "")]
    assert len(sources.list_cmr("SWOT_L2_HR_RiverSP_2.0", "na", url=cmr.root)) == 10


def test_persistent_failure_is_one_line(cmr: Any) -> None:
    cmr.failures = [(503, "busy")] * sources.CMR_RETRIES
    with pytest.raises(ConfluenceError) as err:
        sources.list_cmr("SWOT_L2_HR_RiverSP_2.0", "na", url=cmr.root)
    assert str(err.value) == f"{cmr.root}: CMR search failed: HTTP 503 Service Unavailable"
    assert len(cmr.requests) == sources.CMR_RETRIES


def test_refused_query_names_cmr_reason_without_retry(cmr: Any) -> None:
    cmr.failures = [(400, json.dumps({"errors": ["Collection short_name [nope] not found"]}))]
    with pytest.raises(ConfluenceError, match=r"HTTP 400 Bad Request: Collection short_name \[nope\] not found$"):
        sources.list_cmr("nope", "na", url=cmr.root)
    assert len(cmr.requests) == 1


def test_answer_that_is_not_umm_json(cmr: Any) -> None:
    cmr.failures = [(200, "<html>maintenance</html>")]
    with pytest.raises(ConfluenceError, match="CMR search failed: "):
        sources.list_cmr("SWOT_L2_HR_RiverSP_2.0", "na", url=cmr.root)


def test_bad_temporal_range() -> None:
    with pytest.raises(InputError, match="bad CMR temporal range"):
        sources.list_cmr("SWOT_L2_HR_RiverSP_2.0", "na", "2024-02-01", "2024-01-01", url="https://cmr.invalid/search/")
    with pytest.raises(InputError, match="bad CMR temporal range"):
        sources.list_cmr("SWOT_L2_HR_RiverSP_2.0", "na", "not a date", url="https://cmr.invalid/search/")


@pytest.mark.parametrize("url", ["https://cmr.uat.earthdata.nasa.gov/search/",
                                 "https://cmr.uat.earthdata.nasa.gov/search",
                                 "https://cmr.uat.earthdata.nasa.gov/search/granules.umm_json"])
def test_cmr_url_is_the_search_root(url: str) -> None:
    assert sources.cmr_search_root(url) == "https://cmr.uat.earthdata.nasa.gov/search/"


def test_default_root_is_earthaccess_prod() -> None:
    earthaccess = pytest.importorskip("earthaccess")
    assert earthaccess.PROD.cmr_base_url == sources.DEFAULT_CMR_URL
