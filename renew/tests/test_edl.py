"""The s3credentials HTTP flow against the recorded responses served on 127.0.0.1."""

from __future__ import annotations

import socket

import pytest
from confluence_renew.edl import fetch_s3_credentials, on_host, where
from confluence_renew.errors import LoginRefusedError, RenewError


def _fetch(edl, fake, sleeps=None, **kwargs):
    """Run the flow against the fake servers; ``sleeps`` collects the backoff waits."""
    options = {"edl_host": edl.urs.removeprefix("http://"), "timeout": 2.0, "attempts": 3, "backoff": 0.5}
    options.update(kwargs)
    waits = [] if sleeps is None else sleeps
    return fetch_s3_credentials(
        f"{edl.archive}/s3credentials", fake.user, fake.password, sleep=waits.append, **options
    )


def test_success_follows_the_redirect_chain(edl, fake):
    creds = _fetch(edl, fake)
    assert creds == fake.creds
    hops = [(server, path) for server, path, _ in edl.requests]
    assert hops == [
        ("archive", "/s3credentials"),
        ("urs", "/oauth/authorize"),
        ("archive", "/redirect"),
        ("archive", "/s3credentials"),
    ]


def test_basic_auth_goes_to_the_edl_host_only(edl, fake):
    _fetch(edl, fake)
    for server, _path, headers in edl.requests:
        assert ("Authorization" in headers) == (server == "urs")


def test_retries_on_500_then_succeeds(edl, fake):
    edl.faults = [500, 503]
    sleeps: list[float] = []
    assert _fetch(edl, fake, sleeps)["sessionToken"] == fake.creds["sessionToken"]
    assert sleeps == [0.5, 1.0]  # exponential backoff
    assert edl.count("archive", "/s3credentials") == 4  # two failures, then the two hops of the flow


def test_gives_up_after_the_last_attempt(edl, fake):
    edl.faults = [500, 500, 500]
    sleeps: list[float] = []
    expected = r"failed after 3 attempt\(s\); last: HTTP 500 from 127.0.0.1:\d+/s3credentials"
    with pytest.raises(RenewError, match=expected):
        _fetch(edl, fake, sleeps)
    assert sleeps == [0.5, 1.0]


def test_401_is_one_clear_error_without_retry(edl, fake):
    edl.password = "another password"  # the server expects another one: it refuses ours
    sleeps: list[float] = []
    with pytest.raises(LoginRefusedError, match=r"^HTTP 401 from 127.0.0.1:\d+/oauth/authorize$"):
        _fetch(edl, fake, sleeps)
    assert edl.count("urs") == 1
    assert sleeps == []


def test_403_from_the_archive_is_refused_without_retry(edl, fake):
    edl.faults = [403]
    with pytest.raises(LoginRefusedError, match="HTTP 403"):
        _fetch(edl, fake)
    assert edl.count("archive") == 1


def test_login_page_is_a_refusal(edl, fake):
    # An EDL host that does not match: no Authorization reaches URS, which answers its login page.
    with pytest.raises(LoginRefusedError, match="login page"):
        _fetch(edl, fake, edl_host="elsewhere.example")
    assert "Authorization" not in edl.requests[1][2]


def test_timeout_is_a_clear_error(edl, fake):
    edl.faults = ["hang", "hang"]
    edl.hang_seconds = 1.0
    with pytest.raises(RenewError, match=r"failed after 2 attempt\(s\); last: no answer within 0.2 s from 127.0.0.1"):
        _fetch(edl, fake, timeout=0.2, attempts=2)


def test_connection_refused_is_retried_then_reported(fake):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps: list[float] = []
    with pytest.raises(RenewError, match=r"cannot reach 127.0.0.1:\d+/s3credentials"):
        fetch_s3_credentials(
            f"http://127.0.0.1:{port}/s3credentials", fake.user, fake.password, attempts=2, backoff=0.1,
            sleep=sleeps.append,
        )
    assert sleeps == [0.1]


def test_credentials_are_never_sent_over_plain_http(edl, fake):
    edl.urs_base = "http://urs.example"
    with pytest.raises(RenewError, match=r"refusing to send the Earthdata Login over plain http to urs\.example"):
        _fetch(edl, fake, edl_host="urs.example")


def test_json_without_a_key_names_the_key_not_the_values(edl, fake):
    edl.credentials_body = b'{"accessKeyId": "ASIAFAKEACCESSKEY0001", "secretAccessKey": "fakeSecretAccessKey/x"}'
    with pytest.raises(RenewError, match="answered JSON without sessionToken, expiration") as info:
        _fetch(edl, fake)
    fake.assert_no_secret(str(info.value))
    assert "ASIAFAKE" not in str(info.value)


def test_not_json_is_a_clear_error(edl, fake):
    edl.credentials_body = b"<html>maintenance</html>"
    with pytest.raises(RenewError, match="did not answer JSON"):
        _fetch(edl, fake)


def test_where_hides_the_query_and_user_info():
    url = "https://u:p@urs.earthdata.nasa.gov/oauth/authorize?code=SECRET"
    assert where(url) == "urs.earthdata.nasa.gov/oauth/authorize"
    assert where("http://127.0.0.1:8080/redirect?code=X") == "127.0.0.1:8080/redirect"


@pytest.mark.parametrize(
    ("url", "host", "expected"),
    [
        ("https://urs.earthdata.nasa.gov/oauth/authorize", "urs.earthdata.nasa.gov", True),
        ("https://URS.earthdata.nasa.gov/x", "urs.earthdata.nasa.gov", True),
        ("https://urs.earthdata.nasa.gov.evil.example/x", "urs.earthdata.nasa.gov", False),
        ("https://archive.podaac.earthdata.nasa.gov/s3credentials", "urs.earthdata.nasa.gov", False),
        ("http://127.0.0.1:5000/x", "127.0.0.1:5000", True),
        ("http://127.0.0.1:5001/x", "127.0.0.1:5000", False),
    ],
)
def test_on_host(url, host, expected):
    assert on_host(url, host) is expected
