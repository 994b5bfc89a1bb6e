"""``run --batch`` starts the run in AWS (the orchestrator job) and returns; the run lives in its record on S3.

moto's simple Batch backend runs no container (a job ends SUCCEEDED at once), so here the
orchestrator's own command is run in-process, as its container would run it, after the
launching command has exited: the client is gone and the run still finishes.  The same with
real containers (the ``driver`` image on moto's Docker Batch, the client killed) is
tests/aws/test_batch_orchestrator.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from confluence_core.volumes import VOLUMES
from confluence_driver.aws import orchestrator
from confluence_driver.cli import main

from .conftest import BUCKET, QUEUE, seed_ecr, write_config

WORKFLOW = Path(__file__).parent / "data" / "phases_workflow.toml"


@pytest.fixture()
def deployed(tmp_path: Path, moto_simple: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Host volumes, a deployment (the small workflow's definitions and the orchestrator's)."""
    root = tmp_path / "volumes"
    for sub in VOLUMES:
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "input" / "reaches.json").write_text(json.dumps([{"reach_id": 71000000001 + 10 * i} for i in range(3)]))
    config = write_config(tmp_path / "deploy.toml", root, reference="digest")
    seed_ecr(moto_simple["ecr"], ["datagen", "combine_data", "prediagnostics", "flpe-momma", "validation"])
    result = CliRunner().invoke(main, ["deploy", "--config", str(config), "--workflow", str(WORKFLOW), "--skip-push"])
    assert result.exit_code == 0, result.output
    # where the orchestrator's container would find the input volume and keep its scratch records
    monkeypatch.setattr(orchestrator, "LISTS_PATH", str(root / "input"))
    monkeypatch.setattr(orchestrator, "CONTAINER_RECORDS", str(tmp_path / "container-records"))
    return {**moto_simple, "root": root, "config": config, "records": tmp_path / "records"}


def launch(deployed: dict[str, Any], *extra: str) -> Any:
    return CliRunner().invoke(main, ["run", "--batch", "--config", str(deployed["config"]), "--workflow",
                                     str(WORKFLOW), "--records", str(deployed["records"]), *extra])


def jobs(deployed: dict[str, Any]) -> list[dict[str, Any]]:
    batch = deployed["batch"]
    ids = [j["jobId"] for state in ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")
           for j in batch.list_jobs(jobQueue=QUEUE, jobStatus=state)["jobSummaryList"]]
    return batch.describe_jobs(jobs=ids)["jobs"] if ids else []


def s3_record(deployed: dict[str, Any], run_id: str) -> dict[str, Any]:
    body = deployed["s3"].get_object(Bucket=BUCKET, Key=f"runs/{run_id}.json")["Body"].read()
    return json.loads(body)


def run_orchestrator(deployed: dict[str, Any], job: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run the orchestrator job's command in-process, with the job id Batch gives its container."""
    monkeypatch.setenv(orchestrator.JOB_ID_ENV, job["jobId"])
    command = job["container"]["command"]
    assert command[0] == "confluence"
    return CliRunner().invoke(main, [*command[1:], "--workflow", str(WORKFLOW)])


def test_run_batch_starts_the_orchestrator_and_returns(deployed: dict[str, Any]) -> None:
    result = launch(deployed)
    assert result.exit_code == 0, result.output
    run_id = result.stdout.strip().splitlines()[-1]
    (job,) = jobs(deployed)  # one job: the orchestrator; no workflow step was submitted from here
    assert job["jobName"] == f"confluence-orchestrator-{run_id}-0"
    assert job["jobDefinition"].split("/")[-1].startswith("confluence-driver:")
    url = f"s3://{BUCKET}/runs/{run_id}.config.toml"
    command = job["container"]["command"]
    assert command[:8] == ["confluence", "run", "--batch", "--attached", "--config", url, "--resume", run_id]
    assert command[command.index("--lists") + 1] == orchestrator.LISTS_PATH
    assert command[command.index("--steps") + 1] == "make,merge,per_reach,per_reach_again,summary"
    assert command[command.index("--branch") + 1] == "unconstrained"
    copy = deployed["s3"].get_object(Bucket=BUCKET, Key=f"runs/{run_id}.config.toml")["Body"].read()
    assert copy == deployed["config"].read_bytes()
    record = s3_record(deployed, run_id)
    assert record["state"] == "SUBMITTED" and record["steps"] == {}
    assert record[orchestrator.NAME]["jobs"] == [{"job_id": job["jobId"], "offset": 0, "size": 1, "array": False}]
    assert record[orchestrator.NAME]["config"] == url
    assert f"follow it: confluence status {run_id}" in result.stderr


def test_the_run_finishes_after_the_launcher_is_gone(deployed: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The launcher returned (its process could be killed); the orchestrator's job runs the whole run."""
    result = launch(deployed)
    assert result.exit_code == 0, result.output
    run_id = result.stdout.strip().splitlines()[-1]
    (boss,) = jobs(deployed)
    done = run_orchestrator(deployed, boss, monkeypatch)
    assert done.exit_code == 0, done.output
    record = s3_record(deployed, run_id)
    assert record["state"] == "SUCCEEDED"
    assert {name: entry["state"] for name, entry in record["steps"].items()} == dict.fromkeys(
        ["make", "merge", "per_reach", "per_reach_again", "summary"], "SUCCEEDED")
    assert record[orchestrator.NAME]["state"] == "SUCCEEDED"
    assert record[orchestrator.NAME]["running"] == boss["jobId"]
    assert record["steps"]["per_reach"]["size"] == 3  # the lists were read where they are (the input volume)
    status = CliRunner().invoke(main, ["status", run_id, "--records", str(deployed["records"])])
    assert status.exit_code == 0, status.output
    assert f"run {run_id}: SUCCEEDED" in status.output  # the local copy said SUBMITTED: status reads S3
    assert f"orchestrator: job {boss['jobId']} SUCCEEDED" in status.output


def test_an_orchestrator_that_ended_early_is_reported_and_resumed(deployed: dict[str, Any],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    result = launch(deployed)
    run_id = result.stdout.strip().splitlines()[-1]
    (first,) = jobs(deployed)  # moto's simple backend ends it SUCCEEDED without running it
    status = CliRunner().invoke(main, ["status", run_id, "--records", str(deployed["records"])])
    assert f"stopped: its orchestrator job {first['jobId']} ended SUCCEEDED" in status.output
    assert f"--resume {run_id}" in status.output
    waited = launch(deployed, "--resume", run_id, "--wait")  # a second orchestrator job, then follow it
    assert waited.exit_code == 1  # the simple backend "finishes" it at once: the run is stranded again
    assert "stopped: its orchestrator job" in waited.stderr
    record = s3_record(deployed, run_id)
    second = record[orchestrator.NAME]["jobs"][1]["job_id"]
    assert {j["jobName"] for j in jobs(deployed)} == {f"confluence-orchestrator-{run_id}-0",
                                                     f"confluence-orchestrator-{run_id}-1"}
    done = run_orchestrator(deployed, next(j for j in jobs(deployed) if j["jobId"] == second), monkeypatch)
    assert done.exit_code == 0, done.output
    assert s3_record(deployed, run_id)["state"] == "SUCCEEDED"
    again = launch(deployed, "--resume", run_id)
    assert again.exit_code == 1 and f"run {run_id} has already succeeded: nothing to resume" in again.output


def test_resume_refuses_while_an_orchestrator_is_alive(deployed: dict[str, Any],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    result = launch(deployed)
    run_id = result.stdout.strip().splitlines()[-1]
    (job,) = jobs(deployed)
    monkeypatch.setattr(orchestrator, "job_state", lambda aws, record: {**job, "status": "RUNNING"})
    again = launch(deployed, "--resume", run_id)
    assert again.exit_code == 1
    assert f"run {run_id} is still orchestrated by Batch job {job['jobId']} (RUNNING)" in again.output
    assert len(jobs(deployed)) == 1


def test_lists_go_with_attached(deployed: dict[str, Any]) -> None:
    result = launch(deployed, "--lists", str(deployed["root"] / "input"))
    assert result.exit_code == 1
    assert "--lists goes with --attached" in result.output
    assert not jobs(deployed)


def test_dry_run_names_where_the_run_lives(deployed: dict[str, Any]) -> None:
    result = launch(deployed, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"orchestration: the orchestrator job (driver image, queue {QUEUE})"
    assert not jobs(deployed)


def test_an_undeployed_orchestrator_is_one_line(tmp_path: Path, moto_simple: dict[str, Any]) -> None:
    root = tmp_path / "volumes"
    for sub in VOLUMES:
        (root / sub).mkdir(parents=True, exist_ok=True)
    config = write_config(tmp_path / "deploy.toml", root, reference="digest")
    seed_ecr(moto_simple["ecr"], ["datagen", "combine_data", "prediagnostics", "flpe-momma", "validation"])
    batch = moto_simple["batch"]
    for image in ("datagen", "combine_data", "prediagnostics", "flpe-momma", "validation"):  # an older deploy
        uri = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/confluence/{image}"
        digest = moto_simple["ecr"].describe_images(repositoryName=f"confluence/{image}")["imageDetails"][0][
            "imageDigest"]
        batch.register_job_definition(jobDefinitionName=f"confluence-{image}", type="container",
                                      containerProperties={"image": f"{uri}@{digest}", "vcpus": 1, "memory": 512})
    result = CliRunner().invoke(main, ["run", "--batch", "--config", str(config), "--workflow", str(WORKFLOW),
                                       "--records", str(tmp_path / "records")])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        f"error: Batch job definition confluence-driver is not registered: run confluence deploy --config {config}")
