"""``confluence deploy``: job definitions from the workflow table, idempotent, clear failures."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from confluence_core import workflow as wf
from confluence_core.errors import ConfluenceError
from confluence_driver.aws.config import Aws, load_config
from confluence_driver.aws.deploy import deploy, plan_definitions, push_images, push_plan
from confluence_driver.cli import main

from .conftest import QUEUE, REGISTRY, SECRET, seed_ecr, write_config


def ready_images() -> list[str]:
    """The images a deployment has: the ready rows' and the orchestrator's (``run --batch`` in AWS)."""
    return [*dict.fromkeys(s.image for s in wf.load().steps if s.ready), "driver"]


def definitions(batch: Any) -> dict[str, dict[str, Any]]:
    """name -> latest ACTIVE definition."""
    out: dict[str, dict[str, Any]] = {}
    for d in batch.describe_job_definitions(status="ACTIVE")["jobDefinitions"]:
        if d["revision"] >= out.get(d["jobDefinitionName"], {}).get("revision", 0):
            out[d["jobDefinitionName"]] = d
    return out


def test_plan_follows_the_workflow_table(tmp_path: Path):
    flow = wf.load()
    config = load_config(write_config(tmp_path / "d.toml", efs=True, extra="\n[resources.medium]\nvcpus = 3\n"))
    plans = {p.image: p for p in plan_definitions(flow, config)}
    assert set(plans) == set(ready_images())
    planned = {s.image for s in flow.steps if not s.ready} - set(ready_images())
    assert not planned & set(plans)  # planned rows get no definition
    inp = plans["input"].properties
    c = inp["containerProperties"]
    assert c["image"] == f"{REGISTRY}/confluence/input:0.1.0"
    assert c["command"] == ["confluence-input"]
    assert {r["type"]: r["value"] for r in c["resourceRequirements"]} == {"VCPU": "3", "MEMORY": "4096"}
    assert inp["timeout"] == {"attemptDurationSeconds": 7200}
    assert inp["retryStrategy"]["attempts"] == 2
    assert {m["sourceVolume"]: (m["containerPath"], m["readOnly"]) for m in c["mountPoints"]} == {
        "input": ("/mnt/data/input", False), "source": ("/mnt/data/source", True)}
    vols = {v["name"]: v["efsVolumeConfiguration"] for v in c["volumes"]}
    assert vols["input"]["fileSystemId"] == "fs-1234"
    assert vols["input"]["authorizationConfig"] == {"accessPointId": "fsap-0000", "iam": "ENABLED"}
    assert vols["source"]["authorizationConfig"]["accessPointId"] == "fsap-0007"
    env = {e["name"]: e["value"] for e in c["environment"]}
    assert env["CONFLUENCE_SOS_BUCKET"] == "confluence-sos"
    # consensus reads input, reads and writes flpe: flpe is read-write, input read-only
    mounts = {m["sourceVolume"]: m["readOnly"] for m in plans["flpe-consensus"].properties[
        "containerProperties"]["mountPoints"]}
    assert mounts == {"input": True, "flpe": False}
    # one definition for the two postdiagnostics steps: the union of their volumes
    post = plans["postdiagnostics"]
    assert post.steps == ["postdiagnostics_flpe", "postdiagnostics_moi"]
    assert {m["sourceVolume"] for m in post.properties["containerProperties"]["mountPoints"]} == {
        "input", "flpe", "moi", "diagnostics"}  # "previous" is optional and not configured
    assert plans["renew"].properties["containerProperties"]["command"] == ["confluence-renew", "disable"]
    # the orchestrator: the driver image, the input volume read-write (the fan-out lists), one long attempt
    boss = plans["driver"].properties
    assert boss["containerProperties"]["command"] == ["confluence"]
    assert {m["sourceVolume"]: m["readOnly"] for m in boss["containerProperties"]["mountPoints"]} == {"input": False}
    assert boss["timeout"] == {"attemptDurationSeconds": 7 * 86400}


def test_deploy_registers_once_then_only_what_changed(tmp_path: Path, moto_simple: dict[str, Any]):
    seed_ecr(moto_simple["ecr"], ready_images())
    path = write_config(tmp_path / "d.toml", efs=True)
    flow, lines = wf.load(), []
    first = deploy(flow, load_config(path), Aws(load_config(path)), skip_push=True, echo=lines.append)
    assert {p.action for p in first} == {"new"}
    registered = definitions(moto_simple["batch"])
    assert set(registered) == {f"confluence-{i}" for i in ready_images()}
    assert registered["confluence-input"]["containerProperties"]["mountPoints"]

    again = deploy(flow, load_config(path), Aws(load_config(path)), skip_push=True, echo=lines.append)
    assert {p.action for p in again} == {"unchanged"}
    assert definitions(moto_simple["batch"])["confluence-input"]["revision"] == 1

    path.write_text(path.read_text() + "\n[resources.medium]\nmemory_mib = 8192\n")
    third = deploy(flow, load_config(path), Aws(load_config(path)), skip_push=True, echo=lines.append)
    changed = {p.image for p in third if p.action == "update"}
    assert changed == {s.image for s in flow.steps if s.ready and s.resources == "medium"}
    assert "input" in changed
    assert next(p for p in third if p.image == "input").changed == ["containerProperties.resourceRequirements"]
    assert definitions(moto_simple["batch"])["confluence-input"]["revision"] == 2


def test_dry_run_changes_nothing(tmp_path: Path, moto_simple: dict[str, Any]):
    seed_ecr(moto_simple["ecr"], ready_images())
    path = write_config(tmp_path / "d.toml", efs=True)
    result = CliRunner().invoke(main, ["deploy", "--config", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would push confluence/input:0.1.0 -> " + f"{REGISTRY}/confluence/input:0.1.0" in result.output
    assert "would register confluence-input (new) for input" in result.output
    assert definitions(moto_simple["batch"]) == {}


def test_image_not_in_ecr_is_one_message(tmp_path: Path, moto_simple: dict[str, Any]):
    seed_ecr(moto_simple["ecr"], [i for i in ready_images() if i != "moi"])
    path = write_config(tmp_path / "d.toml", efs=True)
    result = CliRunner().invoke(main, ["deploy", "--config", str(path), "--skip-push"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: not in ECR registry {REGISTRY}: confluence/moi:0.1.0 (no repository")
    assert definitions(moto_simple["batch"]) == {}


def test_missing_job_queue_is_one_message(tmp_path: Path, moto_simple: dict[str, Any]):
    path = write_config(tmp_path / "d.toml", efs=True)
    path.write_text(path.read_text().replace(QUEUE, "no-such-queue"))
    result = CliRunner().invoke(main, ["deploy", "--config", str(path), "--skip-push"])
    assert result.exit_code == 1
    assert result.output.strip() == (f"error: {path}: Batch job queue 'no-such-queue' does not exist in us-east-1 "
                                     "(batch.job_queue)")


def test_missing_config_value_is_one_message(tmp_path: Path):
    path = write_config(tmp_path / "d.toml", efs=True, drop="batch.job_queue")
    result = CliRunner().invoke(main, ["deploy", "--config", str(path)])
    assert result.exit_code == 1
    assert result.output.strip() == f"error: {path}: missing configuration value batch.job_queue"


@pytest.mark.parametrize(("code", "expect"), [
    ("ExpiredTokenException", "the AWS credentials have expired (ExpiredTokenException)"),
    ("UnrecognizedClientException", "AWS refused the credentials (UnrecognizedClientException)"),
])
def test_expired_or_refused_credentials(tmp_path: Path, code: str, expect: str):
    from botocore.stub import Stubber

    config = load_config(write_config(tmp_path / "d.toml", efs=True))
    aws = Aws(config)
    stub = Stubber(aws.client("batch"))
    stub.add_client_error("describe_job_queues", service_error_code=code, service_message=f"token {SECRET}",
                          http_status_code=403)
    with stub, pytest.raises(ConfluenceError) as err:
        deploy(wf.load(), config, aws, skip_push=True)
    assert str(err.value).startswith(f"cannot read Batch job queue {QUEUE}: {expect}")
    assert SECRET not in str(err.value)


def test_no_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    path = write_config(tmp_path / "d.toml", efs=True)
    result = CliRunner().invoke(main, ["deploy", "--config", str(path), "--skip-push"])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: cannot read Batch job queue {QUEUE}: no AWS credentials found")


class FakeImage:
    def __init__(self, log: list) -> None:
        self.log = log

    def tag(self, repository: str, tag: str) -> None:
        self.log.append(("tag", repository, tag))


class FakeDocker:
    """Records tag and push calls; a push "uploads" by putting the manifest into moto's ECR."""

    def __init__(self, ecr: Any, fail: str = "") -> None:
        self.log: list = []
        self.ecr, self.fail = ecr, fail
        self.images = self

    def get(self, name: str) -> FakeImage:
        return FakeImage(self.log)

    def push(self, repository: str, tag: str, auth_config: dict, stream: bool, decode: bool) -> list[dict]:
        self.log.append(("push", repository, tag, auth_config["username"]))
        if self.fail and self.fail in repository:
            return [{"status": "Pushing"}, {"errorDetail": {"message": "denied: not authorized"}}]
        seed_ecr(self.ecr, [repository.split("/confluence/", 1)[1]], tag, orchestrator=False)
        return [{"status": "Pushed"}]


def test_push_tags_pushes_and_then_registers(tmp_path: Path, moto_simple: dict[str, Any], capsys):
    config = load_config(write_config(tmp_path / "d.toml", efs=True))
    fake, lines = FakeDocker(moto_simple["ecr"]), []
    plans = deploy(wf.load(), config, Aws(config), docker_client=lambda: fake, echo=lines.append)
    assert {p.action for p in plans} == {"new"}
    assert ("tag", f"{REGISTRY}/confluence/input", "0.1.0") in fake.log
    assert ("push", f"{REGISTRY}/confluence/input", "0.1.0", "AWS") in fake.log
    assert f"pushed confluence/input:0.1.0 -> {REGISTRY}/confluence/input:0.1.0" in lines
    token = moto_simple["ecr"].get_authorization_token()["authorizationData"][0]["authorizationToken"]
    password = base64.b64decode(token).decode().split(":", 1)[1]
    out = "\n".join(lines) + capsys.readouterr().out
    assert password not in out and SECRET not in out


def test_push_failure_is_one_message(tmp_path: Path, moto_simple: dict[str, Any]):
    config = load_config(write_config(tmp_path / "d.toml", efs=True))
    items = push_plan(config, ["input", "moi"])
    with pytest.raises(ConfluenceError, match=r"^pushing confluence/moi:0.1.0 to .*/confluence/moi:0.1.0 failed: "
                                              r"denied: not authorized$"):
        push_images(Aws(config), items, FakeDocker(moto_simple["ecr"], fail="moi"), lambda m: None)
