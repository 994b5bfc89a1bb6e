"""Least-privilege job roles: one IAM role per *image class*, from one table of actions.

Every workflow image belongs to one class (:data:`CLASS_OF_IMAGE`, default
``none``), and a class grants exactly the AWS calls its steps make, nothing else:

============  ==========================  =====================================================================
class         images                      what the steps call (with the role's credentials)
============  ==========================  =====================================================================
``podaac``    datagen, input              ``ssm:GetParameters`` of the four PO.DAAC credential parameters
                                          (``confluence_core.riversp.s3_client``; the granules are then read
                                          with PO.DAAC's own temporary credentials), ``kms:Decrypt`` through SSM
``sos``       priors                      ``s3:GetObject`` below ``s3.sos_prefix`` and ``s3:ListBucket`` of
                                          ``s3.sos_bucket`` (``download_file`` heads the object first)
``results``   output                      ``s3:ListBucket`` (``head_bucket``), ``s3:GetObject`` (``head_object``:
                                          never over an earlier object), ``s3:PutObject`` and
                                          ``s3:AbortMultipartUpload`` below ``s3.results_prefix``
``renew``     renew (disable_renew)       ``events:DescribeRule``, ``events:DisableRule``,
                                          ``events:ListTargetsByRule`` of the renew rule
                                          (``confluence_renew.schedule.disable`` then ``status``)
``none``      every other image           no AWS call
============  ==========================  =====================================================================

Every class whose images mount an EFS volume also gets ``elasticfilesystem:ClientMount``
(and ``ClientWrite`` when one of its steps writes a volume): job definitions mount with
IAM authorization (``authorizationConfig.iam = ENABLED``), which uses the job role.

So output cannot read PO.DAAC's credentials and only disable_renew can touch the rule.
A new image gets class ``none`` until it is added here.  docs/aws.md prints this table;
a test checks that the two agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from confluence_core.workflow import Step

#: image -> its class; an image not listed is ``none`` (no AWS rights).
CLASS_OF_IMAGE: dict[str, str] = {
    "datagen": "podaac",
    "input": "podaac",
    "priors": "sos",
    "output": "results",
    "renew": "renew",
}
CLASSES = ("podaac", "sos", "results", "renew", "none")


@dataclass(frozen=True)
class Grant:
    """Actions on one resource (a template filled by :func:`policy`), and why a step needs them."""

    actions: tuple[str, ...]
    resource: str
    why: str
    condition: tuple[tuple[str, str, str], ...] = ()  # (operator, key, value template)


#: class -> what it may call.  Placeholders: {region} {account} {creds_prefix} {rule} {sos_bucket}
#: {sos_prefix} {results_bucket} {results_prefix}.
GRANTS: dict[str, tuple[Grant, ...]] = {
    "podaac": (
        Grant(("ssm:GetParameters",), "arn:aws:ssm:{region}:{account}:parameter{creds_prefix}/*",
              "the four PO.DAAC credential parameters (renew/README.md)"),
        Grant(("kms:Decrypt",), "arn:aws:kms:{region}:{account}:key/*", "SecureString values, through SSM only",
              (("StringEquals", "kms:ViaService", "ssm.{region}.amazonaws.com"),)),
    ),
    "sos": (
        Grant(("s3:ListBucket",), "arn:aws:s3:::{sos_bucket}", "a missing SoS is a 404, not a 403"),
        Grant(("s3:GetObject",), "arn:aws:s3:::{sos_bucket}/{sos_prefix}*", "download the current SoS"),
    ),
    "results": (
        Grant(("s3:ListBucket",), "arn:aws:s3:::{results_bucket}", "head_bucket; a free key is a 404"),
        Grant(("s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"),
              "arn:aws:s3:::{results_bucket}/{results_prefix}*",
              "head_object (never over an earlier file), the conditional upload"),
    ),
    "renew": (
        Grant(("events:DescribeRule", "events:DisableRule", "events:ListTargetsByRule"),
              "arn:aws:events:{region}:{account}:rule/{rule}", "confluence-renew disable (then its status line)"),
    ),
    "none": (),
}


def image_class(image: str) -> str:
    """The class of a workflow image (``none`` when it makes no AWS call)."""
    return CLASS_OF_IMAGE.get(image, "none")


def actions(cls: str) -> list[str]:
    """Every action class ``cls`` is granted, sorted (EFS client actions left out)."""
    return sorted({a for g in GRANTS[cls] for a in g.actions})


def efs_actions(steps: Sequence[Step]) -> list[str]:
    """``ClientMount`` when the steps mount a volume, ``ClientWrite`` too when one writes."""
    if not any(s.reads or s.writes for s in steps):
        return []
    return ["elasticfilesystem:ClientMount"] + (["elasticfilesystem:ClientWrite"] if any(s.writes for s in steps)
                                                 else [])


def policy(cls: str, steps: Sequence[Step], *, region: str, account: str, file_system_id: str = "*",
           creds_prefix: str = "/confluence/creds", rule: str = "confluence-renew", sos_bucket: str = "*",
           sos_prefix: str = "", results_bucket: str = "*", results_prefix: str = "") -> dict[str, Any]:
    """The identity policy of class ``cls``'s job role (``steps``: the steps whose images are in it)."""
    values = {"region": region, "account": account, "creds_prefix": creds_prefix.rstrip("/"), "rule": rule,
              "sos_bucket": sos_bucket, "sos_prefix": _prefix(sos_prefix), "results_bucket": results_bucket,
              "results_prefix": _prefix(results_prefix)}
    statements: list[dict[str, Any]] = []
    for grant in GRANTS[cls]:
        statement: dict[str, Any] = {"Effect": "Allow", "Action": list(grant.actions),
                                     "Resource": grant.resource.format(**values)}
        if grant.condition:
            statement["Condition"] = {op: {key: value.format(**values)} for op, key, value in grant.condition}
        statements.append(statement)
    efs = efs_actions(steps)
    if efs:
        statements.append({"Effect": "Allow", "Action": efs,
                           "Resource": f"arn:aws:elasticfilesystem:{region}:{account}:file-system/{file_system_id}"})
    return {"Version": "2012-10-17", "Statement": statements}


def _prefix(prefix: str) -> str:
    """A key prefix as a resource pattern: ``results`` -> ``results/``; empty stays empty."""
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""
