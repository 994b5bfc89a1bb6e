"""End to end: ``confluence run --batch`` against moto, whose Batch backend runs real containers.

datagen, combine_data and input run as containers of the built images
(``confluence/<image>:0.1.0``, tagged with their ECR names as a push would)
on the demo world, with host folders standing in for EFS; the files they
write must equal those of ``confluence run --local`` on the same world.

moto 5.2.5 gaps this test works around (the driver depends on none of them):
it never sets AWS_BATCH_JOB_ARRAY_INDEX in array children (patched below, in
the test only), and it cannot mount EFS (host volumes in the configuration).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from confluence_core import workflow as wf
from confluence_driver import __version__
from confluence_driver.cli import main
from confluence_driver.runner import image_tag

from .conftest import (
    BUCKET,
    REGION,
    SECRET,
    demo_volumes,
    ecr_tagged,
    make_queue,
    seed_ecr,
    stop_batch_jobs,
    write_config,
)

STEPS = ["datagen", "combine_data", "input"]


def docker_ready(images: list[str]) -> str:
    """'' when a Docker engine answers and the images exist, else why the test skips."""
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.ping()
    except Exception as exc:  # no SDK, no engine, no permission
        return f"no Docker engine ({type(exc).__name__}); moto's simple backend tests cover submission"
    for image in images:
        try:
            client.images.get(image)
        except Exception:
            return f"image {image} not built (make build)"
    return ""


SKIP = docker_ready([image_tag(s, __version__) for s in STEPS])
pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.skipif(bool(SKIP), reason=SKIP or "ok")]


@pytest.fixture()
def array_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test-only patch of moto 5.2.5: give each array child its AWS_BATCH_JOB_ARRAY_INDEX, as AWS does.

    moto builds a child's environment from an override list all children
    share; the patch returns a copy with the child's index appended (the last
    value of a name wins when moto turns the list into a dict).
    """
    from moto.batch.models import Job

    original = Job._get_container_property

    def prop(self: Any, name: str, default: Any) -> Any:
        value = original(self, name, default)
        index = (self.array_properties or {}).get("index")
        if name == "environment" and index is not None:
            value = [*value, {"name": "AWS_BATCH_JOB_ARRAY_INDEX", "value": str(index)}]
        return value

    monkeypatch.setattr(Job, "_get_container_property", prop)


@pytest.fixture()
def moto_docker(array_index: None) -> Iterator[dict[str, Any]]:
    """moto with the Docker Batch backend; lingering job threads are stopped afterwards."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        clients = {n: boto3.client(n, region_name=REGION) for n in ("batch", "ecr", "s3", "iam", "logs")}
        make_queue(clients["batch"], clients["iam"])
        clients["s3"].create_bucket(Bucket=BUCKET)
        try:
            yield clients
        finally:
            stop_batch_jobs()


@pytest.fixture()
def ecr_tags() -> Iterator[list[str]]:
    with ecr_tagged(STEPS) as made:
        yield made


def compare_trees(batch: Path, local: Path) -> int:
    """Assert the two input volumes hold the same files, JSON and NetCDF variables equal; return the count."""
    import netCDF4

    files = sorted(p.relative_to(local) for p in local.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(batch) for p in batch.rglob("*") if p.is_file())
    for rel in files:
        a, b = batch / rel, local / rel
        if rel.suffix == ".json":
            assert json.loads(a.read_text()) == json.loads(b.read_text()), rel
        elif rel.suffix == ".nc":
            with netCDF4.Dataset(a) as da, netCDF4.Dataset(b) as db:
                compare_groups(da, db, str(rel))
    return len(files)


def compare_groups(a: Any, b: Any, where: str) -> None:
    assert set(a.variables) == set(b.variables), where
    for name in a.variables:
        va, vb = a.variables[name][...], b.variables[name][...]
        np.testing.assert_array_equal(np.ma.getdata(va), np.ma.getdata(vb), err_msg=f"{where}:{name}")
    assert set(a.groups) == set(b.groups), where
    for name in a.groups:
        compare_groups(a.groups[name], b.groups[name], f"{where}/{name}")


def test_batch_run_on_moto_equals_the_local_run(tmp_path: Path, moto_docker: dict[str, Any], ecr_tags: list[str]):
    root = demo_volumes(tmp_path / "volumes")
    config = write_config(tmp_path / "deploy.toml", root, poll=0.5)
    seed_ecr(moto_docker["ecr"], list(dict.fromkeys(s.image for s in wf.load().steps if s.ready)))
    runner = CliRunner()
    out = runner.invoke(main, ["deploy", "--config", str(config), "--skip-push"])
    assert out.exit_code == 0, out.output
    records = tmp_path / "records"

    result = runner.invoke(main, ["run", "--batch", "--attached", "--config", str(config), "--until", "input",
                                  "--records", str(records)])
    assert result.exit_code == 0, result.output
    (path,) = records.glob("*.json")
    record = json.loads(path.read_text())
    assert {k: (v["state"], v["size"]) for k, v in record["steps"].items()} == {
        "datagen": ("SUCCEEDED", 6), "combine_data": ("SUCCEEDED", 1), "input": ("SUCCEEDED", 3)}
    assert record["steps"]["input"]["phase"] == 2

    local = tmp_path / "local"
    done = runner.invoke(main, ["run", "--local", "--engine", "process", "--workdir", str(local), "--source",
                                str(root / "source"), "--until", "input"])
    assert done.exit_code == 0, done.output
    assert compare_trees(root / "input", local / "input") > 50

    logs = runner.invoke(main, ["logs", record["run_id"], "input", "2", "--records", str(records)])
    assert logs.exit_code == 0, logs.output
    assert "confluence-input: basin: 6 of 6 reaches written" in logs.output  # the child's CloudWatch stream
    status = runner.invoke(main, ["status", record["run_id"], "--records", str(records)])
    assert "input                  SUCCEEDED         3         3      0" in status.output

    texts = [result.output, logs.output, status.output, path.read_text()]
    for step in record["steps"].values():
        for job in step["jobs"]:
            for child in ([f"{job['job_id']}:{i}" for i in range(job["size"])] if job["array"] else [job["job_id"]]):
                texts.append(json.dumps(moto_docker["batch"].describe_jobs(jobs=[child])["jobs"], default=str))
    streams = moto_docker["logs"].describe_log_streams(logGroupName="/aws/batch/job")["logStreams"]
    assert len(streams) >= 10
    for stream in streams:
        events = moto_docker["logs"].get_log_events(logGroupName="/aws/batch/job",
                                                     logStreamName=stream["logStreamName"])["events"]
        texts += [e["message"] for e in events]
    assert not [t for t in texts if SECRET in t]
