"""The Lambda handler: moto SSM + the recorded s3credentials flow on 127.0.0.1."""

from __future__ import annotations

import logging
import traceback

import pytest
from confluence_renew.errors import LoginRefusedError, RenewError
from confluence_renew.handler import handler, renew
from confluence_renew.settings import Settings

KEYS = ("accessKeyId", "secretAccessKey", "sessionToken", "expiration")


def _stored(ssm, prefix="/confluence/creds"):
    """``{name: (type, value)}`` of every parameter under ``prefix``."""
    found = ssm.get_parameters_by_path(Path=prefix, WithDecryption=True)["Parameters"]
    return {p["Name"]: (p["Type"], p["Value"]) for p in found}


def test_success_writes_four_securestrings(ssm, edl, fake):
    result = handler({"source": "aws.events"}, None)
    stored = _stored(ssm)
    assert stored == {f"/confluence/creds/{k}": ("SecureString", fake.creds[k]) for k in KEYS}
    assert result == {
        "prefix": "/confluence/creds",
        "parameters": [f"/confluence/creds/{k}" for k in KEYS],
        "expiration": fake.creds["expiration"],
    }


def test_overwrites_old_values_under_a_configured_prefix(ssm, edl, fake, monkeypatch):
    monkeypatch.setenv("CONFLUENCE_CREDS_PREFIX", "/run7/creds/")
    for key in KEYS:
        ssm.put_parameter(Name=f"/run7/creds/{key}", Value="old", Type="SecureString")
    handler({}, None)
    stored = _stored(ssm, "/run7/creds")
    assert {name: value for name, (_, value) in stored.items()} == {f"/run7/creds/{k}": fake.creds[k] for k in KEYS}
    assert ssm.get_parameter(Name="/run7/creds/sessionToken")["Parameter"]["Version"] == 2


def test_configured_edl_parameter_names(ssm, edl, fake, monkeypatch):
    ssm.put_parameter(Name="/other/user", Value=fake.user, Type="SecureString")
    ssm.put_parameter(Name="/other/pass", Value=fake.password, Type="SecureString")
    ssm.delete_parameters(Names=["/confluence/edl/username", "/confluence/edl/password"])
    monkeypatch.setenv("CONFLUENCE_EDL_USER_PARAM", "/other/user")
    monkeypatch.setenv("CONFLUENCE_EDL_PASSWORD_PARAM", "/other/pass")
    handler({}, None)
    assert len(_stored(ssm)) == 4


def test_retries_on_500_then_succeeds(ssm, edl, fake):
    edl.faults = [500]
    sleeps: list[float] = []
    renew(ssm, Settings.from_env(), sleep=sleeps.append)
    assert len(sleeps) == 1
    assert len(_stored(ssm)) == 4


def test_refused_login_is_one_clear_error_nothing_written(ssm, edl, fake):
    edl.password = "the password EDL expects"
    with pytest.raises(LoginRefusedError) as info:
        handler({}, None)
    message = str(info.value)
    assert message.startswith(
        "Earthdata Login refused the credentials in SSM parameter /confluence/edl/username "
        "(and /confluence/edl/password): HTTP 401 from 127.0.0.1:"
    )
    assert "\n" not in message
    assert edl.count("urs") == 1  # no retry
    assert _stored(ssm) == {}
    fake.assert_no_secret(message)


def test_missing_edl_parameter_is_a_clear_error(ssm, edl, monkeypatch):
    monkeypatch.setenv("CONFLUENCE_EDL_PASSWORD_PARAM", "/nope/password")
    expected = r"^SSM parameter /nope/password \(the Earthdata Login password\) does not exist$"
    with pytest.raises(RenewError, match=expected):
        handler({}, None)
    assert edl.requests == []  # nothing asked before the login is known


def test_timeout_is_a_clear_error_nothing_written(ssm, edl, monkeypatch):
    monkeypatch.setenv("CONFLUENCE_S3CREDS_TIMEOUT", "0.2")
    monkeypatch.setenv("CONFLUENCE_S3CREDS_ATTEMPTS", "2")
    edl.faults = ["hang", "hang"]
    with pytest.raises(RenewError, match=r"failed after 2 attempt\(s\); last: no answer within 0.2 s"):
        handler({}, None)
    assert _stored(ssm) == {}


def test_bad_setting_is_a_clear_error(ssm, monkeypatch):
    monkeypatch.setenv("CONFLUENCE_S3CREDS_ATTEMPTS", "many")
    with pytest.raises(RenewError, match="CONFLUENCE_S3CREDS_ATTEMPTS must be a number, not 'many'"):
        handler({}, None)


class _LeakySSM:
    """An SSM client whose put_parameter fails with a message quoting the value (as AWS validation errors can)."""

    def __init__(self, real):
        self.real = real

    def get_parameter(self, **kwargs):
        return self.real.get_parameter(**kwargs)

    def put_parameter(self, **kwargs):
        raise ValueError(f"value {kwargs['Value']} rejected")


def test_a_failure_quoting_a_secret_is_redacted(ssm, edl, fake):
    with pytest.raises(RenewError, match=r"unexpected ValueError: value \*\*\* rejected") as info:
        renew(_LeakySSM(ssm), Settings.from_env())
    fake.assert_no_secret(str(info.value), "".join(traceback.format_exception(info.value)))


@pytest.mark.parametrize("scenario", ["success", "retry", "refused", "timeout", "bad_json"])
def test_secrets_never_in_logs_or_errors(ssm, edl, fake, monkeypatch, caplog, scenario):
    monkeypatch.setenv("CONFLUENCE_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("CONFLUENCE_S3CREDS_TIMEOUT", "0.3")
    monkeypatch.setenv("CONFLUENCE_S3CREDS_ATTEMPTS", "2")
    edl.faults = {"retry": [500], "timeout": ["hang", "hang"]}.get(scenario, [])
    if scenario == "refused":
        edl.password = "the password EDL expects"
    if scenario == "bad_json":
        edl.credentials_body = ("<p>" + " ".join(fake.creds.values()) + "</p>").encode()
    caplog.set_level(logging.DEBUG)  # every logger, the AWS SDK's included, as low as it goes
    texts = []
    try:
        handler({}, None)
    except RenewError as exc:
        texts += [str(exc), "".join(traceback.format_exception(exc))]
    else:
        assert scenario in ("success", "retry")
    records = caplog.records
    assert any(r.name.startswith("confluence_renew") for r in records)
    texts += [r.getMessage() for r in records]
    texts += [caplog.text]
    fake.assert_no_secret(*texts)


def test_sdk_debug_logging_is_muted_so_written_values_cannot_leak(ssm, edl):
    logging.getLogger("botocore").setLevel(logging.DEBUG)
    handler({}, None)
    assert logging.getLogger("botocore").getEffectiveLevel() >= logging.WARNING
