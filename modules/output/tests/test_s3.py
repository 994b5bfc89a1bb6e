"""Results to S3 (moto, in-process): key {prefix}/{run_id}/{file}, never over an earlier object."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner, Result
from confluence_output import cli
from output_runfolder import RESULTS

moto = pytest.importorskip("moto")

BUCKET = "sos-results"


@pytest.fixture()
def client(moto_s3: Callable[[str], Any]) -> Any:
    return moto_s3(BUCKET)


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
    assert res.exit_code == 1 and "not an S3 bucket name or s3://bucket/prefix URL" in res.stderr


def test_bare_bucket_name_and_prefix_as_the_deployment_file_passes_them(client: Any, run: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/aws.md: ``results_bucket = "name"`` and ``results_prefix`` reach the job as two variables."""
    monkeypatch.setenv("CONFLUENCE_RESULTS_BUCKET", BUCKET)
    monkeypatch.setenv("CONFLUENCE_RESULTS_PREFIX", "results")
    res = invoke()
    assert res.exit_code == 0, res.output
    assert keys(client) == [f"results/run-test-1/{RESULTS}"]
    # a URL's own prefix comes first, then the prefix
    res = invoke("--bucket", f"s3://{BUCKET}/top", "--run-id", "run-test-2")
    assert res.exit_code == 0, res.output
    assert f"top/results/run-test-2/{RESULTS}" in keys(client)
