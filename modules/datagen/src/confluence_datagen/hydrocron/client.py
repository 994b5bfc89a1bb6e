"""The Hydrocron HTTP layer: one reach's time series as CSV text.

Hydrocron (https://podaac.github.io/hydrocron/timeseries.html) serves the SWOT
L2_HR_RiverSP reach records of one reach as CSV::

    GET {url}?feature=Reach&feature_id={reach_id}&start_time=...Z&end_time=...Z
        &output=csv&fields=reach_id,time_str,...&collection_name=SWOT_L2_HR_RiverSP_2.0

The body is either the raw CSV or a JSON object ``{"status", "hits", "results":
{"csv": "..."}}``; an error is a 4xx/5xx status with a JSON ``error`` (or
``message``) text.  Hydrocron answers 400 both for a bad parameter and for a
feature with no data in the time range (its documented behaviour); 413 when
the answer would pass 6 MB; 429/5xx are transient (retried by
:class:`confluence_core.http.RetryingGet` with exponential backoff, honouring
``Retry-After``).  Assumed, not documented: the 400 body carries the reason in
``error``; when it does not, the raw body (first 200 characters) is reported.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeAlias

from confluence_core import http
from confluence_core.errors import InputError

DEFAULT_URL = "https://soto.podaac.earthdatacloud.nasa.gov/hydrocron/v1/timeseries"
DEFAULT_COLLECTION = "SWOT_L2_HR_RiverSP_2.0"
DEFAULT_START = "2023-01-01T00:00:00Z"
#: Reach fields asked for (RiverSP attribute names plus Hydrocron's cycle_id / pass_id).
FIELDS = (
    "reach_id,time,time_str,cycle_id,pass_id,wse,wse_u,width,width_u,slope,slope_u,slope2,slope2_u,"
    "d_x_area,d_x_area_u,area_total,reach_q,reach_q_b,dark_frac,ice_clim_f,ice_dyn_f,partial_f,"
    "n_good_nod,obs_frac_n,xovr_cal_q,xtrk_dist,p_width,p_length,p_lat,p_lon"
)
RETRY_STATUS = http.RETRY_STATUS

#: ``transport(url, headers, timeout) -> (status, headers, body)`` (see :data:`confluence_core.http.Transport`).
Transport: TypeAlias = http.Transport
urllib_transport = http.urllib_transport
#: The reason in a Hydrocron error body (JSON ``error``/``message``, else the text, shortened).
error_text = http.body_reason


class HydrocronError(InputError):
    """Hydrocron refused or failed a request, or its answer is unusable (names the reach)."""


@dataclass
class HydrocronClient:
    """A polite Hydrocron client: timeouts, retries with exponential backoff, a minimum request interval.

    Parameters
    ----------
    url : str
        The timeseries endpoint.
    transport : Transport
        Does the GET (tests pass a fake one or point ``url`` at 127.0.0.1).
    retries : int
        Attempts per reach for transient failures (429, 5xx, timeouts, connection errors).
    backoff_s : float
        First wait; doubled after each failed attempt (``Retry-After`` wins when larger, capped at 60 s).
    min_interval_s : float
        Least time between two requests (rate limit).
    timeout_s : float
        Per-request timeout.
    sleep, clock : callable
        ``time.sleep`` and ``time.monotonic`` unless a test injects others.
    """

    url: str = DEFAULT_URL
    transport: Transport = urllib_transport
    retries: int = 5
    backoff_s: float = 2.0
    min_interval_s: float = 1.0
    timeout_s: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _http: http.RetryingGet = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # one RetryingGet per client: the request interval holds across reaches
        self._http = http.RetryingGet(transport=self.transport, attempts=self.retries, backoff_s=self.backoff_s,
                                      max_wait_s=60.0, min_interval_s=self.min_interval_s,
                                      timeout_s=self.timeout_s, sleep=self.sleep, clock=self.clock)

    def query_url(self, reach_id: int, start: str, end: str, fields: str = FIELDS,
                  collection: str = DEFAULT_COLLECTION) -> str:
        """The request URL of one reach."""
        params = {"feature": "Reach", "feature_id": str(reach_id), "start_time": start, "end_time": end,
                  "output": "csv", "fields": fields, "collection_name": collection}
        return f"{self.url}?{urllib.parse.urlencode(params, safe=',:')}"

    def reach_csv(self, reach_id: int, start: str, end: str, fields: str = FIELDS,
                  collection: str = DEFAULT_COLLECTION) -> str:
        """Return the CSV text of one reach's time series; HydrocronError with the reason otherwise."""
        url = self.query_url(reach_id, start, end, fields, collection)
        try:
            resp = self._http.get(url, {"Accept": "application/json"}, what=f"reach {reach_id}")
        except http.NetworkError as exc:
            raise HydrocronError(f"reach {reach_id}: Hydrocron failed {exc.attempts} times, last: network error "
                                 f"({exc.detail})", self.url) from None
        if resp.status == 200:
            return response_csv(resp.body, reach_id)
        if resp.status in self._http.retry_status:
            raise HydrocronError(f"reach {reach_id}: Hydrocron failed {resp.attempts} times, last: {resp.reason}",
                                 self.url)
        raise HydrocronError(f"reach {reach_id}: Hydrocron refused the request: {resp.reason}", self.url)


def response_csv(body: bytes, reach_id: int) -> str:
    """The CSV of a 200 answer: raw CSV, a JSON string, or JSON ``results.csv``."""
    text = body.decode("utf-8-sig", "replace")
    stripped = text.lstrip()
    if stripped.startswith(("{", '"')):
        try:
            obj = json.loads(stripped)
        except ValueError:
            raise HydrocronError(f"reach {reach_id}: Hydrocron answer is neither CSV nor JSON") from None
        if isinstance(obj, str):
            return obj
        csv_text = obj.get("results", {}).get("csv") if isinstance(obj, dict) else None
        if not isinstance(csv_text, str):
            raise HydrocronError(f"reach {reach_id}: Hydrocron JSON answer has no results.csv")
        return csv_text
    return text
