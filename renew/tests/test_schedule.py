"""The EventBridge schedule (moto events; the Lambda ARN is a plain string)."""

from __future__ import annotations

import boto3
import pytest
from confluence_renew import schedule
from confluence_renew.errors import RenewError

RULE = "confluence-renew"


@pytest.fixture()
def events(aws):
    return boto3.client("events", region_name="us-west-2")


def test_enable_creates_the_rule(events, fake):
    result = schedule.enable(events, RULE, fake.lambda_arn)
    assert result == {"rule": RULE, "state": "ENABLED", "schedule": "rate(50 minutes)", "targets": [fake.lambda_arn]}
    assert events.describe_rule(Name=RULE)["State"] == "ENABLED"


def test_enable_is_idempotent(events, fake):
    schedule.enable(events, RULE, fake.lambda_arn)
    again = schedule.enable(events, RULE, fake.lambda_arn)
    assert again["targets"] == [fake.lambda_arn]
    assert len(events.list_rules(NamePrefix=RULE)["Rules"]) == 1


def test_disable_then_enable_toggles_the_state(events, fake):
    schedule.enable(events, RULE, fake.lambda_arn)
    assert schedule.disable(events, RULE)["state"] == "DISABLED"
    assert schedule.disable(events, RULE)["state"] == "DISABLED"  # idempotent
    assert schedule.status(events, RULE)["state"] == "DISABLED"
    result = schedule.enable(events, RULE)  # no ARN: the existing rule keeps its target
    assert result["state"] == "ENABLED"
    assert result["targets"] == [fake.lambda_arn]


def test_disable_a_missing_rule_is_a_clear_error(events):
    expected = r"^EventBridge rule nope does not exist \(in region us-west-2\); create it with"
    with pytest.raises(RenewError, match=expected):
        schedule.disable(events, "nope")


def test_status_of_a_missing_rule(events):
    with pytest.raises(RenewError, match="EventBridge rule nope does not exist"):
        schedule.status(events, "nope")


def test_enable_a_missing_rule_needs_the_lambda_arn(events):
    with pytest.raises(RenewError, match=r"does not exist .*--lambda-arn"):
        schedule.enable(events, "nope")
    assert events.list_rules()["Rules"] == []


def test_enable_a_rule_without_target(events):
    events.put_rule(Name="bare", ScheduleExpression="rate(50 minutes)", State="DISABLED")
    with pytest.raises(RenewError, match="has no target: give --lambda-arn"):
        schedule.enable(events, "bare")


def test_aws_errors_become_one_line():
    from botocore.exceptions import ClientError

    with (
        pytest.raises(RenewError, match=r"^doing X: AccessDeniedException: not allowed$"),
        schedule.aws_errors("doing X"),
    ):
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "DescribeRule")
