"""``confluence run --batch`` and the renew schedule: enabled, checked and its Lambda invoked before phase 1.

moto in-process: EventBridge and SSM as they are, Batch and Lambda in their simple modes (jobs end at once;
an invocation answers without running the function, so the test writes the SSM parameters the Lambda would).
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from confluence_core.volumes import VOLUMES
from confluence_driver.aws import renewal
from confluence_driver.aws.config import Aws, load_config
from confluence_driver.aws.submit import BatchRun
from confluence_driver.cli import main

from .conftest import ACCOUNT, REGION, SECRET, renew_account, seed_ecr, write_config

WORKFLOW = Path(__file__).parent / "data" / "phases_workflow.toml"
RULE = "confluence-renew"
PREFIX = "/confluence/creds"
ENVIRONMENT = f'\n[environment]\nCONFLUENCE_RENEW_RULE = "{RULE}"\nCONFLUENCE_CREDS_PREFIX = "{PREFIX}"\n'


@pytest.fixture()
def moto_renew() -> Iterator[dict[str, Any]]:
    """moto with simple Batch and Lambda, the queue, the runs bucket and the renew Lambda (no rule yet)."""
    from moto import mock_aws

    with mock_aws(config={"batch": {"use_docker": False}, "lambda": {"use_docker": False}}):
        clients = renew_account()
        yield clients


def make_rule(clients: dict[str, Any], target: str | None = None) -> None:
    """The rule as the stack creates it: DISABLED, rate(50 minutes), the renew Lambda as target."""
    clients["events"].put_rule(Name=RULE, ScheduleExpression="rate(50 minutes)", State="DISABLED")
    clients["events"].put_targets(Rule=RULE, Targets=[{"Id": "confluence-renew",
                                                       "Arn": target or clients["function"]}])


def put_credentials(clients: dict[str, Any], expires_in: dt.timedelta, skip: str = "") -> str:
    """The four SecureString parameters the renew Lambda writes; returns the expiration written."""
    expiration = (dt.datetime.now(dt.UTC) + expires_in).replace(microsecond=0).isoformat(sep=" ")
    values = {"accessKeyId": "ASIA" + SECRET, "secretAccessKey": SECRET, "sessionToken": SECRET,
              "expiration": expiration}
    for key, value in values.items():
        if key != skip:
            clients["ssm"].put_parameter(Name=f"{PREFIX}/{key}", Value=value, Type="SecureString", Overwrite=True)
    return expiration


@pytest.fixture()
def deployed(tmp_path: Path, moto_renew: dict[str, Any]) -> dict[str, Any]:
    root = tmp_path / "volumes"
    for sub in VOLUMES:
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "input" / "reaches.json").write_text(json.dumps([{"reach_id": 71000000001 + 10 * i} for i in range(3)]))
    config = write_config(tmp_path / "deploy.toml", root, reference="digest", extra=ENVIRONMENT)
    seed_ecr(moto_renew["ecr"], ["datagen", "combine_data", "prediagnostics", "flpe-momma", "validation"])
    result = CliRunner().invoke(main, ["deploy", "--config", str(config), "--workflow", str(WORKFLOW), "--skip-push"])
    assert result.exit_code == 0, result.output
    return {**moto_renew, "root": root, "config": config, "records": tmp_path / "records"}


def run(deployed: dict[str, Any], *extra: str) -> Any:
    return CliRunner().invoke(main, ["run", "--batch", "--attached", "--config", str(deployed["config"]), "--workflow",
                                     str(WORKFLOW), "--records", str(deployed["records"]), *extra])


def record(deployed: dict[str, Any]) -> dict[str, Any]:
    (path,) = deployed["records"].glob("*.json")
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def submitted(deployed: dict[str, Any]) -> list[str]:
    batch = deployed["batch"]
    return [j["jobName"] for state in ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED",
                                       "FAILED")
            for j in batch.list_jobs(jobQueue="confluence-queue", jobStatus=state)["jobSummaryList"]]


def test_the_rule_is_enabled_checked_and_invoked_before_phase_1(deployed: dict[str, Any],
                                                               monkeypatch: pytest.MonkeyPatch):
    from moto.awslambda_simple.models import lambda_simple_backends

    make_rule(deployed)
    expiration = put_credentials(deployed, dt.timedelta(minutes=59))
    backend = lambda_simple_backends[ACCOUNT][REGION]
    backend.lambda_simple_results_queue.append(json.dumps({"prefix": PREFIX, "expiration": expiration}))
    seen: list[tuple[str, str, int]] = []  # step, the rule's state, invocations still queued: at each submit
    original = BatchRun.submit

    def submit(self: BatchRun, step: Any, previous: Any, phase: int) -> None:
        seen.append((step.name, deployed["events"].describe_rule(Name=RULE)["State"],
                     len(backend.lambda_simple_results_queue)))
        original(self, step, previous, phase)

    monkeypatch.setattr(BatchRun, "submit", submit)
    assert deployed["events"].describe_rule(Name=RULE)["State"] == "DISABLED"
    result = run(deployed)
    assert result.exit_code == 0, result.output
    assert seen[0] == ("make", "ENABLED", 0)  # enabled and the Lambda invoked before datagen's step was submitted
    assert [s[0] for s in seen] == ["make", "merge", "per_reach", "per_reach_again", "summary"]
    rec = record(deployed)
    assert rec["state"] == "SUCCEEDED"
    assert rec["renew"]["rule"] == RULE and rec["renew"]["state"] == "ENABLED"
    assert rec["renew"]["lambda"] == deployed["function"]
    assert dt.datetime.fromisoformat(rec["renew"]["expiration"]) == dt.datetime.fromisoformat(expiration)
    assert f"renew: EventBridge rule {RULE} ENABLED -> {deployed['function']}" in result.output
    assert "no disable_renew step: the rule stays enabled" in result.output  # this small table has none
    assert SECRET not in result.output and SECRET not in json.dumps(rec)


def test_a_missing_rule_fails_the_run_before_any_job(deployed: dict[str, Any]):
    put_credentials(deployed, dt.timedelta(hours=1))
    result = run(deployed)
    assert result.exit_code == 1
    assert (f"error: EventBridge rule {RULE} (environment.CONFLUENCE_RENEW_RULE of {deployed['config']}) does not "
            f"exist in {REGION}") in result.output
    rec = record(deployed)
    assert rec["state"] == "FAILED" and rec["reason"].startswith(f"EventBridge rule {RULE} (environment.")
    assert "does not exist" in rec["reason"]
    assert submitted(deployed) == [] and not any(entry.get("jobs") for entry in rec["steps"].values())


@pytest.mark.parametrize("case", ["expired", "missing", "soon"])
def test_expired_or_missing_credentials_fail_the_run(deployed: dict[str, Any], case: str):
    make_rule(deployed)
    if case == "missing":
        put_credentials(deployed, dt.timedelta(hours=1), skip="sessionToken")
    else:
        put_credentials(deployed, -dt.timedelta(minutes=3) if case == "expired" else dt.timedelta(minutes=2))
    result = run(deployed)
    assert result.exit_code == 1
    rec = record(deployed)
    assert rec["state"] == "FAILED" and submitted(deployed) == []
    expected = {
        "expired": f"SSM parameter {PREFIX}/expiration: PO.DAAC's credentials expired at ",
        "soon": f"SSM parameter {PREFIX}/expiration: PO.DAAC's credentials expires within 5 minutes, at ",
        "missing": f"SSM parameter(s) {PREFIX}/sessionToken missing after the renew Lambda ran",
    }[case]
    assert f"error: {expected}" in result.output
    assert rec["reason"].startswith(expected)
    assert result.output.count("error:") == 1
    assert SECRET not in result.output and SECRET not in json.dumps(rec)


def test_a_rule_without_the_lambda_fails_the_run(deployed: dict[str, Any]):
    make_rule(deployed, target=f"arn:aws:sqs:{REGION}:{ACCOUNT}:not-a-lambda")
    put_credentials(deployed, dt.timedelta(hours=1))
    result = run(deployed)
    assert result.exit_code == 1
    assert f"EventBridge rule {RULE} (environment.CONFLUENCE_RENEW_RULE of " in result.output
    assert "has no Lambda function target (targets: arn:aws:sqs:" in result.output
    assert record(deployed)["state"] == "FAILED"


def test_a_failing_lambda_is_one_message(deployed: dict[str, Any], monkeypatch: pytest.MonkeyPatch):
    """moto's simple Lambda always succeeds: its client answers as AWS does for a function that raised."""
    make_rule(deployed)
    put_credentials(deployed, dt.timedelta(hours=1))
    error = {"errorType": "LoginRefusedError", "errorMessage": "Earthdata Login refused the credentials in SSM "
             "parameter /confluence/edl/username"}

    class Failing:
        def invoke(self, **kwargs: Any) -> dict[str, Any]:
            assert kwargs["InvocationType"] == "RequestResponse"
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(json.dumps(error).encode())}

    real = Aws.client
    monkeypatch.setattr(Aws, "client", lambda self, service, **options: Failing() if service == "lambda"
                        else real(self, service, **options))
    result = run(deployed)
    assert result.exit_code == 1
    assert (f"error: the renew Lambda {deployed['function']} failed (Unhandled): LoginRefusedError: Earthdata Login "
            "refused the credentials in SSM parameter /confluence/edl/username") in result.output
    assert record(deployed)["state"] == "FAILED"


def test_no_rule_in_the_file_is_said_once_and_the_run_goes_on(deployed: dict[str, Any]):
    text = deployed["config"].read_text().replace(ENVIRONMENT, "\n")
    deployed["config"].write_text(text)
    result = run(deployed)
    assert result.exit_code == 0, result.output
    assert result.output.count("names no renew rule ([environment] CONFLUENCE_RENEW_RULE") == 1
    rec = record(deployed)
    assert rec["state"] == "SUCCEEDED" and rec["renew"] == {"rule": "", "state": "not configured"}


def test_dry_run_says_what_it_would_do(deployed: dict[str, Any]):
    make_rule(deployed)
    result = run(deployed, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "orchestration: this process (--attached)"
    assert result.output.splitlines()[1] == (
        f"renew: would enable EventBridge rule {RULE}, check that it is ENABLED with the renew Lambda as target, "
        f"invoke that Lambda once and check that SSM {PREFIX}/{{accessKeyId,secretAccessKey,sessionToken,"
        f"expiration}} exist and {PREFIX}/expiration is more than 5 minutes ahead")
    assert deployed["events"].describe_rule(Name=RULE)["State"] == "DISABLED"  # nothing changed
    assert not list(deployed["records"].glob("*.json"))


def test_a_run_without_podaac_steps_leaves_the_rule_alone(deployed: dict[str, Any]):
    make_rule(deployed)
    result = run(deployed, "--steps", "per_reach,summary")
    assert result.exit_code == 0, result.output
    assert deployed["events"].describe_rule(Name=RULE)["State"] == "DISABLED"
    assert "renew" not in record(deployed)


def test_the_plan_for_the_packaged_table(deployed: dict[str, Any]):
    """datagen and input read PO.DAAC; disable_renew is in the packaged table, so no 'stays enabled' warning."""
    from confluence_core import workflow as wf

    steps = [s for s in wf.load().steps if s.ready]
    assert renewal.needs_credentials(steps) and renewal.disables(steps)
    assert not renewal.needs_credentials([s for s in steps if s.name not in ("datagen", "input")])
    config = load_config(deployed["config"])
    assert renewal.renew_rule(config) == RULE and renewal.creds_prefix(config) == PREFIX


def test_every_call_is_in_the_operator_policy(deployed: dict[str, Any], monkeypatch: pytest.MonkeyPatch):
    """The calls the check makes (recorded from botocore) are renewal.ACTIONS, and the operator policy grants them."""
    import botocore.client
    from confluence_core import workflow as wf
    from confluence_driver.aws.stack import operator_policy

    make_rule(deployed)
    put_credentials(deployed, dt.timedelta(hours=1))
    calls: set[str] = set()
    real = botocore.client.BaseClient._make_api_call

    def record_call(self: Any, operation: str, params: Any) -> Any:
        calls.add(f"{self.meta.service_model.signing_name}:{operation}")
        return real(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record_call)
    renewal.prepare(Aws(load_config(deployed["config"])), run_id="r1")
    iam_action = {"lambda:Invoke": "lambda:InvokeFunction"}  # the API operation and its IAM action differ
    made = {iam_action.get(c, c) for c in calls if c.split(":")[0] in ("events", "lambda", "ssm")}
    assert made | {"kms:Decrypt"} == set(renewal.ACTIONS)  # kms: SSM decrypts expiration on the caller's behalf
    granted = {a for st in operator_policy(wf.load())["Statement"] for a in
               ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])}
    assert set(renewal.ACTIONS) <= granted
