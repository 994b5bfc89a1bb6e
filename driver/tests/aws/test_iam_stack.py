"""The stack's job roles, checked by moto's IAM enforcement: each role's credentials (sts.assume_role) make the
calls, and moto answers AccessDenied where the role's policy does not allow them.

moto evaluates the policies of the assumed role itself; for SSM and EventBridge it evaluates the action
against Resource ``*`` only, so :func:`resource_aware` hands it the resource a call names (the parameter or
the rule ARN, as IAM does) and moto's own evaluator decides.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import ACCOUNT, REGION
from .test_stack import moto_stack  # noqa: F401  (the fixture)

CREDS = "/confluence/creds"
NAMES = [f"{CREDS}/{k}" for k in ("accessKeyId", "secretAccessKey", "sessionToken", "expiration")]


def _resources(service: str, body: dict[str, Any]) -> list[str]:
    if service == "ssm":
        names = body.get("Names") or [body.get("Name", "")]
        return [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{n}" for n in names]
    if service == "events":
        return [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{body.get('Name') or body.get('Rule')}"]
    return []


@pytest.fixture()
def resource_aware(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto checks SSM and EventBridge calls against ``*``: give it each resource the call names instead."""
    from moto.iam.access_control import IAMRequest

    check = IAMRequest.check_action_permitted

    def per_resource(self: Any, resource: str) -> None:
        service = self._action.split(":")[0]
        arns = _resources(service, json.loads(self._body or b"{}")) if resource == "*" else []
        for arn in arns or [resource]:
            check(self, arn)

    monkeypatch.setattr(IAMRequest, "check_action_permitted", per_resource)


@pytest.fixture()
def as_role(moto_stack: dict[str, Any], resource_aware: None) -> Iterator[Callable[[str, str], Any]]:  # noqa: F811
    """``as_role(output, service)``: a client with the credentials of the stack role named by ``output``."""
    import boto3
    from moto.core import enable_iam_authentication

    sts, out = moto_stack["clients"]["sts"], moto_stack["outputs"]
    ssm = moto_stack["clients"]["ssm"]
    for name in NAMES:
        ssm.put_parameter(Name=name, Value="x", Type="SecureString")
    keys = {key: sts.assume_role(RoleArn=out[key], RoleSessionName="test")["Credentials"]
            for key in out if key.startswith("JobRole")}

    def client(key: str, service: str) -> Any:
        creds = keys[key]
        return boto3.client(service, region_name=REGION, aws_access_key_id=creds["AccessKeyId"],
                            aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])

    with enable_iam_authentication():
        yield client


def denied(call: Callable[..., Any], **kwargs: Any) -> bool:
    """True when ``call(**kwargs)`` is refused with AccessDenied (False when it succeeds)."""
    try:
        call(**kwargs)
    except ClientError as exc:
        # (moto answers JSON services in XML: botocore may then see the code as "403" and the rest as text)
        assert "AccessDenied" in str(exc), str(exc)
        return True
    return False


def test_only_the_podaac_role_reads_the_credentials(as_role: Callable[[str, str], Any]) -> None:
    """datagen and input read PO.DAAC's parameters; output (results) and every other class cannot."""
    for key in ("JobRolePodaac", "JobRoleSos", "JobRoleResults", "JobRoleRenew", "JobRoleNone"):
        ssm = as_role(key, "ssm")
        assert denied(ssm.get_parameters, Names=NAMES, WithDecryption=True) == (key != "JobRolePodaac"), key
        assert denied(ssm.get_parameter, Name=NAMES[0], WithDecryption=True), key  # not needed: not granted
    podaac = as_role("JobRolePodaac", "ssm")
    assert denied(podaac.get_parameters, Names=["/confluence/edl/password"])  # the EDL login: the Lambda's
    assert len(podaac.get_parameters(Names=NAMES, WithDecryption=True)["Parameters"]) == 4


def test_only_the_renew_role_touches_the_rule(as_role: Callable[[str, str], Any],
                                              moto_stack: dict[str, Any]) -> None:  # noqa: F811
    rule = moto_stack["outputs"]["RenewRule"]
    from moto.core.authorization import disable_iam_authentication

    with disable_iam_authentication():  # as the administrator
        moto_stack["clients"]["events"].put_rule(Name="other-rule", ScheduleExpression="rate(1 hour)",
                                                 State="ENABLED")
    for key in ("JobRolePodaac", "JobRoleSos", "JobRoleResults", "JobRoleNone"):
        events = as_role(key, "events")
        assert denied(events.disable_rule, Name=rule), key
        assert denied(events.describe_rule, Name=rule), key
    events = as_role("JobRoleRenew", "events")
    from confluence_renew import schedule

    assert schedule.disable(events, rule)["state"] == "DISABLED"  # what disable_renew runs
    assert denied(events.enable_rule, Name=rule)  # enabling is the operator's, not a step's
    assert denied(events.disable_rule, Name="other-rule")  # this rule only


def test_the_results_role_writes_only_below_its_prefix(as_role: Callable[[str, str], Any],
                                                       moto_stack: dict[str, Any]) -> None:  # noqa: F811
    out = moto_stack["outputs"]
    s3 = as_role("JobRoleResults", "s3")
    s3.put_object(Bucket=out["ResultsBucket"], Key="results/run/na_sword_v16_SOS_results.nc", Body=b"x")
    assert denied(s3.put_object, Bucket=out["ResultsBucket"], Key="elsewhere/x.nc", Body=b"x")
    assert denied(s3.put_object, Bucket=out["RunsBucket"], Key="results/x.nc", Body=b"x")
    sos = as_role("JobRoleSos", "s3")
    assert denied(sos.put_object, Bucket=out["ResultsBucket"], Key="results/x.nc", Body=b"x")
