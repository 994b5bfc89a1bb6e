"""Results to S3 (moto, in-process): key {prefix}/{run_id}/{file}, never over an earlier object."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner, Result
from confluence_core.errors import ConfluenceError
from confluence_output import cli, s3
from output_runfolder import RESULTS

moto = pytest.importorskip("moto")

BUCKET = "sos-results"


@pytest.fixture()
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-west-2"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with moto.mock_aws():
        c = boto3.client("s3")
        c.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
        yield c


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli.main, ["--index", "1", *args])


def keys(client: Any) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_upload_under_run_id_and_never_overwrite(client: Any, run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFLUENCE_RESULTS_BUCKET", f"s3://{BUCKET}/results/v1")
    res = invoke()
    assert res.exit_code == 0, res.output
    key = f"results/v1/run-test-1/{RESULTS}"
    assert keys(client) == [key]
    body = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert body == run.read_bytes() and body[:4] == b"\x89HDF"
    assert [p.name for p in run.parent.iterdir()] == [RESULTS]  # no staging left behind

    # the same run id again: refused before any work, the earlier object untouched
    run.unlink()
    res = invoke()
    assert res.exit_code == 1
    assert f"s3://{BUCKET}/{key}: exists already" in res.stderr
    assert client.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body
    assert not run.exists()

    # a new run id: a new key beside the old one
    res = invoke("--run-id", "run-test-2")
    assert res.exit_code == 0, res.output
    assert keys(client) == [key, f"results/v1/run-test-2/{RESULTS}"]


def test_conditional_put_refuses_a_key_that_appeared_meanwhile(client: Any, tmp_path: Path) -> None:
    f = tmp_path / RESULTS
    f.write_bytes(b"new")
    s3.check_destination(client, BUCKET, "p/r/x.nc")  # free at check time ...
    client.put_object(Bucket=BUCKET, Key="p/r/x.nc", Body=b"someone else")  # ... then taken
    with pytest.raises(ConfluenceError, match="exists already"):
        s3.upload(client, f, BUCKET, "p/r/x.nc")
    assert client.get_object(Bucket=BUCKET, Key="p/r/x.nc")["Body"].read() == b"someone else"


def test_multipart_upload_is_conditional_too(client: Any, tmp_path: Path) -> None:
    f = tmp_path / "big.nc"
    data = bytes(range(256)) * (6 * 1024 * 1024 // 256 + 1)  # > one 5 MiB part
    f.write_bytes(data)
    s3.upload(client, f, BUCKET, "p/big.nc", part_size=5 * 1024 * 1024, single_limit=1024)
    assert client.get_object(Bucket=BUCKET, Key="p/big.nc")["Body"].read() == data
    with pytest.raises(ConfluenceError, match="exists already"):
        s3.upload(client, f, BUCKET, "p/big.nc", part_size=5 * 1024 * 1024, single_limit=1024)
    assert client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []  # aborted, nothing dangling


def test_missing_bucket_fails_before_any_work(client: Any, run: Path) -> None:
    res = invoke("--bucket", "s3://no-such-bucket/results")
    assert res.exit_code == 1
    last = res.stderr.strip().splitlines()[-1]
    assert "s3://no-such-bucket/results/run-test-1/" in last and "does not exist" in last
    assert not run.exists()


def test_access_denied_is_one_clear_line(run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    denied = boto3.client("s3", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(denied)
    stub.add_client_error("head_bucket", service_error_code="403", service_message="Forbidden", http_status_code=403)
    stub.activate()
    monkeypatch.setattr(cli, "_s3_client", lambda: denied)
    res = invoke("--bucket", f"s3://{BUCKET}/results")
    assert res.exit_code == 1
    last = res.stderr.strip().splitlines()[-1]
    assert last.startswith("error: confluence-output:") and "access denied" in last
    assert not run.exists()


def test_bucket_needs_a_run_id(run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONFLUENCE_RUN_ID")
    res = invoke("--bucket", f"s3://{BUCKET}")
    assert res.exit_code == 1 and "needs a run id" in res.stderr
    res = invoke("--bucket", "http://not-s3", "--run-id", "r")
    assert res.exit_code == 1 and "not an S3 URL" in res.stderr


def test_keys() -> None:
    assert s3.parse_url("s3://bkt/a/b/") == ("bkt", "a/b")
    assert s3.parse_url("s3://bkt") == ("bkt", "")
    assert s3.results_key("a/b", "run7", "x.nc") == "a/b/run7/x.nc"
    assert s3.results_key("", "run7", "x.nc") == "run7/x.nc"
