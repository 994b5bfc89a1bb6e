"""The renew schedule at the start of ``confluence run --batch``: on, checked, credentials fresh, before datagen.

PO.DAAC hands out temporary S3 credentials that last one hour.  The renew Lambda (``renew/``, contract in
renew/README.md) writes them into four SSM SecureString parameters ``{prefix}/accessKeyId``,
``/secretAccessKey``, ``/sessionToken`` and ``/expiration``; the EventBridge rule ``<NamePrefix>-renew``
(``rate(50 minutes)``) runs it; the stack (``infra/confluence.yaml``) creates the rule DISABLED, and the
workflow's ``disable_renew`` step disables it again once ``input`` is done.  So before phase 1 the driver,
when a step of the run reads PO.DAAC (an image of class ``podaac``: datagen, input):

1. enables the rule (``events:EnableRule``) and reads it back: it must be ``ENABLED`` and have a Lambda
   function as target (the one with target id ``confluence-renew``, else the only Lambda target);
2. invokes that Lambda once, synchronously: a rate schedule fires first up to 50 minutes after it is
   enabled, and the parameters left by an earlier run have long expired, so without this datagen would
   start on missing or expired credentials;
3. checks that the four parameters exist (``ssm:GetParameters`` without decryption: the driver never
   sees a secret) and that ``expiration`` (the only one it decrypts) is more than :data:`MARGIN` ahead,
   the margin at which the modules re-read them (``confluence_core.riversp.REFRESH_MARGIN``).

Any failure is one :class:`RenewCheckError` naming the rule, the Lambda or the parameter and the reason;
the run is then FAILED with it before any job is submitted.  The rule and the prefix come from the
deployment file's ``[environment]`` (``CONFLUENCE_RENEW_RULE``, ``CONFLUENCE_CREDS_PREFIX``: what
``confluence deploy --stack`` writes, and what the disable_renew job and the modules read); a file
without a rule (``[host_volumes]`` test deployments) skips all this with one line in the log.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

from confluence_core.errors import ConfluenceError
from confluence_core.workflow import Step

from .config import Aws, AwsConfig, aws_errors
from .iam import image_class

RULE_KEY = "CONFLUENCE_RENEW_RULE"
PREFIX_KEY = "CONFLUENCE_CREDS_PREFIX"
DEFAULT_PREFIX = "/confluence/creds"
#: Target id of the renew Lambda on the rule (infra/confluence.yaml, confluence_renew.settings.TARGET_ID).
TARGET_ID = "confluence-renew"
#: The four parameters the Lambda writes (renew/README.md); only ``expiration`` is decrypted here.
CREDS_KEYS = ("accessKeyId", "secretAccessKey", "sessionToken", "expiration")
#: Credentials closer than this to their expiration count as expired (modules re-read them at this margin).
MARGIN = dt.timedelta(minutes=5)
#: Seconds the synchronous invocation may take: the Lambda's own timeout (300 s) and some.
INVOKE_READ_TIMEOUT = 330


#: Every AWS call :func:`prepare` makes (the operator policy of infra/confluence.yaml grants them; a test checks).
ACTIONS = ("events:DescribeRule", "events:ListTargetsByRule", "events:EnableRule", "lambda:InvokeFunction",
           "ssm:GetParameters", "ssm:GetParameter", "kms:Decrypt")


class RenewCheckError(ConfluenceError):
    """The schedule could not be enabled, or the credentials are missing or expired: no job is submitted."""


def renew_rule(config: AwsConfig) -> str:
    """The EventBridge rule of the deployment (``[environment] CONFLUENCE_RENEW_RULE``); ``""`` when none."""
    return config.environment.get(RULE_KEY, "").strip()


def creds_prefix(config: AwsConfig) -> str:
    """The SSM prefix of the credentials (``[environment] CONFLUENCE_CREDS_PREFIX``, default /confluence/creds)."""
    prefix = (config.environment.get(PREFIX_KEY, "").strip() or DEFAULT_PREFIX).rstrip("/")
    if not prefix.startswith("/"):
        raise ConfluenceError(f"environment.{PREFIX_KEY} {prefix!r} must start with '/'", config.path)
    return prefix


def needs_credentials(steps: Sequence[Step]) -> bool:
    """True when a step runs an image that reads PO.DAAC's bucket (class ``podaac`` of :mod:`.iam`)."""
    return any(image_class(s.image) == "podaac" for s in steps)


def disables(steps: Sequence[Step]) -> bool:
    """True when the steps include the one that disables the schedule (an image of class ``renew``)."""
    return any(image_class(s.image) == "renew" for s in steps)


def no_rule_message(config: AwsConfig) -> str:
    return (f"renew: {config.path} names no renew rule ([environment] {RULE_KEY}, written by `confluence deploy "
            "--stack`): the schedule is not enabled and PO.DAAC's credentials are not checked")


def plan(config: AwsConfig, steps: Sequence[Step]) -> str:
    """What :func:`prepare` would do for ``steps`` (``run --batch --dry-run``), one line."""
    if not needs_credentials(steps):
        return "renew: no step reads PO.DAAC (datagen, input): the schedule is left as it is"
    rule = renew_rule(config)
    if not rule:
        return no_rule_message(config)
    prefix = creds_prefix(config)
    return (f"renew: would enable EventBridge rule {rule}, check that it is ENABLED with the renew Lambda as "
            f"target, invoke that Lambda once and check that SSM {prefix}/{{{','.join(CREDS_KEYS)}}} exist "
            f"and {prefix}/expiration is more than {MARGIN.seconds // 60} minutes ahead")


def prepare(aws: Aws, *, run_id: str = "", now: Callable[[], dt.datetime] | None = None) -> dict[str, str]:
    """Enable the rule, check it, invoke its Lambda once and check the credentials (module docstring).

    Returns what the run record keeps (rule, state, lambda, expiration); raises :class:`RenewCheckError`.
    """
    config = aws.config
    rule = renew_rule(config)
    where = f"EventBridge rule {rule} (environment.{RULE_KEY} of {config.path})"
    events = aws.client("events")
    _describe(events, rule, where, config.region)
    with aws_errors(f"cannot list the targets of {where}"):
        targets = events.list_targets_by_rule(Rule=rule).get("Targets", [])
    function = _lambda_target(targets, where)
    with aws_errors(f"cannot enable {where}"):
        events.enable_rule(Name=rule)
    state = _describe(events, rule, where, config.region).get("State", "?")
    if state != "ENABLED":
        raise RenewCheckError(f"{where} is {state} after enable_rule, not ENABLED")
    _invoke(aws, function, run_id)
    expiration = check_credentials(aws, creds_prefix(config), now=now)
    return {"rule": rule, "state": state, "lambda": function, "expiration": expiration.isoformat()}


def _describe(events: Any, rule: str, where: str, region: str) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    with aws_errors(f"cannot read {where}"):
        try:
            described: dict[str, Any] = events.describe_rule(Name=rule)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            raise RenewCheckError(f"{where} does not exist in {region}: deploy the stack (infra/confluence.yaml) "
                                  "and write the file with `confluence deploy --stack NAME`, or fix the name") \
                from None
    return described


def _lambda_target(targets: Sequence[dict[str, Any]], where: str) -> str:
    """The ARN of the renew Lambda among the rule's targets (id ``confluence-renew``, else the only Lambda)."""
    functions = [t for t in targets if ":lambda:" in t.get("Arn", "") and ":function:" in t.get("Arn", "")]
    named = [t for t in functions if t.get("Id") == TARGET_ID]
    if named:
        arn: str = named[0]["Arn"]
        return arn
    if len(functions) == 1:
        arn = functions[0]["Arn"]
        return arn
    others = ", ".join(t.get("Arn", "?") for t in targets) or "none"
    reason = "several Lambda targets and none with id " + TARGET_ID if functions else "no Lambda function target"
    raise RenewCheckError(f"{where} has {reason} (targets: {others}): its target must be the renew Lambda "
                          "(infra/confluence.yaml)")


def _invoke(aws: Aws, function: str, run_id: str) -> None:
    """Run the renew Lambda once and wait for it; its own error message (never a secret) when it fails."""
    client = aws.client("lambda", read_timeout=INVOKE_READ_TIMEOUT, retries={"max_attempts": 0})
    payload = json.dumps({"source": "confluence run --batch", "run": run_id}).encode()
    with aws_errors(f"cannot invoke the renew Lambda {function}"):
        answer = client.invoke(FunctionName=function, InvocationType="RequestResponse", Payload=payload)
    if answer.get("FunctionError"):
        body = answer["Payload"].read() if answer.get("Payload") is not None else b""
        try:
            error = json.loads(body)
            detail = f"{error.get('errorType', 'error')}: {error.get('errorMessage', '')}".rstrip(": ")
        except (ValueError, AttributeError):
            detail = "no error message"
        raise RenewCheckError(f"the renew Lambda {function} failed ({answer['FunctionError']}): {detail}; its log: "
                              f"CloudWatch log group /aws/lambda/{function.rsplit(':', 1)[-1]}")


def parse_expiration(text: str, name: str) -> dt.datetime:
    """PO.DAAC's ``expiration`` (``2024-05-01 12:34:56+00:00``; no zone means UTC) as an aware UTC datetime."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise RenewCheckError(f"SSM parameter {name}: {text!r} is not an ISO 8601 date and time") from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def check_credentials(aws: Aws, prefix: str, *, now: Callable[[], dt.datetime] | None = None) -> dt.datetime:
    """The four parameters under ``prefix`` exist and ``expiration`` is more than :data:`MARGIN` ahead.

    Only ``expiration`` is decrypted (the three secrets are checked for existence, never read in clear).
    """
    ssm = aws.client("ssm")
    names = {key: f"{prefix}/{key}" for key in CREDS_KEYS}
    with aws_errors(f"cannot read the PO.DAAC credential parameters under {prefix} in SSM"):
        found = ssm.get_parameters(Names=list(names.values()), WithDecryption=False)
        present = {p["Name"] for p in found.get("Parameters", []) if p.get("Value")}
        missing = [n for n in names.values() if n not in present]
        if missing:
            raise RenewCheckError(f"SSM parameter(s) {', '.join(missing)} missing after the renew Lambda ran: "
                                  "check its log (and the Earthdata Login parameters it reads)")
        text = ssm.get_parameter(Name=names["expiration"], WithDecryption=True)["Parameter"].get("Value", "")
    expires = parse_expiration(text, names["expiration"])
    current = (now() if now else dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    if expires <= current + MARGIN:
        when = "expired at" if expires <= current else f"expires within {MARGIN.seconds // 60} minutes, at"
        raise RenewCheckError(f"SSM parameter {names['expiration']}: PO.DAAC's credentials {when} "
                              f"{expires.isoformat()} (now {current.replace(microsecond=0).isoformat()}) although "
                              "the renew Lambda just ran: check its log")
    return expires
