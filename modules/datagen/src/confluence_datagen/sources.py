"""Where RiverSP granules are listed from: a local folder, an S3 prefix, or NASA CMR.

Every lister returns :class:`GranuleRef` items: the granule's URI as the JSON
files record it (a path relative to the local source root, or ``s3://...``)
and its parsed name.  Files whose names are not RiverSP granule names are
skipped (logged at debug level).
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluence_core.errors import ConfluenceError, InputError
from confluence_core.riversp import GranuleName, parse_granule_name, split_s3_uri

log = logging.getLogger(__name__)

GLOB = "SWOT_L2_HR_RiverSP_*.zip"
DEFAULT_COLLECTION = "SWOT_L2_HR_RiverSP_2.0"
DEFAULT_CMR_URL = "https://cmr.earthdata.nasa.gov/search/granules.umm_json"
CMR_PAGE_SIZE = 2000
CMR_TIMEOUT_S = 60.0
CMR_RETRIES = 4

#: Granule continent token -> SWORD continents whose reaches its granules may hold.
#: The token only narrows which granules a continent's job reads; the reach id's
#: first digit decides (contracts.md section 3).  Border tiles overlap, so the
#: table is generous.
TOKEN_CONTINENTS: dict[str, tuple[str, ...]] = {
    "AF": ("af", "eu", "as"),
    "EU": ("eu", "af", "as"),
    "SI": ("as", "eu"),
    "AS": ("as", "oc", "eu"),
    "AU": ("oc", "as"),
    "SA": ("sa", "na"),
    "NA": ("na", "sa"),
    "AR": ("na", "eu", "as"),
    "GR": ("na", "eu"),
}


@dataclass(frozen=True)
class GranuleRef:
    """A listed granule: ``uri`` as written to the JSON files, and its parsed name."""

    uri: str
    name: GranuleName


def may_hold(ref: GranuleRef, continent: str) -> bool:
    """True when ``ref``'s continent token can hold reaches of ``continent`` (unknown tokens: True)."""
    return continent in TOKEN_CONTINENTS.get(ref.name.continent_code, (continent,))


def _refs(uris: Iterable[str]) -> list[GranuleRef]:
    out = []
    for uri in uris:
        try:
            out.append(GranuleRef(uri, parse_granule_name(uri)))
        except InputError as exc:
            log.warning("skipped: %s", exc)
    return sorted(out, key=lambda r: r.uri)


def list_local(root: Path) -> list[GranuleRef]:
    """List granule zips below ``root`` (recursively); URIs relative to ``root``."""
    if not root.is_dir():
        raise InputError("source folder not found", root)
    return _refs(p.relative_to(root).as_posix() for p in root.rglob(GLOB) if p.is_file())


def list_s3(uri: str, client: Any) -> list[GranuleRef]:
    """List granule zips under ``s3://bucket/prefix`` (paginated ListObjectsV2)."""
    bucket, prefix = split_s3_uri(uri)
    keys: list[str] = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(o["Key"] for o in page.get("Contents", []))
    except Exception as exc:  # botocore error types vary; all mean the listing failed
        raise ConfluenceError(f"cannot list ({type(exc).__name__}: {exc})", uri) from None
    names = [k for k in keys if k.rsplit("/", 1)[-1].startswith("SWOT_L2_HR_RiverSP_") and k.endswith(".zip")]
    return _refs(f"s3://{bucket}/{k}" for k in names)


Fetch = Callable[[str, dict[str, str]], tuple[dict[str, Any], dict[str, str]]]


def urllib_fetch(url: str, headers: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """GET ``url`` and return (JSON body, response headers), retrying transient failures."""
    delay = 1.0
    for attempt in range(1, CMR_RETRIES + 1):
        request = urllib.request.Request(url, headers={"Accept": "application/json", **headers})
        try:
            with urllib.request.urlopen(request, timeout=CMR_TIMEOUT_S) as resp:
                return json.loads(resp.read()), {k.lower(): v for k, v in resp.headers.items()}
        except urllib.error.HTTPError as exc:
            if exc.code not in (429, 500, 502, 503, 504) or attempt == CMR_RETRIES:
                raise ConfluenceError(f"CMR search failed: HTTP {exc.code} {exc.reason}", url) from None
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
            if attempt == CMR_RETRIES:
                raise ConfluenceError(f"CMR search failed: {exc}", url) from None
        log.info("CMR request failed (attempt %d of %d), retrying in %.0f s", attempt, CMR_RETRIES, delay)
        time.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")


def cmr_query(
    collection: str, tokens: Iterable[str], start: str | None, end: str | None, page_size: int
) -> dict[str, Any]:
    """Query parameters of a CMR granule search for ``collection`` and continent ``tokens``."""
    params: dict[str, Any] = {
        "short_name": collection,
        "page_size": page_size,
        "sort_key": "start_date",
        "readable_granule_name[]": [f"SWOT_L2_HR_RiverSP_*_{t}_*" for t in sorted(tokens)],
        "options[readable_granule_name][pattern]": "true",
    }
    if start or end:
        params["temporal"] = f"{start or ''},{end or ''}"
    return params


def list_cmr(
    collection: str,
    continent: str,
    start: str | None = None,
    end: str | None = None,
    url: str = DEFAULT_CMR_URL,
    fetch: Fetch = urllib_fetch,
    page_size: int = CMR_PAGE_SIZE,
) -> list[GranuleRef]:
    """Search CMR for the RiverSP granules that may hold ``continent``'s reaches.

    Pages with the ``CMR-Search-After`` header until a page comes back short or
    without one.  A granule's URI is its S3 direct-access link (``s3://``); granules
    without one are skipped with a warning (HTTPS downloads need an Earthdata login).
    """
    tokens = [t for t, cs in TOKEN_CONTINENTS.items() if continent in cs]
    query = urllib.parse.urlencode(cmr_query(collection, tokens, start, end, page_size), doseq=True)
    full = f"{url}?{query}"
    uris: list[str] = []
    headers: dict[str, str] = {}
    while True:
        body, resp_headers = fetch(full, headers)
        items = body.get("items", [])
        for item in items:
            uri = _s3_link(item)
            if uri is None:
                log.warning("CMR granule %s has no s3:// link: skipped", item.get("umm", {}).get("GranuleUR"))
            else:
                uris.append(uri)
        after = resp_headers.get("cmr-search-after")
        if not items or not after or len(items) < page_size:
            break
        headers = {"CMR-Search-After": after}
    log.info("CMR %s: %d granules for %s", collection, len(uris), continent)
    return _refs(dict.fromkeys(uris))


def _s3_link(item: dict[str, Any]) -> str | None:
    for link in item.get("umm", {}).get("RelatedUrls", []):
        href = str(link.get("URL", ""))
        if href.startswith("s3://") and href.endswith(".zip"):
            return href
    return None
