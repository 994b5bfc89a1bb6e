"""Fetch PO.DAAC's temporary S3 credentials with an Earthdata Login (standard library only).

The flow of a DAAC ``s3credentials`` endpoint (PO.DAAC runs NASA's Thin Egress
App), as documented by PO.DAAC and Earthdata Login:

1. ``GET https://archive.podaac.earthdata.nasa.gov/s3credentials`` without a
   session cookie answers ``302`` to
   ``https://urs.earthdata.nasa.gov/oauth/authorize?client_id=...&response_type=code&redirect_uri=.../redirect&state=...``;
2. that URS request, sent with HTTP Basic auth (the EDL user and password),
   answers ``302`` back to the archive's ``/redirect?code=...``; a refused
   login answers ``401`` ("HTTP Basic: Access denied."), or the HTML login
   page when no credentials reached it;
3. the archive trades the code for a token, sets its session cookie and
   answers ``302`` to ``/s3credentials`` again;
4. which, with the cookie, answers ``200`` JSON
   ``{"accessKeyId", "secretAccessKey", "sessionToken", "expiration"}``.

Redirects are followed here by hand, so that the ``Authorization`` header goes
to the EDL host only (never to the archive), each hop is checked, and no URL
query (which holds the OAuth code) reaches a log line.  A whole attempt is
retried, with exponential backoff, on a 5xx, 429, a timeout or a connection
error; never on 401/403.

Why not earthaccess (which datagen uses for its CMR search): ``import
earthaccess`` (even of ``earthaccess.auth``) imports s3fs, aiobotocore, aiohttp,
fsspec and requests, about 60 MB with compiled wheels and a botocore pinned by
aiobotocore, where this Lambda zip is these sources alone on the runtime's boto3;
and its ``Auth.get_s3_credentials`` answers ``{}`` for any failed request (no
status: a refused login cannot be told from a 503 worth retrying), with fixed
15 s / 10 s timeouts, after an extra ``find_or_create_token`` call, and sends the
EDL bearer token to the archive host too.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import Message
from http.cookiejar import CookieJar
from urllib.parse import urljoin, urlsplit

from . import __version__
from .errors import LoginRefusedError, RenewError
from .settings import CREDS_KEYS

log = logging.getLogger(__name__)

#: Redirects followed in one attempt before giving up (the real flow needs 3).
MAX_HOPS = 10
#: Largest response body read (the JSON is ~2 kB; a login page ~50 kB).
MAX_BODY = 1 << 20
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class TransientError(RenewError):
    """A failure worth another attempt: 5xx, 429, timeout, connection error."""


class _KeepEveryResponse(urllib.request.HTTPErrorProcessor):
    """Return every response as is: no automatic redirect, no HTTPError (the caller checks the status)."""

    def http_response(self, request: urllib.request.Request, response: http.client.HTTPResponse) -> object:
        return response

    https_response = http_response


def where(url: str) -> str:
    """``host[:port]/path`` of ``url``: what messages name (no query, no user info)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{host}:{parts.port}{parts.path}" if parts.port else f"{host}{parts.path}"


def on_host(url: str, host: str) -> bool:
    """Whether ``url`` points at ``host`` (``name`` matches any port, ``name:port`` that port only)."""
    parts = urlsplit(url)
    name, _, port = host.lower().partition(":")
    if (parts.hostname or "") != name:
        return False
    return not port or str(parts.port or "") == port


def fetch_s3_credentials(
    url: str,
    username: str,
    password: str,
    *,
    edl_host: str = "urs.earthdata.nasa.gov",
    timeout: float = 15.0,
    attempts: int = 4,
    backoff: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, str]:
    """Run the ``s3credentials`` flow and return the four credential strings.

    Parameters
    ----------
    url
        The DAAC ``s3credentials`` endpoint.
    username, password
        The Earthdata Login; sent (HTTP Basic) to ``edl_host`` only, over https
        (plain http is accepted for a loopback host only: tests).
    edl_host
        The Earthdata Login host (``name`` or ``name:port``).
    timeout
        Seconds each request may wait for the server.
    attempts
        Tries of the whole flow; waits ``backoff * 2**k`` seconds between them.
    sleep
        The wait function (tests pass a recorder).

    Returns
    -------
    dict
        ``accessKeyId``, ``secretAccessKey``, ``sessionToken``, ``expiration``.

    Raises
    ------
    LoginRefusedError
        401/403, or the EDL login page came back (no retry).
    RenewError
        Every attempt failed, or an answer broke the flow; the message names
        hosts and paths, never a credential value.
    """
    last: TransientError | None = None
    for attempt in range(1, attempts + 1):
        try:
            creds = _attempt(url, username, password, edl_host, timeout)
        except TransientError as exc:
            last = exc
            if attempt == attempts:
                break
            delay = backoff * 2 ** (attempt - 1)
            log.warning("s3credentials attempt %d/%d failed (%s); retrying in %g s", attempt, attempts, exc, delay)
            sleep(delay)
        else:
            log.info("s3credentials answered on attempt %d (expiration %s)", attempt, creds["expiration"])
            return creds
    raise RenewError(f"PO.DAAC s3credentials ({where(url)}) failed after {attempts} attempt(s); last: {last}")


def _attempt(url: str, username: str, password: str, edl_host: str, timeout: float) -> dict[str, str]:
    """One pass through the redirect chain, with a fresh cookie jar."""
    opener = urllib.request.build_opener(_KeepEveryResponse, urllib.request.HTTPCookieProcessor(CookieJar()))
    basic = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    current = url
    for _hop in range(MAX_HOPS):
        request = urllib.request.Request(
            current, headers={"Accept": "application/json", "User-Agent": f"confluence-renew/{__version__}"}
        )
        at_edl = on_host(current, edl_host)
        if at_edl:
            parts = urlsplit(current)
            if parts.scheme != "https" and parts.hostname not in _LOOPBACK:
                raise RenewError(f"refusing to send the Earthdata Login over plain {parts.scheme} to {where(current)}")
            request.add_unredirected_header("Authorization", basic)
        status, headers, body = _send(opener, request, timeout)
        log.debug("s3credentials: HTTP %d from %s", status, where(current))
        if status in (401, 403):
            raise LoginRefusedError(f"HTTP {status} from {where(current)}")
        if status in _REDIRECTS:
            location = headers.get("Location")
            if not location:
                raise RenewError(f"HTTP {status} from {where(current)} without a Location header")
            current = urljoin(current, location)
            continue
        if status == 429 or status >= 500:
            raise TransientError(f"HTTP {status} from {where(current)}")
        if status != 200:
            raise RenewError(f"unexpected HTTP {status} from {where(current)}")
        content_type = headers.get_content_type()
        if at_edl or content_type == "text/html":
            # URS answers its login page (200 HTML) when it did not accept the request as authenticated.
            raise LoginRefusedError(f"{where(current)} answered a login page ({content_type}) instead of credentials")
        return _parse(body, where(current))
    raise RenewError(f"more than {MAX_HOPS} redirects from {where(url)}")


def _send(
    opener: urllib.request.OpenerDirector, request: urllib.request.Request, timeout: float
) -> tuple[int, Message, bytes]:
    """Send one request; a timeout or connection failure becomes :class:`TransientError`."""
    place = where(request.full_url)
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read(MAX_BODY)
    except TimeoutError:
        raise TransientError(f"no answer within {timeout:g} s from {place}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise TransientError(f"no answer within {timeout:g} s from {place}") from None
        raise TransientError(f"cannot reach {place} ({type(exc.reason).__name__}: {exc.reason})") from None
    except (OSError, http.client.HTTPException) as exc:
        raise TransientError(f"connection to {place} failed ({type(exc).__name__})") from None


def _parse(body: bytes, place: str) -> dict[str, str]:
    """The credential JSON -> dict of four non-empty strings (messages name keys, never values)."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RenewError(f"{place} did not answer JSON") from None
    if not isinstance(data, dict):
        raise RenewError(f"{place} answered JSON that is not an object")
    missing = [key for key in CREDS_KEYS if not isinstance(data.get(key), str) or not data[key]]
    if missing:
        raise RenewError(f"{place} answered JSON without {', '.join(missing)}")
    return {key: data[key] for key in CREDS_KEYS}
