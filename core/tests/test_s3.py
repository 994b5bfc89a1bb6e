"""confluence_core.s3 against an in-process S3 (moto, no network)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluence_core import s3
from confluence_core.errors import ConfluenceError, InputError

moto = pytest.importorskip("moto")
boto3 = pytest.importorskip("boto3")

BUCKET = "bkt-test"


@pytest.fixture()
def client(moto_s3: Callable[[str], Any]) -> Any:
    return moto_s3(BUCKET)


def test_urls_and_keys() -> None:
    assert s3.parse_url("s3://bkt/a/b.zip") == ("bkt", "a/b.zip")
    assert s3.parse_url("s3://bkt/a/b/") == ("bkt", "a/b/")  # a listing prefix keeps its slash
    assert s3.parse_url(" s3://bkt ") == ("bkt", "")
    for bad in ("http://bkt/a", "s3://", "s3:///key", "s3://Upper/a", "bkt/a"):
        with pytest.raises(ConfluenceError, match="not an S3 URL"):
            s3.parse_url(bad)
    assert s3.join_key("a/b/", "run7", "x.nc") == "a/b/run7/x.nc"
    assert s3.join_key("", "run7", "x.nc") == "run7/x.nc"
    assert s3.join_key("/p/", "") == "p"
    assert s3.url("b", "k/x") == "s3://b/k/x" and s3.url("b") == "s3://b"


def test_bucket_named_bare_or_as_a_url() -> None:
    assert s3.parse_location("my-results") == ("my-results", "")
    assert s3.parse_location(" s3://my-results/a/b ") == ("my-results", "a/b")
    for bad in ("My_Results", "b/a", "ab", "http://b/a"):
        with pytest.raises(ConfluenceError, match="not an S3 bucket name or s3://bucket/prefix URL"):
            s3.parse_location(bad)


def test_exists_and_check_destination(client: Any) -> None:
    assert not s3.exists(client, BUCKET, "p/x.nc")
    s3.check_destination(client, BUCKET, "p/x.nc", "a thing")
    client.put_object(Bucket=BUCKET, Key="p/x.nc", Body=b"old")
    assert s3.exists(client, BUCKET, "p/x.nc")
    with pytest.raises(ConfluenceError, match=f"s3://{BUCKET}/p/x.nc: exists already: a thing is never written"):
        s3.check_destination(client, BUCKET, "p/x.nc", "a thing")
    with pytest.raises(ConfluenceError, match="s3://no-such-bucket/k: destination is not writable: bucket "
                                              "'no-such-bucket' does not exist"):
        s3.check_destination(client, "no-such-bucket", "k")


def test_access_denied_is_one_clear_line() -> None:
    from botocore.stub import Stubber

    denied = boto3.client("s3", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(denied)
    stub.add_client_error("head_object", service_error_code="403", service_message="Forbidden", http_status_code=403)
    stub.activate()
    with pytest.raises(ConfluenceError, match=r"cannot check the key: access denied \(403\)"):
        s3.exists(denied, BUCKET, "k")


def test_conditional_put_refuses_a_key_that_appeared_meanwhile(client: Any, tmp_path: Path) -> None:
    f = tmp_path / "x.nc"
    f.write_bytes(b"new")
    s3.check_destination(client, BUCKET, "p/r/x.nc")  # free at check time ...
    client.put_object(Bucket=BUCKET, Key="p/r/x.nc", Body=b"someone else")  # ... then taken
    with pytest.raises(ConfluenceError, match="exists already"):
        s3.upload(client, f, BUCKET, "p/r/x.nc")
    assert client.get_object(Bucket=BUCKET, Key="p/r/x.nc")["Body"].read() == b"someone else"
    assert s3.upload(client, f, BUCKET, "p/r/y.nc") == f"s3://{BUCKET}/p/r/y.nc"
    assert client.get_object(Bucket=BUCKET, Key="p/r/y.nc")["Body"].read() == b"new"


def test_multipart_upload_is_conditional_too(client: Any, tmp_path: Path) -> None:
    f = tmp_path / "big.nc"
    data = bytes(range(256)) * (6 * 1024 * 1024 // 256 + 1)  # > one 5 MiB part
    f.write_bytes(data)
    s3.upload(client, f, BUCKET, "p/big.nc", part_size=5 * 1024 * 1024, single_limit=1024)
    assert client.get_object(Bucket=BUCKET, Key="p/big.nc")["Body"].read() == data
    with pytest.raises(ConfluenceError, match="exists already"):
        s3.upload(client, f, BUCKET, "p/big.nc", part_size=5 * 1024 * 1024, single_limit=1024)
    assert client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []  # aborted, nothing dangling


def test_download(client: Any, tmp_path: Path) -> None:
    client.put_object(Bucket=BUCKET, Key="d/x.nc", Body=b"payload")
    dest = tmp_path / "sub" / "x.nc"
    assert s3.download(client, BUCKET, "d/x.nc", dest) == dest and dest.read_bytes() == b"payload"
    assert s3.download(client, BUCKET, "d/none.nc", tmp_path / "none.nc", missing_ok=True) is None
    with pytest.raises(InputError, match=f"s3://{BUCKET}/d/none.nc: cannot download: object not found"):
        s3.download(client, BUCKET, "d/none.nc", tmp_path / "none.nc")
    with pytest.raises(InputError, match="s3://no-such-bucket/x: cannot download"):
        s3.download(client, "no-such-bucket", "x", tmp_path / "x")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["sub", "x.nc"]  # no partial file left
