"""Fixtures of the datagen tests: a fake NASA CMR, served with ``responses`` (no network).

earthaccess talks to CMR through ``requests``; the ``cmr`` fixture intercepts
every ``requests`` call and answers GETs to ``CMR_ROOT/granules.umm_json`` the
way CMR does: ``page_size=0`` gives the ``CMR-Hits`` header only; a page gives
the next ``page_size`` granules in UMM-JSON and, while granules remain, a
``CMR-Search-After`` header that the next request must send back.  Any other
request fails the test (``responses`` refuses unregistered URLs).  The
granules are the recorded ones (``data/cmr_page1.json`` + ``cmr_page2.json``)
unless a test sets ``cmr.items``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

DATA = Path(__file__).parent / "data"
CMR_ROOT = "https://cmr.test.example/search/"
RECORDED = [item for k in (1, 2) for item in json.loads((DATA / f"cmr_page{k}.json").read_text())["items"]]


@dataclass
class FakeCmr:
    """The fake's state: the granules it holds, the requests it saw, and failures to answer first."""

    root: str
    items: list[dict[str, Any]] = field(default_factory=lambda: list(RECORDED))
    #: (status, body) answered before any page, one per request (e.g. 503s to test retries).
    failures: list[tuple[int, str]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def answer(self, request: Any) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url).query)
        after = request.headers.get("CMR-Search-After")
        self.requests.append({"url": request.url, "query": query, "after": after,
                              "timeout": getattr(request, "req_kwargs", {}).get("timeout")})
        if self.failures:
            status, body = self.failures.pop(0)
            return status, {"Content-Type": "application/json"}, body
        size = int(query.get("page_size", ["10"])[0])
        start = int(json.loads(after)[0].removeprefix("token-")) if after else 0
        page = self.items[start:start + size] if size else []
        headers = {"Content-Type": "application/json", "CMR-Hits": str(len(self.items))}
        if size and start + size < len(self.items):
            headers["CMR-Search-After"] = json.dumps([f"token-{start + size}"])
        body = {"hits": len(self.items), "took": 7, "items": page}
        return 200, headers, json.dumps(body)


@pytest.fixture()
def cmr(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCmr]:
    """The fake CMR at ``CMR_ROOT`` (give ``--cmr-url cmr.root``); retries wait no time."""
    responses = pytest.importorskip("responses")
    from confluence_datagen import sources

    monkeypatch.setattr(sources, "CMR_BACKOFF_S", 0.0)
    fake = FakeCmr(CMR_ROOT)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.GET, re.compile(re.escape(f"{CMR_ROOT}granules.umm_json")), fake.answer)
        yield fake
