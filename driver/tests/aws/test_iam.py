"""Job roles per image class: each class's policy grants what its steps call (moto evaluates it), deploy
gives every job definition its class's role, and docs/aws.md prints the same table."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from confluence_core import workflow as wf
from confluence_driver.aws.config import Aws, load_config
from confluence_driver.aws.deploy import deploy, plan_definitions
from confluence_driver.aws.iam import CLASS_OF_IMAGE, CLASSES, GRANTS, actions, image_class, policy

from .conftest import ACCOUNT, REGION, seed_ecr, write_config

DOCS = Path(__file__).resolve().parents[3] / "docs" / "aws.md"
RULE = "confluence-renew"


def class_policy(cls: str, *, star: bool) -> dict[str, Any]:
    """The class's policy for the packaged workflow; ``star``: every resource ``*`` (moto checks the
    resource of S3 calls only: for EventBridge and SSM it evaluates actions against ``*``)."""
    flow = wf.load()
    steps = [s for s in flow.steps if s.ready and image_class(s.image) == cls]
    doc = policy(cls, steps, region=REGION, account=ACCOUNT, file_system_id="fs-1234", sos_bucket="sos",
                 results_bucket="results", results_prefix="out")
    if star:
        for statement in doc["Statement"]:
            statement["Resource"] = "*"
            statement.pop("Condition", None)
    return doc


def test_disable_renew_needs_exactly_its_class(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("confluence_renew")
    import boto3
    from confluence_renew import schedule
    from confluence_renew.errors import RenewError
    from moto import mock_aws
    from moto.core import set_initial_no_auth_action_count

    @set_initial_no_auth_action_count(5)  # put_rule, put_targets and the three IAM calls run as the admin
    @mock_aws
    def scenario() -> None:
        events = boto3.client("events", region_name=REGION)
        events.put_rule(Name=RULE, ScheduleExpression="rate(50 minutes)", State="ENABLED")
        events.put_targets(Rule=RULE, Targets=[{"Id": "renew", "Arn": "arn:aws:lambda:us-east-1:1:function:f"}])
        iam = boto3.client("iam", region_name=REGION)
        iam.create_user(UserName="renew")
        iam.put_user_policy(UserName="renew", PolicyName="p",
                            PolicyDocument=json.dumps(class_policy("renew", star=True)))
        key = iam.create_access_key(UserName="renew")["AccessKey"]
        as_renew = boto3.client("events", region_name=REGION, aws_access_key_id=key["AccessKeyId"],
                                aws_secret_access_key=key["SecretAccessKey"])
        assert schedule.disable(as_renew, RULE)["state"] == "DISABLED"  # describe, disable, list targets
        with pytest.raises(RenewError, match="AccessDenied"):
            schedule.enable(as_renew, RULE)  # EnableRule is not granted

    scenario()
    from moto.iam.access_control import IAMPolicy, PermissionResult

    old = IAMPolicy(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["events:DisableRule"], "Resource": "*"}]}))  # what docs/aws.md granted
    assert old.is_action_permitted("events:DescribeRule") != PermissionResult.PERMITTED  # the defect of issue 19
    renew = IAMPolicy(json.dumps(class_policy("renew", star=False)))
    arn = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{RULE}"
    for action in ("events:DescribeRule", "events:DisableRule", "events:ListTargetsByRule"):
        assert renew.is_action_permitted(action, arn) == PermissionResult.PERMITTED
    assert renew.is_action_permitted("events:DisableRule", f"{arn}-other") != PermissionResult.PERMITTED


def test_only_podaac_reads_the_credentials_only_renew_disables_the_rule() -> None:
    from moto.iam.access_control import IAMPolicy, PermissionResult

    creds = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/confluence/creds/accessKeyId"
    rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{RULE}"
    for cls in CLASSES:
        granted = IAMPolicy(json.dumps(class_policy(cls, star=False)))
        can_get = granted.is_action_permitted("ssm:GetParameters", creds) == PermissionResult.PERMITTED
        # reading a SecureString is decrypting it: the orchestrator (run --batch in AWS) checks that the
        # parameters exist and may decrypt only the expiration parameter (an encryption-context condition)
        decrypts_any = any("kms:Decrypt" in g.actions and all(key != "kms:EncryptionContext:PARAMETER_ARN"
                                                               for _, key, _ in g.condition) for g in GRANTS[cls])
        can_rule = granted.is_action_permitted("events:DisableRule", rule) == PermissionResult.PERMITTED
        can_enable = granted.is_action_permitted("events:EnableRule", rule) == PermissionResult.PERMITTED
        assert (cls, can_get and decrypts_any, can_rule, can_enable) == \
            (cls, cls == "podaac", cls == "renew", cls == "orchestrator")
        assert can_get == (cls in ("podaac", "orchestrator"))
    results = IAMPolicy(json.dumps(class_policy("results", star=False)))
    assert results.is_action_permitted("s3:PutObject", "arn:aws:s3:::results/out/run/x.nc") == \
        PermissionResult.PERMITTED
    assert results.is_action_permitted("s3:PutObject", "arn:aws:s3:::results/elsewhere/x.nc") != \
        PermissionResult.PERMITTED
    assert image_class("output") == "results" and image_class("flpe-neobam") == "none"


def test_docs_print_the_same_table() -> None:
    """docs/aws.md's table of job-role classes lists exactly the actions of :data:`GRANTS`."""
    text = DOCS.read_text()
    rows = re.findall(r"^\| `(\w+)` \| ([^|]*) \| ([^|]*) \|$", text, re.MULTILINE)
    table = {cls: sorted(re.findall(r"`([a-z0-9]+:\w+)`", acts)) for cls, _, acts in rows if cls in GRANTS}
    assert table == {cls: actions(cls) for cls in CLASSES}
    for cls, images, _ in rows:
        if cls in GRANTS and cls != "none":
            assert sorted(re.findall(r"`([\w-]+)`", images)) == sorted(i for i, c in CLASS_OF_IMAGE.items()
                                                                       if c == cls)


ROLES = "\n".join(f'{cls} = "arn:aws:iam::{ACCOUNT}:role/confluence-{cls}"' for cls in CLASSES)


def test_each_definition_gets_its_class_role(tmp_path: Path) -> None:
    path = write_config(tmp_path / "d.toml", efs=True, extra=f"\n[batch.job_roles]\n{ROLES}\n")
    plans = {p.image: p.properties["containerProperties"]["jobRoleArn"]
             for p in plan_definitions(wf.load(), load_config(path))}
    assert plans["renew"].endswith("role/confluence-renew")
    assert plans["output"].endswith("role/confluence-results")
    assert plans["datagen"].endswith("role/confluence-podaac") and plans["input"].endswith("role/confluence-podaac")
    assert plans["moi"].endswith("role/confluence-none")
    partial = write_config(tmp_path / "p.toml", efs=True,
                           extra=f'\n[batch.job_roles]\nnone = "arn:aws:iam::{ACCOUNT}:role/n"\n')
    with pytest.raises(Exception, match=r"missing configuration value batch.job_roles.podaac \(the job role of "
                                        r"image datagen\)"):
        plan_definitions(wf.load(), load_config(partial))


def test_one_role_for_all_still_works_with_a_warning(tmp_path: Path, moto_simple: dict[str, Any]) -> None:
    seed_ecr(moto_simple["ecr"], list(dict.fromkeys(s.image for s in wf.load().steps if s.ready)))
    path = write_config(tmp_path / "d.toml", efs=True, batch=f'job_role_arn = "arn:aws:iam::{ACCOUNT}:role/one"')
    config, lines = load_config(path), []
    plans = deploy(wf.load(), config, Aws(config), skip_push=True, echo=lines.append)
    assert {p.properties["containerProperties"]["jobRoleArn"] for p in plans} == {f"arn:aws:iam::{ACCOUNT}:role/one"}
    assert lines[0].startswith(f"warning: {path}: batch.job_role_arn gives every image the same job role")
    both = write_config(tmp_path / "b.toml", efs=True, batch=f'job_role_arn = "arn:aws:iam::{ACCOUNT}:role/one"',
                        extra=f"\n[batch.job_roles]\n{ROLES}\n")
    with pytest.raises(Exception, match=r"give either batch.job_role_arn .* or \[batch.job_roles\]"):
        load_config(both)
