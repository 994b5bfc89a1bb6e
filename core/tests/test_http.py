"""Retrying GET (confluence_core.http): recorded answers through a fake transport, never the network."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import pytest
from confluence_core import http as h


class Fake:
    """Replays (status, headers, body) answers, or raises an exception given in their place."""

    def __init__(self, *answers: tuple[int, dict[str, str], bytes] | BaseException) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, dict[str, str], float]] = []

    def __call__(self, url: str, headers: dict[str, str], timeout: float) -> tuple[int, dict[str, str], bytes]:
        self.calls.append((url, headers, timeout))
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


def test_transient_answers_are_retried_with_backoff_and_retry_after(caplog: pytest.LogCaptureFixture) -> None:
    fake = Fake((429, {"Retry-After": "5"}, b'{"error": "Too Many Requests"}'), (503, {}, b""),
                ConnectionResetError("reset"), (200, {"Content-Type": "text/csv"}, b"a,b\n"))
    sleeps: list[float] = []
    client = h.RetryingGet(transport=fake, attempts=4, backoff_s=2.0, timeout_s=7.0, sleep=sleeps.append)
    with caplog.at_level(logging.INFO, logger="confluence_core.http"):
        resp = client.get("https://example.invalid/x", {"Accept": "text/csv"}, what="reach 1")
    assert (resp.status, resp.attempts, resp.text, resp.ok) == (200, 4, "a,b\n", True)
    assert resp.headers == {"content-type": "text/csv"}
    assert sleeps == [5.0, 4.0, 8.0]  # Retry-After wins over 2 s, then 2 * 2 s, then 2 * 4 s
    assert fake.calls[0] == ("https://example.invalid/x", {"Accept": "text/csv"}, 7.0)
    assert "reach 1: HTTP 429: Too Many Requests (attempt 1 of 4); retrying in 5.0 s" in caplog.text
    assert "reach 1: network error (reset) (attempt 3 of 4)" in caplog.text


def test_other_statuses_come_back_at_once() -> None:
    fake = Fake((400, {}, b'{"error": "400: Results with the specified Feature ID 1 were not found"}'))
    resp = h.RetryingGet(transport=fake, sleep=pytest.fail).get("https://example.invalid/x")
    assert resp.status == 400 and resp.attempts == 1 and not resp.ok
    assert resp.reason == "HTTP 400: 400: Results with the specified Feature ID 1 were not found"


def test_out_of_attempts_returns_the_last_answer_or_raises_on_no_answer() -> None:
    resp = h.RetryingGet(transport=Fake(*[(502, {}, b"Bad gateway")] * 3), attempts=3,
                         sleep=lambda s: None).get("https://example.invalid/x")
    assert (resp.status, resp.attempts, resp.reason) == (502, 3, "HTTP 502: Bad gateway")
    client = h.RetryingGet(transport=Fake((503, {}, b""), TimeoutError("timed out")), attempts=2,
                           sleep=lambda s: None)
    with pytest.raises(h.NetworkError, match=r"https://example.invalid/x: no answer after 2 attempt\(s\), last: "
                                             r"network error \(timed out\)") as err:
        client.get("https://example.invalid/x")
    assert (err.value.attempts, err.value.detail) == (2, "timed out")


def test_waits_are_capped_and_a_bug_is_not_retried() -> None:
    sleeps: list[float] = []
    fake = Fake((429, {"retry-after": "3600"}, b""), (200, {}, b""))
    h.RetryingGet(transport=fake, max_wait_s=60.0, sleep=sleeps.append).get("u")
    assert sleeps == [60.0]
    with pytest.raises(KeyError):
        h.RetryingGet(transport=Fake(KeyError("bug")), sleep=pytest.fail).get("u")


def test_minimum_interval_between_requests() -> None:
    now = [100.0]
    sleeps: list[float] = []

    def sleep(s: float) -> None:
        sleeps.append(s)
        now[0] += s

    client = h.RetryingGet(transport=Fake(*[(200, {}, b"")] * 3), min_interval_s=1.5, sleep=sleep,
                           clock=lambda: now[0])
    client.get("a")
    now[0] += 0.5
    client.get("b")
    client.get("c")
    assert sleeps == [pytest.approx(1.0), pytest.approx(1.5)]


def test_retry_after_forms() -> None:
    now = dt.datetime(2025, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert h.retry_after({"retry-after": "12"}) == 12.0
    assert h.retry_after({"retry-after": "Wed, 01 Jan 2025 12:00:30 GMT"}, now=now) == 30.0
    assert h.retry_after({"retry-after": "soon"}) == 0.0
    assert h.retry_after({}) == 0.0


def test_body_reason() -> None:
    assert h.body_reason(b'{"message": "throttled"}') == "throttled"
    assert h.body_reason(b"plain text") == "plain text"
    assert h.body_reason(b"") == "(empty body)"
    assert h.body_reason(b"x" * 300) == "x" * 200


@pytest.fixture()
def server(local_http: Callable[..., str]) -> str:
    """A local server: /ok answers 200, /busy 503 with Retry-After 0."""
    return local_http(lambda path: (200, {}, b"fine") if path == "/ok"
                      else (503, {"Retry-After": "0"}, b'{"error": "busy"}'))


def test_urllib_transport_on_a_local_server(server: str) -> None:
    client = h.RetryingGet(attempts=2, backoff_s=0.0, timeout_s=5.0)
    assert client.get(f"{server}/ok").text == "fine"
    busy = client.get(f"{server}/busy")
    assert (busy.status, busy.attempts, busy.headers["retry-after"], busy.reason) == (503, 2, "0", "HTTP 503: busy")


def test_session_transport_adapts_a_requests_like_session() -> None:
    class Resp:
        status_code = 200
        headers = {"X-A": "1"}  # noqa: RUF012
        content = b"body"

    class Session:
        def get(self, url: str, headers: dict[str, str], timeout: float) -> Resp:
            assert (url, headers, timeout) == ("u", {}, 60.0)
            return Resp()

    resp = h.RetryingGet(transport=h.session_transport(Session())).get("u")
    assert (resp.status, resp.headers, resp.body) == (200, {"x-a": "1"}, b"body")
