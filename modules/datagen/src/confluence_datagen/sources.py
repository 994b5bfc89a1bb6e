"""Where RiverSP granules are listed from: a local folder, an S3 prefix, or NASA CMR (earthaccess).

Every lister returns :class:`GranuleRef` items: the granule's URI as the JSON
files record it (a path relative to the local source root, or ``s3://...``)
and its parsed name.  A listed file whose name is not a RiverSP granule name
(``SWOT_L2_HR_RiverSP_..._01 (1).zip``) is a ``file`` skip, and a CMR granule
without a direct-access link a ``granule`` skip (:mod:`confluence_core.skips`).
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from confluence_core.errors import ConfluenceError, InputError
from confluence_core.riversp import GranuleName, parse_granule_name
from confluence_core.s3 import parse_url
from confluence_core.skips import skip

if TYPE_CHECKING:  # imported when a CMR search runs: local and S3 listings do without them
    import requests
    from earthaccess import DataGranule, DataGranules

log = logging.getLogger(__name__)

GLOB = "SWOT_L2_HR_RiverSP_*.zip"
DEFAULT_COLLECTION = "SWOT_L2_HR_RiverSP_2.0"
#: The CMR search root earthaccess queries by default (``earthaccess.PROD.cmr_base_url``).
DEFAULT_CMR_URL = "https://cmr.earthdata.nasa.gov/search/"
#: Seconds each CMR request may wait; tries in all; first wait between tries (doubled each time).
CMR_TIMEOUT_S = 60.0
CMR_RETRIES = 4
CMR_BACKOFF_S = 1.0
_TRANSIENT = (429, 500, 502, 503, 504)

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
            skip(log, "file", uri.rsplit("/", 1)[-1], exc.reason)
    return sorted(out, key=lambda r: r.uri)


def list_local(root: Path) -> list[GranuleRef]:
    """List granule zips below ``root`` (recursively); URIs relative to ``root``."""
    if not root.is_dir():
        raise InputError("source folder not found", root)
    return _refs(p.relative_to(root).as_posix() for p in root.rglob(GLOB) if p.is_file())


def list_s3(uri: str, client: Any) -> list[GranuleRef]:
    """List granule zips under ``s3://bucket/prefix`` (paginated ListObjectsV2)."""
    bucket, prefix = parse_url(uri)
    keys: list[str] = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(o["Key"] for o in page.get("Contents", []))
    except Exception as exc:  # botocore error types vary; all mean the listing failed
        raise ConfluenceError(f"cannot list ({type(exc).__name__}: {exc})", uri) from None
    names = [k for k in keys if k.rsplit("/", 1)[-1].startswith("SWOT_L2_HR_RiverSP_") and k.endswith(".zip")]
    return _refs(f"s3://{bucket}/{k}" for k in names)


def cmr_search_root(url: str) -> str:
    """The CMR search root (``https://host/search/``) that earthaccess queries, from ``url``.

    ``url`` is that root, or a granule search endpoint under it
    (``.../search/granules.umm_json``, the form this option took before earthaccess).
    """
    root = re.sub(r"granules(\.[a-z_0-9]+)?/?$", "", url.strip())
    return root if root.endswith("/") else f"{root}/"


def granule_patterns(continent: str) -> list[str]:
    """CMR ``readable_granule_name`` patterns of the granules that may hold ``continent``'s reaches."""
    tokens = sorted(t for t, cs in TOKEN_CONTINENTS.items() if continent in cs)
    return [f"SWOT_L2_HR_RiverSP_*_{t}_*" for t in tokens]


def cmr_session() -> requests.Session:
    """A requests session for CMR: ``CMR_TIMEOUT_S`` per request, urllib3 retries of transient failures.

    ``CMR_RETRIES`` tries in all on connection errors, timeouts and HTTP 429/5xx
    (honouring ``Retry-After``), waiting ``CMR_BACKOFF_S`` x 2**k seconds between them.
    """
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    class TimeoutAdapter(HTTPAdapter):
        """An HTTPAdapter with a default timeout: earthaccess's CMR requests set none."""

        def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
            kwargs["timeout"] = kwargs.get("timeout") or CMR_TIMEOUT_S
            return super().send(request, *args, **kwargs)

    retry = Retry(
        total=CMR_RETRIES - 1, backoff_factor=CMR_BACKOFF_S, status_forcelist=_TRANSIENT,
        allowed_methods=frozenset({"GET"}), raise_on_status=False,
    )
    session = requests.Session()
    adapter = TimeoutAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def list_cmr(
    collection: str,
    continent: str,
    start: str | None = None,
    end: str | None = None,
    url: str = DEFAULT_CMR_URL,
) -> list[GranuleRef]:
    """Search CMR for the RiverSP granules that may hold ``continent``'s reaches (earthaccess).

    The query is ``earthaccess.search_data(short_name=collection, granule_name=[patterns],
    temporal=(start, end))``, built on earthaccess's own query class so that it can
    be sent to ``url`` (the CMR search root) with a timeout and retries
    (:func:`cmr_session`); earthaccess pages with ``CMR-Search-After``.  A granule's
    URI is its direct-access (``s3://``) link; granules without one are skipped
    with a warning (HTTPS downloads need an Earthdata login).
    """
    import earthaccess

    root = cmr_search_root(url)
    search: dict[str, Any] = {"short_name": collection, "granule_name": granule_patterns(continent)}
    if start or end:
        search["temporal"] = (start, end)
    try:
        query = earthaccess.DataGranules().parameters(**search)
    except ValueError as exc:  # dateutil's ParserError, or start after end
        span = f"{start or '(open)'} to {end or '(open)'}"
        raise InputError(f"bad CMR temporal range {span} (--temporal-start/--temporal-end): {exc}") from None
    query.mode(root)
    query.session = cmr_session()
    uris: list[str] = []
    for granule in _search(query, root):
        uri = next((u for u in granule.data_links(access="direct") if u.startswith("s3://") and u.endswith(".zip")),
                   None)
        if uri is None:
            skip(log, "granule", str(granule["umm"].get("GranuleUR")), "CMR lists no s3:// link for it")
        else:
            uris.append(uri)
    log.info("CMR %s: %d granules for %s", collection, len(uris), continent)
    return _refs(dict.fromkeys(uris))


def _search(query: DataGranules, root: str) -> list[DataGranule]:
    """Every granule of ``query`` (all pages); failures become one-line :class:`ConfluenceError` s."""
    import requests

    try:
        with warnings.catch_warnings():
            # DataGranule() calls its own deprecated size(): one FutureWarning per granule, not ours.
            warnings.simplefilter("ignore", FutureWarning)
            return list(query.get_all())
    except RuntimeError as exc:  # earthaccess's wrapper of an HTTP error status
        raise ConfluenceError(f"CMR search failed: {_http_reason(exc)}", root) from None
    except requests.RequestException as exc:  # connection failure or timeout, after the retries
        reason = str(exc).splitlines()[0] if str(exc) else "no answer"
        raise ConfluenceError(f"CMR search failed: {type(exc).__name__}: {reason}", root) from None
    except (KeyError, ValueError, TypeError) as exc:  # no CMR-Hits header, not JSON, no items
        raise ConfluenceError(f"CMR search failed: the answer is not CMR UMM-JSON ({type(exc).__name__}: {exc})",
                              root) from None


def _http_reason(exc: RuntimeError) -> str:
    """``HTTP {status} {reason}`` (and CMR's first error message) of earthaccess's wrapped HTTPError."""
    response = getattr(exc.__cause__, "response", None)
    if response is None:
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = f"HTTP {response.status_code} {response.reason}"
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        errors = []
    return f"{text}: {errors[0]}" if errors else text
