"""SoS from and to S3 (moto, in-process): versioned keys, never overwriting."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner
from confluence_core import ncio
from confluence_priors import io
from confluence_priors.cli import main

moto = pytest.importorskip("moto")

SOS = "na_sword_v16_SOS_priors.nc"


@pytest.fixture()
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-west-2"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with moto.mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket="sos", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
        yield client


def test_latest_key_picks_highest_version(s3: object) -> None:
    for key in (f"constrained/{SOS}", f"constrained/0001/{SOS}", f"constrained/0010/{SOS}",
                f"constrained/0002/{SOS}", "constrained/0003/other.nc", f"unconstrained/0099/{SOS}"):
        s3.put_object(Bucket="sos", Key=key, Body=b"x")
    assert io.latest_sos_key(s3, "sos", "constrained", SOS) == f"constrained/0010/{SOS}"
    assert io.latest_sos_key(s3, "sos", "nothing", SOS) == f"nothing/{SOS}"


def test_upload_never_overwrites(s3: object, tmp_path: Path) -> None:
    f = tmp_path / SOS
    f.write_bytes(b"new")
    s3.put_object(Bucket="sos", Key=f"p/0002/{SOS}", Body=b"old")
    with pytest.raises(Exception, match="exists already"):
        io.upload_sos(s3, f, "sos", f"p/0002/{SOS}")
    assert s3.get_object(Bucket="sos", Key=f"p/0002/{SOS}")["Body"].read() == b"old"
    io.upload_sos(s3, f, "sos", f"p/0003/{SOS}")
    assert s3.get_object(Bucket="sos", Key=f"p/0003/{SOS}")["Body"].read() == b"new"


def test_cli_reads_from_s3_and_uploads_new_version(s3: object, run_folder: Callable[..., Path]) -> None:
    local = run_folder()
    s3.upload_file(str(local), "sos", f"unconstrained/{SOS}")
    local.unlink()
    res = CliRunner().invoke(main, ["--index", "1", "--sos-bucket", "sos", "--upload", "s3://sos"])
    assert res.exit_code == 0, res.output
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="sos")["Contents"])
    assert keys == [f"unconstrained/0002/{SOS}", f"unconstrained/{SOS}"]  # beside the old one
    with ncio.open_dataset(local) as ds:
        assert ds.product_version == "0002"
    assert (local.parent / "versions" / "0001" / SOS).exists()

    # a second run reads 0002 from S3 and uploads 0003
    res = CliRunner().invoke(main, ["--index", "1", "--sos-bucket", "sos", "--upload", "s3://sos"])
    assert res.exit_code == 0, res.output
    assert f"unconstrained/0003/{SOS}" in [o["Key"] for o in s3.list_objects_v2(Bucket="sos")["Contents"]]


def test_cli_refuses_before_writing_when_key_exists(s3: object, run_folder: Callable[..., Path]) -> None:
    local = run_folder()
    before = local.read_bytes()
    s3.put_object(Bucket="sos", Key=f"u/unconstrained/0002/{SOS}", Body=b"someone else's 0002")
    res = CliRunner().invoke(main, ["--index", "1", "--upload", "s3://sos/u"])
    assert res.exit_code == 1
    assert f"s3://sos/u/unconstrained/0002/{SOS}: exists already" in res.output
    assert local.read_bytes() == before
    assert s3.get_object(Bucket="sos", Key=f"u/unconstrained/0002/{SOS}")["Body"].read() == b"someone else's 0002"
