"""The published SoS from PO.DAAC: find, download, cache and check a continent's priors file.

PO.DAAC distributes the Sword of Science (SoS) of the SWOT Confluence workflow as
the *SWOT Level 4 Sword of Science River Discharge Products* (DAWG; version 3:
DOI 10.5067/SWOT-SOS-RD3, released 2026-01-08; version 1: collection
``SWOT_L4_DAWG_SOS_DISCHARGE``).  One collection holds, per continent (af, as,
eu, na, oc, sa; SWORD naming), the *priors* and the *results* files of both the
unconstrained and the gauge-constrained branch; the names tell them apart:

- version 1 (``SWOT_L4_DAWG_SOS_DISCHARGE``): one granule per continent and run,
  ``{c}_sword_v{N}_SOS_{branch}_{version}_{runtime}``, holding two files
  ``..._priors.nc`` and ``..._results.nc``
  (e.g. ``na_sword_v15_SOS_unconstrained_0001_20240228T205032_priors.nc``);
- version 3 (``SWOT_L4_HR_DAWG_SOS_DISCHARGE_V3``, concept C3905028734-POCLOUD):
  granules ``{c}_sword_v16_SOS_{kind}_{branch}_{start}_{end}_{production}``
  (e.g. ``na_sword_v16_SOS_results_unconstrained_20230502T204408_20250502T204408_20251219T163700``).

:func:`fetch_priors` therefore asks CMR (through earthaccess's query class) for
the collection's granules named ``{continent}_sword_*`` and picks, among all
their files, the NetCDF file whose name carries the continent, ``priors`` and
the branch, the newest production first.  It downloads the file's HTTPS link
(``GET DATA``; the archive redirects through Earthdata Login to S3) with an
Earthdata Login session (``EARTHDATA_USERNAME``/``EARTHDATA_PASSWORD`` or
``EARTHDATA_TOKEN``, else ``~/.netrc``), into ``cache_dir``:

- a file already there under the same name and with the size CMR gives is not
  downloaded again (and no login is needed);
- a download appears under its final name only when complete and verified
  (size, and the checksum CMR gives: MD5/SHA); otherwise nothing is left;
- transient failures (HTTP 429/5xx, dropped connections) are retried with
  exponential backoff (``Retry-After`` honoured), as :mod:`confluence_core.http`;
- every failure is one line (:class:`~confluence_core.errors.ConfluenceError`)
  naming the collection and the reason.

The direct S3 link (``GET DATA VIA DIRECT ACCESS``, in-region only) is recorded
in :class:`SosDownload` but not used: the HTTPS link works everywhere, AWS included.

:func:`check_layout` lists how a priors file departs from the SoS layout
(:mod:`confluence_core.sos`, contracts.md section 8), accepting the spellings of
the published files beside the project's own (see :data:`GB_BOUND_NAMES`,
:data:`CAL_NAMES`).

References
----------
SWOT Discharge Algorithm Working Group (2026). SWOT Level 4 Sword of Science
River Discharge Products, Version 3. PO.DAAC. https://doi.org/10.5067/SWOT-SOS-RD3
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from . import ncio, sos
from .atomic import atomic_path, write_text
from .errors import ConfluenceError
from .http import NETWORK_ERRORS, RETRY_STATUS, retry_after

if TYPE_CHECKING:
    import requests
    from earthaccess import DataGranule

log = logging.getLogger(__name__)

#: SoS collections on PO.DAAC by collection version (CMR short names).
COLLECTIONS: dict[str, str] = {
    "1": "SWOT_L4_DAWG_SOS_DISCHARGE",
    "3": "SWOT_L4_HR_DAWG_SOS_DISCHARGE_V3",
}
#: The version :func:`fetch_priors` asks for when none is given.
DEFAULT_VERSION = "3"
#: DOI of the default version.
DOI = "10.5067/SWOT-SOS-RD3"
#: SWORD continents of the SoS (one file per continent and branch).
CONTINENTS = ("af", "as", "eu", "na", "oc", "sa")
BRANCHES = ("unconstrained", "constrained")
#: The CMR search root earthaccess queries by default (``earthaccess.PROD.cmr_base_url``).
DEFAULT_CMR_URL = "https://cmr.earthdata.nasa.gov/search/"
#: Earthdata Login strategies tried, in order (never the interactive prompt).
LOGIN_STRATEGIES = ("environment", "netrc")

#: Tries per download, first wait between tries (s, doubled each time), longest wait (s).
DOWNLOAD_ATTEMPTS = 4
DOWNLOAD_BACKOFF_S = 5.0
DOWNLOAD_MAX_WAIT_S = 120.0
#: Seconds to connect and between two received bytes.
DOWNLOAD_TIMEOUT_S = 120.0
CMR_TIMEOUT_S = 60.0
CMR_RETRIES = 4
CMR_BACKOFF_S = 1.0
CHUNK = 8 * 1024 * 1024

#: UMM-G ``SizeUnit`` -> bytes.
_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4, "PB": 1024**5, "NA": 0}
#: UMM-G checksum ``Algorithm`` -> hashlib name (others are recorded, not verified).
_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
#: The first bytes of a NetCDF-4 (HDF5) or classic NetCDF file.
_MAGIC = (b"\x89HDF\r\n\x1a\n", b"CDF\x01", b"CDF\x02", b"CDF\x05")


# --- results -----------------------------------------------------------------------------

@dataclass(frozen=True)
class SosDownload:
    """A SoS priors file in the cache, and where it came from (for run.json: :meth:`record`).

    Attributes
    ----------
    path : Path
        The file in ``cache_dir``.
    collection : str
        CMR short name, e.g. ``SWOT_L4_HR_DAWG_SOS_DISCHARGE_V3``.
    version : str
        Collection version (CMR ``CollectionReference.Version``, else the key of :data:`COLLECTIONS`).
    granule_id : str
        CMR ``GranuleUR``.
    concept_id : str or None
        CMR granule concept id (``G...-POCLOUD``).
    file_name : str
    size : int
        Bytes on disk.
    checksum : str or None
        ``ALGORITHM:value`` as CMR gives it (verified at download when MD5/SHA).
    sha256 : str or None
        SHA-256 of the file, computed at download (None for a file found in the cache without a record).
    source_url : str
        HTTPS link downloaded.
    s3_url : str or None
        Direct-access link (in-region), when CMR gives one.
    continent, branch : str
    downloaded : bool
        False when the cached file was used.
    product_version : str or None
        The file's ``product_version`` attribute.
    """

    path: Path
    collection: str
    version: str
    granule_id: str
    concept_id: str | None
    file_name: str
    size: int
    checksum: str | None
    sha256: str | None
    source_url: str
    s3_url: str | None
    continent: str
    branch: str
    downloaded: bool
    product_version: str | None = None

    def record(self) -> dict[str, Any]:
        """The download as JSON-ready values (``path`` as text)."""
        out = asdict(self)
        out["path"] = str(self.path)
        return out


@dataclass(frozen=True)
class _File:
    """One file of a CMR granule."""

    name: str
    https_url: str | None
    s3_url: str | None
    size: int | None  # bytes
    size_tolerance: int  # bytes either way (sizes given in MB are rounded)
    checksum: tuple[str, str] | None  # (algorithm, value)
    granule_id: str
    concept_id: str | None
    collection_version: str | None
    produced: str  # sort key: production date, else revision date


@dataclass
class _Search:
    granules: list[Any] = field(default_factory=list)
    files: list[_File] = field(default_factory=list)


# --- public functions --------------------------------------------------------------------

def collection_for(version: str | None) -> tuple[str, str]:
    """(short name, version) of the SoS collection of ``version`` (None: :data:`DEFAULT_VERSION`).

    Raises
    ------
    ConfluenceError
        For a version PO.DAAC does not publish (the known ones are named).
    """
    key = DEFAULT_VERSION if version is None else str(version).strip().lower().removeprefix("v")
    key = key.split(".")[0] if key.replace(".", "").isdigit() else key
    if key not in COLLECTIONS:
        known = ", ".join(f"{k} ({v})" for k, v in COLLECTIONS.items())
        raise ConfluenceError(f"PO.DAAC SoS: unknown version {version!r}; known versions: {known}")
    return COLLECTIONS[key], key


def is_priors_file(name: str, continent: str, branch: str) -> bool:
    """True when ``name`` is a NetCDF SoS priors file of ``continent`` and ``branch``.

    The name's ``_``/``.`` separated words must start with the continent and hold
    ``SOS``, ``priors`` and the branch (``constrained`` never matches ``unconstrained``).
    """
    base = name.rsplit("/", 1)[-1]
    if not base.lower().endswith(".nc"):
        return False
    words = re.split(r"[_.]", base.lower())
    other = "constrained" if branch == "unconstrained" else "unconstrained"
    return (words[0] == continent and "sos" in words and "priors" in words and branch in words
            and other not in words)


def fetch_priors(
    continent: str,
    cache_dir: Path,
    *,
    branch: str = "unconstrained",
    version: str | None = None,
    session: requests.Session | None = None,
    cmr_url: str | None = None,
) -> SosDownload:
    """Find the published SoS priors file of ``continent`` on PO.DAAC and return it from ``cache_dir``.

    Parameters
    ----------
    continent : str
        SWORD continent: af, as, eu, na, oc, sa.
    cache_dir : Path
        Folder of the downloaded files (made when missing); a file already there
        with the granule's file name and size is used as it is.
    branch : {"unconstrained", "constrained"}
        The SoS branch (gauge-constrained or not).
    version : str, optional
        Collection version (:data:`COLLECTIONS`); default :data:`DEFAULT_VERSION`.
    session : requests.Session, optional
        Session for CMR and the download, already authorised for Earthdata Login.
        Default: CMR through a plain retrying session; the download through an
        Earthdata Login session (:func:`earthdata_session`), opened only when a
        download is needed.
    cmr_url : str, optional
        CMR search root (default :data:`DEFAULT_CMR_URL`).

    Returns
    -------
    SosDownload

    Raises
    ------
    ConfluenceError
        One line naming the collection: bad continent/branch/version, CMR failure,
        no matching granule, Earthdata Login refused or missing, download failed
        (after retries) or did not match CMR's size/checksum.
    """
    continent = continent.strip().lower()
    if continent not in CONTINENTS:
        raise ConfluenceError(f"PO.DAAC SoS: unknown continent {continent!r} (one of {', '.join(CONTINENTS)})")
    if branch not in BRANCHES:
        raise ConfluenceError(f"PO.DAAC SoS: unknown branch {branch!r} (one of {', '.join(BRANCHES)})")
    short_name, key = collection_for(version)
    root = (cmr_url or DEFAULT_CMR_URL).strip()
    root = root if root.endswith("/") else f"{root}/"

    found = _search(short_name, continent, session if session is not None else cmr_session(), root)
    chosen = _choose(found, short_name, continent, branch)
    cache_dir = Path(cache_dir)
    dest = cache_dir / chosen.name
    sidecar = cache_dir / f"{chosen.name}.json"
    base: dict[str, Any] = dict(
        collection=short_name, version=chosen.collection_version or key, granule_id=chosen.granule_id,
        concept_id=chosen.concept_id, file_name=chosen.name,
        checksum=f"{chosen.checksum[0]}:{chosen.checksum[1]}" if chosen.checksum else None,
        source_url=chosen.https_url or "", s3_url=chosen.s3_url, continent=continent, branch=branch)

    cached = _cached(dest, sidecar, chosen)
    if cached is not None:
        log.info("%s: %s already in %s (%d bytes): not downloaded", short_name, chosen.name, cache_dir, cached[0])
        return SosDownload(path=dest, size=cached[0], sha256=cached[1], downloaded=False,
                           product_version=_product_version(dest), **base)

    if not chosen.https_url:
        raise ConfluenceError(f"PO.DAAC {short_name}: granule {chosen.granule_id} gives no HTTPS link for "
                              f"{chosen.name}")
    download_session = session if session is not None else earthdata_session()
    digest = _download(download_session, chosen, dest, short_name)
    result = SosDownload(path=dest, size=dest.stat().st_size, sha256=digest, downloaded=True,
                         product_version=_product_version(dest), **base)
    write_text(sidecar, json.dumps(result.record(), indent=1) + "\n")
    log.info("%s: downloaded %s (%d bytes) to %s", short_name, chosen.name, result.size, cache_dir)
    return result


def earthdata_session(strategies: Sequence[str] = LOGIN_STRATEGIES) -> requests.Session:
    """A ``requests`` session authorised by Earthdata Login (earthaccess ``Auth``).

    The strategies are tried in order: ``environment`` (``EARTHDATA_USERNAME`` and
    ``EARTHDATA_PASSWORD``, or ``EARTHDATA_TOKEN``), then ``netrc`` (``~/.netrc`` or
    ``$NETRC``, machine ``urs.earthdata.nasa.gov``).  Never prompts.

    Raises
    ------
    ConfluenceError
        No credentials found, credentials refused, or the login service unreachable.
    """
    earthaccess = _earthaccess()
    import requests
    from earthaccess.exceptions import LoginAttemptFailure, LoginStrategyUnavailable

    auth = earthaccess.Auth()
    for strategy in strategies:
        try:
            auth.login(strategy=strategy)
        except LoginStrategyUnavailable as exc:
            log.debug("Earthdata Login strategy %s unavailable: %s", strategy, exc)
            continue
        except LoginAttemptFailure as exc:
            raise ConfluenceError(f"Earthdata Login refused the credentials ({strategy}): "
                                  f"{_one_line(exc, 160)}") from None
        except requests.RequestException as exc:
            raise ConfluenceError(f"Earthdata Login unreachable ({type(exc).__name__}: {_one_line(exc)})") from None
        if auth.authenticated:
            log.info("Earthdata Login: authenticated (%s)", strategy)
            session: requests.Session = auth.get_session()
            return session
    raise ConfluenceError("no Earthdata Login credentials: set EARTHDATA_USERNAME and EARTHDATA_PASSWORD "
                          "(or EARTHDATA_TOKEN), or add machine urs.earthdata.nasa.gov to ~/.netrc")


def cmr_session() -> requests.Session:
    """A ``requests`` session for CMR: ``CMR_TIMEOUT_S`` per request, urllib3 retries of HTTP 429/5xx."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    class TimeoutAdapter(HTTPAdapter):
        """An HTTPAdapter with a default timeout: earthaccess's CMR requests set none."""

        def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
            kwargs["timeout"] = kwargs.get("timeout") or CMR_TIMEOUT_S
            return super().send(request, *args, **kwargs)

    retry = Retry(total=CMR_RETRIES - 1, backoff_factor=CMR_BACKOFF_S, status_forcelist=sorted(RETRY_STATUS),
                  allowed_methods=frozenset({"GET"}), raise_on_status=False)
    session = requests.Session()
    adapter = TimeoutAdapter(max_retries=retry)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


# --- CMR ---------------------------------------------------------------------------------

def _earthaccess() -> Any:
    try:
        import earthaccess
    except ImportError:
        raise ConfluenceError("the PO.DAAC SoS needs earthaccess: pip install 'confluence-core[podaac]'") from None
    return earthaccess


def _one_line(exc: BaseException | str, limit: int = 200) -> str:
    text = " ".join(str(exc).split())
    return (text[:limit] + "...") if len(text) > limit else (text or type(exc).__name__)


def _search(short_name: str, continent: str, session: Any, root: str) -> _Search:
    """Granules of ``short_name`` named ``{continent}_sword_*`` and their files."""
    earthaccess = _earthaccess()
    import requests

    query = earthaccess.DataGranules().parameters(short_name=short_name, granule_name=f"{continent}_sword_*")
    query.mode(root)
    query.session = session
    what = f"PO.DAAC {short_name}: CMR search failed"
    try:
        with warnings.catch_warnings():
            # DataGranule() calls its own deprecated size(): one FutureWarning per granule, not ours.
            warnings.simplefilter("ignore", FutureWarning)
            granules: list[DataGranule] = list(query.get_all())
    except RuntimeError as exc:  # earthaccess's wrapper of an HTTP error status
        raise ConfluenceError(f"{what}: {_http_reason(exc)} ({root})") from None
    except requests.RequestException as exc:  # connection failure or timeout, after the retries
        raise ConfluenceError(f"{what}: {type(exc).__name__}: {_one_line(exc)} ({root})") from None
    except (KeyError, ValueError, TypeError) as exc:  # no CMR-Hits header, not JSON, no items
        raise ConfluenceError(f"{what}: the answer is not CMR UMM-JSON ({type(exc).__name__}: "
                              f"{_one_line(exc, 80)}) ({root})") from None
    out = _Search(granules=granules)
    for granule in granules:
        out.files.extend(_granule_files(granule))
    log.info("CMR %s: %d granule(s), %d file(s) for %s", short_name, len(granules), len(out.files), continent)
    return out


def _http_reason(exc: RuntimeError) -> str:
    """``HTTP {status} {reason}`` (and CMR's first error message) of earthaccess's wrapped HTTPError."""
    response = getattr(exc.__cause__, "response", None)
    if response is None:
        return _one_line(exc)
    text = f"HTTP {response.status_code} {response.reason}"
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        errors = []
    return f"{text}: {_one_line(errors[0], 160)}" if errors else text


def _granule_files(granule: Mapping[str, Any]) -> Iterator[_File]:
    """The files of one UMM-G granule: names, HTTPS and S3 links, sizes and checksums."""
    umm = granule.get("umm", {})
    meta = granule.get("meta", {})
    info = {str(e.get("Name")): e for e in umm.get("DataGranule", {}).get("ArchiveAndDistributionInformation", [])
            if e.get("Name")}
    https: dict[str, str] = {}
    s3: dict[str, str] = {}
    for link in umm.get("RelatedUrls", []):
        url, kind = str(link.get("URL", "")), str(link.get("Type", ""))
        name = urlsplit(url).path.rsplit("/", 1)[-1]
        if kind == "GET DATA" and url.startswith("https://"):
            https.setdefault(name, url)
        elif kind == "GET DATA VIA DIRECT ACCESS" and url.startswith("s3://"):
            s3.setdefault(name, url)
    produced = str(umm.get("DataGranule", {}).get("ProductionDateTime") or meta.get("revision-date") or "")
    version = umm.get("CollectionReference", {}).get("Version")
    for name in dict.fromkeys([*info, *https]):
        size, tol = _size_bytes(info.get(name, {}))
        ck = info.get(name, {}).get("Checksum") or {}
        yield _File(name=name, https_url=https.get(name), s3_url=s3.get(name), size=size, size_tolerance=tol,
                    checksum=(str(ck["Algorithm"]), str(ck["Value"])) if ck.get("Value") and ck.get("Algorithm")
                    else None,
                    granule_id=str(umm.get("GranuleUR") or meta.get("native-id") or ""),
                    concept_id=meta.get("concept-id"), collection_version=str(version) if version else None,
                    produced=produced)


def _size_bytes(entry: Mapping[str, Any]) -> tuple[int | None, int]:
    """(bytes, tolerance) of a UMM-G file entry: ``SizeInBytes`` exactly, else ``Size`` x ``SizeUnit`` rounded."""
    if entry.get("SizeInBytes") is not None:
        return int(entry["SizeInBytes"]), 0
    if entry.get("Size") is None:
        return None, 0
    factor = _UNITS.get(str(entry.get("SizeUnit", "MB")).upper(), 0)
    if not factor:
        return None, 0
    size = float(entry["Size"])
    text = repr(size)
    decimals = len(text.split(".")[1]) if "." in text and "e" not in text else 0
    return round(size * factor), max(1, int(np.ceil(factor * 0.5 * 10.0**-decimals)))


def _choose(found: _Search, short_name: str, continent: str, branch: str) -> _File:
    """The newest priors file of ``continent`` and ``branch`` among the granules' files."""
    where = f"PO.DAAC {short_name}"
    if not found.granules:
        raise ConfluenceError(f"{where}: no granule for continent '{continent}' (granule names {continent}_sword_*)")
    matches = [f for f in found.files if is_priors_file(f.name, continent, branch)]
    if not matches:
        names = sorted({f.name for f in found.files})
        shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        raise ConfluenceError(f"{where}: {len(found.granules)} granule(s) for '{continent}' but no {branch} priors "
                              f"file among their files ({shown or 'none'})")
    matches.sort(key=lambda f: (f.produced, f.name))
    chosen = matches[-1]
    if len(matches) > 1:
        log.info("%s: %d %s priors files for %s; taking the newest, %s", where, len(matches), branch, continent,
                 chosen.name)
    return chosen


# --- cache and download ------------------------------------------------------------------

def _cached(dest: Path, sidecar: Path, want: _File) -> tuple[int, str | None] | None:
    """(size, sha256 or None) of a usable cached file, or None when it must be downloaded."""
    if not dest.is_file():
        return None
    size = dest.stat().st_size
    record: dict[str, Any] = {}
    if sidecar.is_file():
        try:
            record = json.loads(sidecar.read_text())
        except (OSError, ValueError):
            record = {}
    if want.size is not None:
        if abs(size - want.size) > want.size_tolerance:
            log.info("cached %s has %d bytes, CMR gives %d: downloading again", dest.name, size, want.size)
            return None
    elif not (record.get("granule_id") == want.granule_id and record.get("size") == size):
        log.info("cached %s: CMR gives no size and no record matches: downloading again", dest.name)
        return None
    sha = record.get("sha256") if record.get("size") == size else None
    return size, sha


class _TransientError(Exception):
    """A retryable answer (HTTP 429/5xx); ``wait`` is the server's ``Retry-After`` (s)."""

    def __init__(self, reason: str, wait: float) -> None:
        super().__init__(reason)
        self.wait = wait


def _download(session: Any, want: _File, dest: Path, short_name: str) -> str:
    """Download ``want`` to ``dest`` atomically, verified; return its SHA-256."""
    assert want.https_url is not None
    url = want.https_url
    where = f"PO.DAAC {short_name}: download of {want.name} failed"
    attempts = 0

    def wait(state: RetryCallState) -> float:
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        asked = exc.wait if isinstance(exc, _TransientError) else 0.0
        return min(max(DOWNLOAD_BACKOFF_S * 2.0 ** (state.attempt_number - 1), asked), DOWNLOAD_MAX_WAIT_S)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        pause = state.next_action.sleep if state.next_action is not None else 0.0
        log.info("%s: %s (attempt %d of %d); retrying in %.1f s", want.name, _one_line(exc or "?"),
                 state.attempt_number, DOWNLOAD_ATTEMPTS, pause)

    def attempt(tmp: Path) -> str:
        nonlocal attempts
        attempts += 1
        return _get_once(session, url, tmp, want, where)

    retrying = Retrying(stop=stop_after_attempt(max(1, DOWNLOAD_ATTEMPTS)), wait=wait,
                        retry=retry_if_exception_type((_TransientError, *NETWORK_ERRORS)), sleep=time.sleep,
                        before_sleep=before_sleep, reraise=True)
    try:
        with atomic_path(dest) as tmp:
            return retrying(attempt, tmp)
    except _TransientError as exc:
        raise ConfluenceError(f"{where} after {attempts} attempt(s): {exc} ({url})") from None
    except NETWORK_ERRORS as exc:
        raise ConfluenceError(f"{where} after {attempts} attempt(s): network error "
                              f"({type(exc).__name__}: {_one_line(exc)}) ({url})") from None


def _get_once(session: Any, url: str, tmp: Path, want: _File, where: str) -> str:
    """One GET of ``url`` into ``tmp``; checks the answer, size, checksum and NetCDF signature."""
    with session.get(url, stream=True, timeout=DOWNLOAD_TIMEOUT_S, allow_redirects=True) as resp:
        status = int(resp.status_code)
        final_host = urlsplit(str(getattr(resp, "url", url) or url)).hostname or ""
        if status in (401, 403):
            raise ConfluenceError(f"{where}: Earthdata Login refused access (HTTP {status}); check the "
                                  f"credentials and accept the PO.DAAC EULA ({url})")
        if status in RETRY_STATUS:
            headers = {k.lower(): v for k, v in resp.headers.items()}
            raise _TransientError(f"HTTP {status} {resp.reason or ''}".strip(), retry_after(headers))
        if not 200 <= status < 300:
            raise ConfluenceError(f"{where}: HTTP {status} {resp.reason or ''} ({url})".replace("  ", " "))
        if final_host.startswith("urs.") or "text/html" in str(resp.headers.get("Content-Type", "")):
            raise ConfluenceError(f"{where}: got the Earthdata Login page, not the file; check the credentials "
                                  f"({url})")
        sha = hashlib.sha256()
        check = hashlib.new(_HASHES[want.checksum[0].upper()]) \
            if want.checksum and want.checksum[0].upper() in _HASHES else None
        head = b""
        with open(tmp, "wb") as out:
            for chunk in resp.iter_content(CHUNK):
                if not chunk:
                    continue
                if len(head) < 8:
                    head += chunk[:8]
                out.write(chunk)
                sha.update(chunk)
                if check is not None:
                    check.update(chunk)
            out.flush()
            os.fsync(out.fileno())
    size = tmp.stat().st_size
    if want.size is not None and abs(size - want.size) > want.size_tolerance:
        raise ConfluenceError(f"{where}: got {size} bytes, CMR gives {want.size} ({url})")
    if check is not None and want.checksum is not None and check.hexdigest().lower() != want.checksum[1].lower():
        raise ConfluenceError(f"{where}: {want.checksum[0]} checksum {check.hexdigest()} differs from CMR's "
                              f"{want.checksum[1]} ({url})")
    if not head.startswith(_MAGIC):
        raise ConfluenceError(f"{where}: the answer is not a NetCDF file ({url})")
    return sha.hexdigest()


def _product_version(path: Path) -> str | None:
    """The ``product_version`` global attribute of a NetCDF file, or None."""
    with ncio.open_dataset(path) as ds:
        value = getattr(ds, "product_version", None)
    return None if value is None else str(value)


# --- layout check ------------------------------------------------------------------------

#: Names of the geoBAM bounds, project spelling first: ``lower_{p}``/``upper_{p}``
#: (confluence_core.sos) or ``lowerbound_{p}``/``upperbound_{p}`` as the published
#: files write them, where logA0's bounds are on A0 (``lowerbound_A0``).
GB_BOUND_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    p: ((f"lower_{p}", f"lowerbound_{p}", *(("lowerbound_A0",) if p == "logA0" else ())),
        (f"upper_{p}", f"upperbound_{p}", *(("upperbound_A0",) if p == "logA0" else ())))
    for p in sos.GB_PARAMS
}
#: Calibration flag of a gauge agency group: ``{A}_CAL`` (project) or ``CAL`` (published files).
CAL_NAMES = ("{A}_CAL", "CAL")
#: Required groups; ``gbpriors`` and the gauge agency groups are optional (the priors step writes them).
REQUIRED_GROUPS = ("reaches", "nodes", "model")
_GAUGE_VARS = ("reach_id", "id", "q", "qt")
_GAUGE_STATS = ("mean_q", "min_q", "max_q", "two_year_return_q", "monthly_q", "flow_duration_q")


def check_layout(path: str | os.PathLike[str]) -> list[str]:
    """Problems of a SoS priors file against the SoS layout; ``[]`` when it follows it.

    Checked (contracts.md section 8, :mod:`confluence_core.sos`):

    - groups ``reaches`` (``reach_id``, ``x``, ``y``), ``nodes`` (``node_id``,
      ``reach_id``) and ``model`` (:data:`~confluence_core.sos.MODEL_Q_VARS`), with
      ``monthly_q`` [num_reaches, 12] and ``flow_duration_q`` [num_reaches, 20];
      every node's reach among the reaches;
    - when present, ``gbpriors/reach`` and ``gbpriors/node``: for each of
      :data:`~confluence_core.sos.GB_PARAMS` the ``_hat``, ``_sd`` and both bounds
      (:data:`GB_BOUND_NAMES`), and :data:`~confluence_core.sos.GB_EXTRA`, on
      num_reaches / num_nodes;
    - each gauge agency (listed in ``gauge_agency``, or a group holding
      ``{A}_reach_id``): ``{A}_reach_id``, ``{A}_id``, ``{A}_q``, ``{A}_qt`` (same
      shape [gauges, days]), the statistics ``{A}_mean_q`` ... and the calibration
      flag (:data:`CAL_NAMES`).

    Missing optional groups (``gbpriors``, gauge agencies) are not problems.

    Raises
    ------
    InputError
        When the file is missing or not a readable NetCDF file.
    """
    problems: list[str] = []
    with ncio.open_dataset(path) as ds:
        missing = [g for g in REQUIRED_GROUPS if g not in ds.groups]
        problems += [f"no group '{g}'" for g in missing]
        n_reach = _check_reaches(ds, problems) if "reaches" in ds.groups else None
        n_node = _check_nodes(ds, problems, n_reach) if "nodes" in ds.groups else None
        if "model" in ds.groups:
            _check_model(ds.groups["model"], problems, n_reach)
        if "gbpriors" in ds.groups:
            gb = ds.groups["gbpriors"]
            for level, n in (("reach", n_reach), ("node", n_node)):
                if level not in gb.groups:
                    problems.append(f"no group 'gbpriors/{level}'")
                else:
                    _check_gbpriors(gb.groups[level], f"gbpriors/{level}", problems, n)
        for agency in _agencies(ds, problems):
            _check_agency(ds.groups[agency], agency, problems)
    return problems


def _shape(group: Any, name: str) -> tuple[int, ...]:
    return tuple(int(n) for n in group.variables[name].shape)


def _need(group: Any, gpath: str, names: Sequence[str], problems: list[str]) -> list[str]:
    """Names of ``names`` present in ``group``; a problem for each missing one."""
    have = [n for n in names if ncio.has_var(group, n)]
    problems += [f"'{gpath}' has no variable '{n}'" for n in names if n not in have]
    return have


def _check_reaches(ds: Any, problems: list[str]) -> int | None:
    group = ds.groups["reaches"]
    have = _need(group, "reaches", ("reach_id", "x", "y"), problems)
    if "reach_id" not in have:
        return None
    n = _shape(group, "reach_id")[0] if _shape(group, "reach_id") else 0
    for name in have:
        if _shape(group, name) != (n,):
            problems.append(f"'reaches/{name}' has shape {_shape(group, name)}, expected ({n},)")
    return n


def _check_nodes(ds: Any, problems: list[str], n_reach: int | None) -> int | None:
    group = ds.groups["nodes"]
    have = _need(group, "nodes", ("node_id", "reach_id"), problems)
    if "node_id" not in have:
        return None
    n = _shape(group, "node_id")[0] if _shape(group, "node_id") else 0
    if "reach_id" in have:
        if _shape(group, "reach_id") != (n,):
            problems.append(f"'nodes/reach_id' has shape {_shape(group, 'reach_id')}, expected ({n},)")
        elif n_reach is not None:
            reach_ids = np.asarray(ds.groups["reaches"].variables["reach_id"][...], dtype=np.int64).ravel()
            node_reach = np.asarray(group.variables["reach_id"][...], dtype=np.int64).ravel()
            stray = np.unique(node_reach[~np.isin(node_reach, reach_ids)])
            if stray.size:
                problems.append(f"'nodes/reach_id' names {stray.size} reach(es) missing from 'reaches/reach_id' "
                                f"(e.g. {stray[0]})")
    return n


def _check_model(group: Any, problems: list[str], n: int | None) -> None:
    have = _need(group, "model", sos.MODEL_Q_VARS, problems)
    if n is None:
        return
    expected = {"monthly_q": (n, sos.N_MONTHS), "flow_duration_q": (n, len(sos.EXCEEDANCE))}
    for name in have:
        want = expected.get(name, (n,))
        if _shape(group, name) != want:
            problems.append(f"'model/{name}' has shape {_shape(group, name)}, expected {want}")


def _check_gbpriors(group: Any, gpath: str, problems: list[str], n: int | None) -> None:
    names: list[str] = []
    for p in sos.GB_PARAMS:
        names += _need(group, gpath, (f"{p}_hat", f"{p}_sd"), problems)
        for side, options in zip(("lower", "upper"), GB_BOUND_NAMES[p], strict=True):
            present = [o for o in options if ncio.has_var(group, o)]
            if present:
                names.append(present[0])
            else:
                problems.append(f"'{gpath}' has no {side} bound of {p} ({' or '.join(options)})")
    names += _need(group, gpath, sos.GB_EXTRA, problems)
    if n is None:
        return
    for name in names:
        shape = _shape(group, name)
        if not shape or shape[0] != n:
            problems.append(f"'{gpath}/{name}' has shape {shape}, expected first dimension {n}")


def _agencies(ds: Any, problems: list[str]) -> list[str]:
    """Gauge agencies: ``gauge_agency`` (``;`` or ``,`` separated) plus groups holding ``{A}_reach_id``."""
    listed = [a.strip() for a in str(getattr(ds, "gauge_agency", "")).replace(",", ";").split(";") if a.strip()]
    for a in listed:
        if a not in ds.groups:
            problems.append(f"gauge_agency lists '{a}' but the file has no group '{a}'")
    found = [g for g in ds.groups if ncio.has_var(ds.groups[g], f"{g}_reach_id")]
    return [a for a in dict.fromkeys(listed + found) if a in ds.groups]


def _check_agency(group: Any, a: str, problems: list[str]) -> None:
    have = _need(group, a, [f"{a}_{s}" for s in (*_GAUGE_VARS, *_GAUGE_STATS)], problems)
    cal = [c.format(A=a) for c in CAL_NAMES]
    if not any(ncio.has_var(group, c) for c in cal):
        problems.append(f"'{a}' has no calibration flag ({' or '.join(cal)})")
    if f"{a}_reach_id" not in have:
        return
    n = _shape(group, f"{a}_reach_id")[0] if _shape(group, f"{a}_reach_id") else 0
    q, qt = f"{a}_q", f"{a}_qt"
    if q in have and (len(_shape(group, q)) != 2 or _shape(group, q)[0] != n):
        problems.append(f"'{a}/{q}' has shape {_shape(group, q)}, expected ({n}, days)")
    if q in have and qt in have and _shape(group, qt) != _shape(group, q):
        problems.append(f"'{a}/{qt}' has shape {_shape(group, qt)}, '{a}/{q}' {_shape(group, q)}")
    expected = {"monthly_q": (n, sos.N_MONTHS), "flow_duration_q": (n, len(sos.EXCEEDANCE))}
    for s in _GAUGE_STATS:
        name = f"{a}_{s}"
        if name in have and _shape(group, name) != expected.get(s, (n,)):
            problems.append(f"'{a}/{name}' has shape {_shape(group, name)}, expected {expected.get(s, (n,))}")
    for c in cal:
        if ncio.has_var(group, c) and _shape(group, c) != (n,):
            problems.append(f"'{a}/{c}' has shape {_shape(group, c)}, expected ({n},)")
    if f"{a}_id" in have and (not _shape(group, f"{a}_id") or _shape(group, f"{a}_id")[0] != n):
        problems.append(f"'{a}/{a}_id' has shape {_shape(group, f'{a}_id')}, expected first dimension {n}")

