"""Fixtures of the renew tests: no network, moto for AWS, a fake PO.DAAC + Earthdata Login on 127.0.0.1.

- ``no_network`` (autouse): any socket connection or name lookup outside the
  loopback interface fails the test.
- ``aws``: moto's in-process AWS (SSM, EventBridge) with fake credentials.
- ``edl``: two local HTTP servers replaying the recorded s3credentials
  redirect chain (``data/s3credentials_flow.json``): one plays the archive
  host, the other Earthdata Login.  They log every request and stop at teardown
  (and by themselves after ``SERVER_LIFETIME`` seconds at the latest).
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

DATA = Path(__file__).resolve().parent / "data"
FLOW = json.loads((DATA / "s3credentials_flow.json").read_text())
CREDS = json.loads((DATA / "s3credentials.json").read_text())

USER = "confluence-fake-user"
PASSWORD = "Fake-EDL-Passw0rd!"
LAMBDA_ARN = "arn:aws:lambda:us-west-2:123456789012:function:confluence-renew"
#: Every value that must never reach a log line or an error message.
SECRETS = (PASSWORD, CREDS["accessKeyId"], CREDS["secretAccessKey"], CREDS["sessionToken"])
#: Seconds after which a test server shuts itself down whatever happens.
SERVER_LIFETIME = 60
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


# --------------------------------------------------------------------------- no network


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any connection or DNS lookup that is not the loopback interface."""
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in _LOOPBACK:
            raise RuntimeError(f"test tried to reach the network: {address}")
        real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in _LOOPBACK and host is not None:
            raise RuntimeError(f"test tried to resolve {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


# --------------------------------------------------------------------------- AWS (moto)


@pytest.fixture()
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto's in-process AWS, region us-west-2, fake credentials, no metadata service."""
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-west-2", "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


@pytest.fixture()
def ssm(aws: None) -> Any:
    """A moto SSM client holding the EDL login as SecureString parameters (default names)."""
    import boto3

    client = boto3.client("ssm", region_name="us-west-2")
    client.put_parameter(Name="/confluence/edl/username", Value=USER, Type="SecureString")
    client.put_parameter(Name="/confluence/edl/password", Value=PASSWORD, Type="SecureString")
    return client


# --------------------------------------------------------------------------- fake PO.DAAC + EDL


@dataclass
class FakeEDL:
    """The archive and the Earthdata Login servers, replaying the recorded flow.

    ``faults``: what the next requests to the archive get instead of the flow,
    consumed one per request: an HTTP status (replayed ``server_error`` body)
    or ``"hang"`` (no answer for ``hang_seconds``).  ``urs_base`` overrides the
    URS address the archive redirects to.  ``requests`` logs
    ``(server, path, headers)`` of every request.
    """

    user: str = USER
    password: str = PASSWORD
    faults: list[int | str] = field(default_factory=list)
    hang_seconds: float = 1.0
    urs_base: str | None = None
    credentials_body: bytes | None = None
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    archive: str = ""
    urs: str = ""

    def replay(self, name: str) -> tuple[int, dict[str, str], bytes]:
        """The recorded response ``name`` with the servers' addresses filled in."""
        entry = FLOW[name]
        body = (DATA / entry["file"]).read_bytes() if "file" in entry else entry["body"].encode()
        if name == "archive_credentials" and self.credentials_body is not None:
            body = self.credentials_body
        fill = {"{archive}": self.archive, "{urs}": self.urs_base or self.urs}

        def sub(text: str) -> str:
            for key, value in fill.items():
                text = text.replace(key, value)
            return text

        return entry["status"], {k: sub(v) for k, v in entry["headers"].items()}, sub(body.decode()).encode()

    def count(self, server: str, path: str | None = None) -> int:
        """How many requests reached ``server`` (``"archive"`` / ``"urs"``), at ``path`` if given."""
        return sum(1 for s, p, _ in self.requests if s == server and (path is None or p == path))

    # routes ----------------------------------------------------------------
    def archive_route(self, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> Any:
        if self.faults:
            fault = self.faults.pop(0)
            if fault == "hang":
                time.sleep(self.hang_seconds)
                return None
            _, hdrs, body = self.replay("server_error")
            return int(fault), hdrs, body
        if path == "/s3credentials":
            cookie = headers.get("Cookie", "")
            return self.replay("archive_credentials" if "accessToken=FAKEsessionCOOKIE000" in cookie
                               else "archive_no_session")
        if path == "/redirect" and query.get("code") == ["FAKEoauthCODE000"]:
            return self.replay("archive_redirect")
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def urs_route(self, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> Any:
        if path != "/oauth/authorize":
            return 404, {"Content-Type": "text/plain"}, b"not found"
        auth = headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return self.replay("urs_login_page")
        expected = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return self.replay("urs_authorized" if auth[6:] == expected else "urs_refused")


def _handler_class(fake: FakeEDL, server_name: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            headers = dict(self.headers.items())
            fake.requests.append((server_name, parts.path, headers))
            route = fake.archive_route if server_name == "archive" else fake.urs_route
            answer = route(parts.path, parse_qs(parts.query), headers)
            if answer is None:  # "hang": the client gave up already
                return
            status, hdrs, body = answer
            try:
                self.send_response(status)
                for key, value in hdrs.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client timed out and closed
                pass

        def log_message(self, format: str, *args: Any) -> None:
            """Silence the default stderr access log."""

    return Handler


@pytest.fixture()
def edl(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEDL]:
    """Start the fake archive and URS servers; point the ``CONFLUENCE_*`` settings at them."""
    fake = FakeEDL()
    servers = []
    for name in ("archive", "urs"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(fake, name))
        server.daemon_threads = True
        setattr(fake, name, f"http://127.0.0.1:{server.server_port}")
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        stopper = threading.Timer(SERVER_LIFETIME, server.shutdown)
        stopper.daemon = True
        stopper.start()
        servers.append((server, stopper))
    monkeypatch.setenv("CONFLUENCE_S3CREDS_URL", f"{fake.archive}/s3credentials")
    monkeypatch.setenv("CONFLUENCE_EDL_HOST", fake.urs.removeprefix("http://"))
    monkeypatch.setenv("CONFLUENCE_S3CREDS_TIMEOUT", "2")
    monkeypatch.setenv("CONFLUENCE_S3CREDS_BACKOFF", "0")
    try:
        yield fake
    finally:
        for server, stopper in servers:
            stopper.cancel()
            server.shutdown()
            server.server_close()


def assert_no_secret(*texts: str) -> None:
    """Fail when any text holds a credential value (password, access key, secret key, token)."""
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, "a credential value leaked into a log line or message"


@pytest.fixture()
def fake() -> SimpleNamespace:
    """The fake values of the tests (test modules cannot import conftest under --import-mode=importlib)."""
    return SimpleNamespace(
        user=USER, password=PASSWORD, lambda_arn=LAMBDA_ARN, creds=dict(CREDS), secrets=SECRETS,
        assert_no_secret=assert_no_secret,
    )
