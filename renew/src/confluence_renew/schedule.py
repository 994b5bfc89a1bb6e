"""The EventBridge rule that runs the renew Lambda every 50 minutes: enable, disable, status.

Every function is idempotent: enabling an enabled rule, or disabling a
disabled one, changes nothing and succeeds.  The rule must exist to be
disabled or reported; :func:`enable` creates it when given the Lambda's ARN.
The Lambda's resource policy (``lambda:InvokeFunction`` for
``events.amazonaws.com`` from this rule) belongs to the infrastructure code.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypedDict

from .errors import RenewError
from .settings import SCHEDULE, TARGET_ID, quiet_sdk_loggers

log = logging.getLogger(__name__)


class RuleStatus(TypedDict):
    """What :func:`status` reports."""

    rule: str
    state: str
    schedule: str
    targets: list[str]


@contextmanager
def aws_errors(what: str) -> Iterator[None]:
    """Turn AWS SDK failures into one-line :class:`RenewError` s (``what`` says what was being done)."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
    )

    try:
        yield
    except NoCredentialsError:
        raise RenewError(f"{what}: no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID, or run on AWS)") \
            from None
    except NoRegionError:
        raise RenewError(f"{what}: no AWS region (give --region or set AWS_DEFAULT_REGION)") from None
    except EndpointConnectionError as exc:
        raise RenewError(f"{what}: cannot reach AWS ({exc})") from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise RenewError(f"{what}: {error.get('Code', 'ClientError')}: {error.get('Message', '')}".rstrip(": ")) \
            from None
    except BotoCoreError as exc:
        raise RenewError(f"{what}: {exc}") from None


def events_client(region: str | None = None) -> Any:
    """A boto3 EventBridge client (``region`` else the SDK's default)."""
    import boto3

    quiet_sdk_loggers()
    with aws_errors("cannot create an EventBridge client"):
        return boto3.client("events", region_name=region)


def _describe(events: Any, rule_name: str) -> dict[str, Any] | None:
    """``describe_rule`` of ``rule_name``, None when it does not exist."""
    from botocore.exceptions import ClientError

    with aws_errors(f"cannot read EventBridge rule {rule_name}"):
        try:
            rule: dict[str, Any] = events.describe_rule(Name=rule_name)
            return rule
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise


def _require(events: Any, rule_name: str) -> dict[str, Any]:
    rule = _describe(events, rule_name)
    if rule is None:
        raise RenewError(
            f"EventBridge rule {rule_name} does not exist (in region {events.meta.region_name}); "
            "create it with: confluence-renew enable --lambda-arn ARN"
        )
    return rule


def enable(events: Any, rule_name: str, lambda_arn: str | None = None) -> RuleStatus:
    """Create or update the rule (``rate(50 minutes)`` -> ``lambda_arn``) and enable it.

    Without ``lambda_arn`` the rule must exist already and keep its target(s).
    """
    if lambda_arn:
        with aws_errors(f"cannot create or update EventBridge rule {rule_name}"):
            events.put_rule(
                Name=rule_name, ScheduleExpression=SCHEDULE, State="ENABLED",
                Description="Confluence: renew PO.DAAC temporary S3 credentials into SSM",
            )
            events.put_targets(Rule=rule_name, Targets=[{"Id": TARGET_ID, "Arn": lambda_arn}])
    else:
        _require(events, rule_name)
        with aws_errors(f"cannot enable EventBridge rule {rule_name}"):
            events.enable_rule(Name=rule_name)
    result = status(events, rule_name)
    if not result["targets"]:
        raise RenewError(f"EventBridge rule {rule_name} has no target: give --lambda-arn ARN")
    log.info("enabled EventBridge rule %s (%s -> %s)", rule_name, result["schedule"], ", ".join(result["targets"]))
    return result


def disable(events: Any, rule_name: str) -> RuleStatus:
    """Disable the rule (it must exist; its schedule and target stay for the next :func:`enable`)."""
    _require(events, rule_name)
    with aws_errors(f"cannot disable EventBridge rule {rule_name}"):
        events.disable_rule(Name=rule_name)
    log.info("disabled EventBridge rule %s", rule_name)
    return status(events, rule_name)


def status(events: Any, rule_name: str) -> RuleStatus:
    """The rule's state (ENABLED / DISABLED), schedule and target ARNs."""
    rule = _require(events, rule_name)
    with aws_errors(f"cannot list the targets of EventBridge rule {rule_name}"):
        targets = events.list_targets_by_rule(Rule=rule_name).get("Targets", [])
    return RuleStatus(
        rule=rule_name, state=rule.get("State", "?"), schedule=rule.get("ScheduleExpression", "?"),
        targets=[t["Arn"] for t in targets],
    )

