"""read_credentials: the reader datagen and input mirror (moto SSM)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from confluence_renew.creds import parse_expiration, read_credentials
from confluence_renew.errors import RenewError

NOW = datetime(2024, 5, 1, 12, 10, tzinfo=UTC)  # 50 minutes before the fixture's expiration


@pytest.fixture()
def stored(ssm, fake):
    """The fixture's credentials stored under /confluence/creds, as the handler writes them."""
    for key, value in fake.creds.items():
        ssm.put_parameter(Name=f"/confluence/creds/{key}", Value=value, Type="SecureString")
    return ssm


def test_reads_the_four_values(stored, fake):
    assert read_credentials(stored, "/confluence/creds", now=NOW) == fake.creds


def test_prefix_from_the_environment(stored, fake, monkeypatch):
    monkeypatch.setenv("CONFLUENCE_CREDS_PREFIX", "/confluence/creds/")
    assert read_credentials(stored, now=NOW)["accessKeyId"] == fake.creds["accessKeyId"]


def test_missing_parameters_are_named(stored):
    stored.delete_parameter(Name="/confluence/creds/sessionToken")
    expected = r"^S3 credentials missing in SSM: /confluence/creds/sessionToken; is the renew"
    with pytest.raises(RenewError, match=expected):
        read_credentials(stored, "/confluence/creds", now=NOW)


def test_nothing_stored(ssm):
    expected = "missing in SSM: /x/accessKeyId, /x/secretAccessKey, /x/sessionToken, /x/expiration"
    with pytest.raises(RenewError, match=expected):
        read_credentials(ssm, "/x", now=NOW)


def test_expired(stored, fake):
    later = NOW + timedelta(hours=1)
    expected = r"expired at 2024-05-01T13:00:00\+00:00 \(now 2024-05-01T13:10:00\+00:00\)"
    with pytest.raises(RenewError, match=expected) as info:
        read_credentials(stored, "/confluence/creds", now=later)
    fake.assert_no_secret(str(info.value))


def test_margin(stored):
    with pytest.raises(RenewError, match="expire within 1:00:00, at 2024-05-01T13:00:00"):
        read_credentials(stored, "/confluence/creds", now=NOW, margin=timedelta(hours=1))
    assert read_credentials(stored, "/confluence/creds", now=NOW, margin=timedelta(minutes=10))


def test_unreadable_expiration(stored):
    stored.put_parameter(Name="/confluence/creds/expiration", Value="tomorrow", Type="SecureString", Overwrite=True)
    with pytest.raises(RenewError, match="SSM parameter /confluence/creds/expiration: expiration 'tomorrow' is not"):
        read_credentials(stored, "/confluence/creds", now=NOW)


def test_bad_prefix(ssm):
    with pytest.raises(RenewError, match="must start with '/'"):
        read_credentials(ssm, "confluence/creds")


@pytest.mark.parametrize(
    "text",
    ["2024-05-01 13:00:00+00:00", "2024-05-01T13:00:00Z", "2024-05-01T13:00:00", "2024-05-01T15:00:00+02:00"],
)
def test_parse_expiration(text):
    assert parse_expiration(text) == datetime(2024, 5, 1, 13, tzinfo=UTC)
