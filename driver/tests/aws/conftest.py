"""Fixtures for the AWS tests: fake credentials, moto's Batch/ECR/S3/Logs, a deployment file.

Nothing here reaches AWS: moto runs in-process (``mock_aws``) and a guard
refuses every non-loopback connection.  moto's Batch backend has two modes:
``use_docker=False`` (jobs end SUCCEEDED at once; the tests check what was
submitted) and the default, which runs each job as a container (tests marked
``docker``, see tests/test_batch_e2e.py).
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REGION = "us-east-1"
ACCOUNT = "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
QUEUE = "confluence-queue"
BUCKET = "confluence-runs"
#: A value that must never appear in any output, record or log.
SECRET = "sEcReT-do-not-print-3f9a1c"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail a test that opens a connection to anything but this machine."""
    real = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"test tried to reach {address}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials (the secret key is :data:`SECRET`), one region, records in tmp_path."""
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATESTING")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("CONFLUENCE_RECORDS", str(tmp_path / "records"))


def make_queue(batch: Any, iam: Any) -> str:
    """An unmanaged compute environment and the job queue :data:`QUEUE`; returns the queue ARN."""
    role = iam.create_role(RoleName="confluence-batch", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    env = batch.create_compute_environment(computeEnvironmentName="confluence-ce", type="UNMANAGED",
                                           state="ENABLED", serviceRole=role)
    return batch.create_job_queue(jobQueueName=QUEUE, state="ENABLED", priority=1, computeEnvironmentOrder=[
        {"order": 1, "computeEnvironment": env["computeEnvironmentArn"]}])["jobQueueArn"]


def seed_ecr(ecr: Any, images: list[str], version: str = "0.1.0", prefix: str = "confluence/",
             orchestrator: bool = True) -> None:
    """Put a (fake) manifest for every image into moto's ECR, as a push would.

    ``orchestrator``: also the ``driver`` image, which every deployment has (``run --batch`` in AWS).
    """
    for image in [*images, *(["driver"] if orchestrator and "driver" not in images else [])]:
        repo = f"{prefix}{image}"
        with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
            ecr.create_repository(repositoryName=repo)
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "config": {"digest": f"sha256:{abs(hash(repo)):064d}"[:71], "size": 1,
                               "mediaType": "application/vnd.docker.container.image.v1+json"}, "layers": []}
        ecr.put_image(repositoryName=repo, imageManifest=json.dumps(manifest), imageTag=version)


def renew_account() -> dict[str, Any]:
    """Inside ``mock_aws``: clients, the job queue, the runs bucket and the renew Lambda (a stub handler).

    ``clients["function"]`` is the Lambda's ARN.  Used by the renew tests and the all-steps e2e test.
    """
    import io
    import zipfile

    import boto3

    names = ("batch", "ecr", "s3", "iam", "logs", "events", "lambda", "ssm")
    clients: dict[str, Any] = {name: boto3.client(name, region_name=REGION) for name in names}
    make_queue(clients["batch"], clients["iam"])
    clients["s3"].create_bucket(Bucket=BUCKET)
    role = clients["iam"].create_role(RoleName="renew", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as zf:
        zf.writestr("confluence_renew/handler.py", "def handler(event, context):\n    return {}\n")
    clients["function"] = clients["lambda"].create_function(
        FunctionName="confluence-renew", Runtime="python3.11", Role=role,
        Handler="confluence_renew.handler.handler", Code={"ZipFile": code.getvalue()})["FunctionArn"]
    return clients


def stop_batch_jobs() -> None:
    """Tell moto's Docker Batch job threads to stop (they outlive ``mock_aws`` otherwise)."""
    from moto.batch.models import batch_backends

    for backend in batch_backends.values():
        for region in backend.values():
            for job in list(region._jobs.values()):
                job.stop = True


def demo_volumes(root: Path) -> Path:
    """Host folders standing in for the EFS volumes, with the demo world staged as a run would find it.

    The demo granules go into ``source`` (a real folder, not a link: moto bind-mounts it), continent.json,
    SWORD and SoS into ``input``.  The images run as uid 1000 (issue 20) and moto's Batch gives no
    ``--user``; on AWS the EFS access point's POSIX user owns what a job writes, here the bind-mounted
    folders are opened to the container's user instead.
    """
    from confluence_demo import generate
    from confluence_driver.data import prepare_data
    from confluence_driver.runner import RunFolder

    folder = RunFolder(root)
    folder.create()
    generate(root / "source")
    prepare_data(folder, None, None, None)
    for folder_path in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        folder_path.chmod(0o777)
    return root


@contextlib.contextmanager
def ecr_tagged(images: list[str]) -> Iterator[list[str]]:
    """Local images tagged with their ECR names (what `deploy` does before pushing); untagged afterwards."""
    import docker
    from confluence_driver import __version__
    from confluence_driver.runner import image_tag

    client, made = docker.from_env(), []
    try:
        for image in images:
            client.images.get(image_tag(image)).tag(f"{REGISTRY}/confluence/{image}", __version__)
            made.append(f"{REGISTRY}/confluence/{image}:{__version__}")
        yield made
    finally:
        for tag in made:
            client.images.remove(tag, noprune=True)


@pytest.fixture()
def moto_simple() -> Iterator[dict[str, Any]]:
    """moto with the simple Batch backend (no containers): clients and the queue."""
    import boto3
    from moto import mock_aws

    with mock_aws(config={"batch": {"use_docker": False}}):
        clients = {name: boto3.client(name, region_name=REGION) for name in ("batch", "ecr", "s3", "iam", "logs")}
        clients["queue_arn"] = make_queue(clients["batch"], clients["iam"])
        clients["s3"].create_bucket(Bucket=BUCKET)
        yield clients


def write_config(path: Path, host_root: Path | None = None, *, efs: bool = False, drop: str = "",
                 extra: str = "", poll: float = 0.05, batch: str = "", reference: str = "") -> Path:
    """A deployment file: host volumes under ``host_root`` (moto) or EFS access points; ``drop`` a key.

    ``batch``: more lines of [batch]; ``reference``: images.reference (default: the file's default).
    """
    lines = {
        "aws.region": f'region = "{REGION}"',
        "aws.account": f'account = "{ACCOUNT}"',
        "batch.job_queue": f'job_queue = "{QUEUE}"',
        "s3.runs_bucket": f'runs_bucket = "{BUCKET}"',
    }
    lines = {k: v for k, v in lines.items() if k != drop}

    def section(name: str) -> str:
        return "\n".join(v for k, v in lines.items() if k.startswith(name + "."))

    text = f"""[aws]
{section("aws")}

[batch]
{section("batch")}
poll_seconds = {poll}
queue_wait_seconds = 120
retry_attempts = 2
{batch}

[images]
version = "0.1.0"
{f'reference = "{reference}"' if reference else ""}

[s3]
{section("s3")}
runs_prefix = "runs"
sos_bucket = "confluence-sos"
"""
    if efs:
        points = "\n".join(f'{v} = "fsap-{i:04d}"' for i, v in enumerate(
            ["input", "diagnostics", "flpe", "moi", "offline", "validation", "output", "source"]))
        text += f'\n[efs]\nfile_system_id = "fs-1234"\n\n[efs.access_points]\n{points}\n'
    else:
        text += f'\n[host_volumes]\nroot = "{host_root}"\n'
    path.write_text(text + extra)
    return path
