"""A polite HTTP GET: timeouts, retries with exponential backoff honouring ``Retry-After``, a request interval.

One client for every web service the workflow asks (Hydrocron in datagen; any
other JSON/CSV service).  :class:`RetryingGet` sends a GET through a
*transport* (``urllib`` by default, a ``requests`` session through
:func:`session_transport`, or a fake in tests) and retries what is transient:

- HTTP 429 and 5xx (:data:`RETRY_STATUS`) and network errors (timeouts,
  refused or dropped connections, DNS: ``OSError``, ``http.client.HTTPException``);
- the n-th wait is ``backoff_s * 2 ** (n - 1)``, or the server's
  ``Retry-After`` when larger (seconds or an HTTP date), capped at ``max_wait_s``;
- at most one request every ``min_interval_s`` seconds per client (a rate limit
  kept across calls, e.g. one reach after another).

Any other status is returned at once: the caller decides what a 400 or a 404
means.  The retry policy is `tenacity <https://tenacity.readthedocs.io>`_'s,
kept apart from the transport so that ``sleep`` and ``clock`` can be injected
and tests replay recorded answers without waiting or touching the network.

Example
-------
>>> client = RetryingGet(attempts=3, min_interval_s=1.0)          # doctest: +SKIP
>>> resp = client.get("https://example.org/api?x=1", what="gauge 0101")  # doctest: +SKIP
>>> resp.status, resp.headers.get("content-type"), resp.text[:80]  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import json
import logging
import math
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from tenacity import RetryCallState, Retrying, retry_if_exception_type, retry_if_result, stop_after_attempt

from .errors import ConfluenceError

log = logging.getLogger(__name__)

#: HTTP statuses taken as transient (retried): too many requests and server errors.
RETRY_STATUS: frozenset[int] = frozenset({429, 500, 502, 503, 504})
#: Exceptions of a transport taken as a failed attempt (retried), not a bug.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (OSError, http.client.HTTPException)

#: ``transport(url, headers, timeout_s) -> (status, headers, body)``.  HTTP error statuses are
#: returned, not raised; a failure without an answer raises one of :data:`NETWORK_ERRORS`.
Transport: TypeAlias = Callable[[str, dict[str, str], float], tuple[int, dict[str, str], bytes]]


@dataclass(frozen=True)
class Response:
    """One HTTP answer.

    Attributes
    ----------
    url : str
    status : int
    headers : dict of str
        Header names in lower case.
    body : bytes
    attempts : int
        Requests sent for it (1 when it came first time).
    """

    url: str
    status: int
    headers: dict[str, str]
    body: bytes
    attempts: int = 1

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    @property
    def text(self) -> str:
        """The body as text (UTF-8, a byte-order mark dropped, bad bytes replaced)."""
        return self.body.decode("utf-8-sig", "replace")

    @property
    def reason(self) -> str:
        """``HTTP {status}: {reason in the body}`` (see :func:`body_reason`)."""
        return f"HTTP {self.status}: {body_reason(self.body)}"


class NetworkError(ConfluenceError):
    """Every attempt failed without an answer; ``detail`` is the last error, ``attempts`` how many were made."""

    def __init__(self, reason: str, path: str | None, detail: str, attempts: int) -> None:
        super().__init__(reason, path)
        self.detail = detail
        self.attempts = attempts


def urllib_transport(url: str, headers: dict[str, str], timeout: float) -> tuple[int, dict[str, str], bytes]:
    """GET ``url`` with the standard library; HTTP error statuses are returned, not raised."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in (exc.headers or {}).items()}, exc.read() or b""


def session_transport(session: Any) -> Transport:
    """A transport over a ``requests.Session``-like object (``get(url, headers=, timeout=)``).

    ``requests`` exceptions derive from ``OSError``, so they count as network errors.
    """

    def transport(url: str, headers: dict[str, str], timeout: float) -> tuple[int, dict[str, str], bytes]:
        resp = session.get(url, headers=headers, timeout=timeout)
        return int(resp.status_code), {k.lower(): v for k, v in resp.headers.items()}, bytes(resp.content)

    return transport


def retry_after(headers: Mapping[str, str], now: dt.datetime | None = None) -> float:
    """Seconds asked by a ``Retry-After`` header (delay seconds or an HTTP date); 0 when absent or bad."""
    value = str(headers.get("retry-after", "")).strip()
    if not value:
        return 0.0
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max((when - (now or dt.datetime.now(dt.UTC))).total_seconds(), 0.0)


def body_reason(body: bytes, limit: int = 200) -> str:
    """The reason in an error body: JSON ``error`` / ``message`` / ``errorMessage`` / ``status``, else the text.

    Shortened to ``limit`` characters; ``(empty body)`` when there is nothing.
    """
    text = body.decode("utf-8", "replace").strip()
    try:
        obj = json.loads(text)
    except ValueError:
        return text[:limit] or "(empty body)"
    if isinstance(obj, dict):
        for key in ("error", "message", "errorMessage", "status"):
            if obj.get(key):
                return str(obj[key])[:limit]
    return text[:limit]


@dataclass
class RetryingGet:
    """GET with retries, a per-request timeout and a minimum interval between requests.

    Parameters
    ----------
    transport : Transport
        Sends one GET (default :func:`urllib_transport`).
    attempts : int
        Most requests per call (1 = no retry).
    backoff_s : float
        First wait (s); doubled after each failed attempt.
    max_wait_s : float
        Longest single wait (s), ``Retry-After`` included.
    min_interval_s : float
        Least time (s) between the starts of two requests of this client.
    timeout_s : float
        Per-request timeout (s), passed to the transport.
    retry_status : frozenset of int
        Statuses retried (default :data:`RETRY_STATUS`).
    sleep, clock : callable
        ``time.sleep`` and ``time.monotonic`` unless a test injects others.
    """

    transport: Transport = urllib_transport
    attempts: int = 5
    backoff_s: float = 2.0
    max_wait_s: float = 60.0
    min_interval_s: float = 0.0
    timeout_s: float = 60.0
    retry_status: frozenset[int] = RETRY_STATUS
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _last: float = field(default=-math.inf, repr=False)

    def get(self, url: str, headers: Mapping[str, str] | None = None, what: str = "") -> Response:
        """GET ``url``, retrying transient failures; return the answer.

        Parameters
        ----------
        url : str
        headers : mapping, optional
            Request headers.
        what : str
            Names the request in log lines (default: the URL).

        Returns
        -------
        Response
            The first answer whose status is not in ``retry_status`` (whatever it is),
            or the last one when the attempts ran out on a transient status.

        Raises
        ------
        NetworkError
            When the last attempt got no answer at all (path: ``url``).
        """
        sent = dict(headers or {})
        label = what or url
        count = 0

        def attempt() -> Response:
            nonlocal count
            self._pace()
            count += 1
            status, head, body = self.transport(url, sent, self.timeout_s)
            return Response(url, int(status), {k.lower(): v for k, v in head.items()}, body, count)

        def give_up(state: RetryCallState) -> Response:
            outcome = state.outcome
            assert outcome is not None
            exc = outcome.exception()
            if exc is None:
                last: Response = outcome.result()
                return last
            raise NetworkError(f"no answer after {count} attempt(s), last: network error ({exc})", url,
                               str(exc), count) from exc

        retrying = Retrying(
            stop=stop_after_attempt(max(1, self.attempts)),
            wait=self._wait,
            retry=(retry_if_exception_type(NETWORK_ERRORS)
                   | retry_if_result(lambda r: r.status in self.retry_status)),
            sleep=self.sleep,
            before_sleep=lambda state: self._log_retry(label, state),
            retry_error_callback=give_up,
        )
        return retrying(attempt)

    def _pace(self) -> None:
        """Sleep until ``min_interval_s`` has passed since the last request, then mark this one."""
        wait = self.min_interval_s - (self.clock() - self._last)
        if wait > 0:
            self.sleep(wait)
        self._last = self.clock()

    def _wait(self, state: RetryCallState) -> float:
        """Exponential backoff, or ``Retry-After`` when the server asks for longer; capped."""
        backoff = self.backoff_s * 2.0 ** (state.attempt_number - 1)
        outcome = state.outcome
        asked = 0.0
        if outcome is not None and outcome.exception() is None:
            asked = retry_after(outcome.result().headers)
        return min(max(backoff, asked), self.max_wait_s)

    def _log_retry(self, label: str, state: RetryCallState) -> None:
        outcome = state.outcome
        if outcome is None:
            return
        exc = outcome.exception()
        why = f"network error ({exc})" if exc is not None else outcome.result().reason
        pause = state.next_action.sleep if state.next_action is not None else 0.0
        log.info("%s: %s (attempt %d of %d); retrying in %.1f s", label, why, state.attempt_number,
                 self.attempts, pause)
