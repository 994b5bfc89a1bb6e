"""Least-privilege job roles: one IAM role per *image class*, from one table of actions.

Every workflow image belongs to one class (:data:`CLASS_OF_IMAGE`, default
``none``), and a class grants exactly the AWS calls its steps make, nothing else:

================  ==========================  =====================================================================
class             images                      what the steps call (with the role's credentials)
================  ==========================  =====================================================================
``podaac``        datagen, input              ``ssm:GetParameters`` of the four PO.DAAC credential parameters
                                              (``confluence_core.riversp.s3_client``; the granules are then read
                                              with PO.DAAC's own temporary credentials), ``kms:Decrypt`` through SSM
``sos``           priors                      ``s3:GetObject`` below ``s3.sos_prefix`` and ``s3:ListBucket`` of
                                              ``s3.sos_bucket`` (``download_file`` heads the object first)
``results``       output                      ``s3:ListBucket`` (``head_bucket``), ``s3:GetObject`` (``head_object``:
                                              never over an earlier object), ``s3:PutObject`` and
                                              ``s3:AbortMultipartUpload`` below ``s3.results_prefix``
``renew``         renew (disable_renew)       ``events:DescribeRule``, ``events:DisableRule``,
                                              ``events:ListTargetsByRule`` of the renew rule
                                              (``confluence_renew.schedule.disable`` then ``status``)
``orchestrator``  driver (the orchestrator,   what ``run --batch --attached`` calls (:mod:`.orchestrator`):
                  :mod:`.orchestrator`)       submit, follow and terminate the workflow's Batch jobs; the run
                                              record and its deployment file below ``s3.runs_prefix``; the
                                              images' digests in ECR; the renew rule (enable, describe, targets),
                                              one invocation of the renew Lambda, the credential parameters'
                                              existence and the ``expiration`` value only; failed jobs' logs
``none``          every other image           no AWS call
================  ==========================  =====================================================================

Every class whose images mount an EFS volume also gets ``elasticfilesystem:ClientMount``
(and ``ClientWrite`` when one of its steps writes a volume): job definitions mount with
IAM authorization (``authorizationConfig.iam = ENABLED``), which uses the job role.

So output cannot read PO.DAAC's credentials, only disable_renew can disable the rule and only
the orchestrator (which runs ``run --batch`` in AWS) can enable it.
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
    "driver": "orchestrator",
}
CLASSES = ("podaac", "sos", "results", "renew", "orchestrator", "none")


@dataclass(frozen=True)
class Grant:
    """Actions on one resource (a template filled by :func:`policy`), and why a step needs them."""

    actions: tuple[str, ...]
    resource: str
    why: str
    condition: tuple[tuple[str, str, str], ...] = ()  # (operator, key, value template)


#: class -> what it may call.  Placeholders: {region} {account} {creds_prefix} {rule} {sos_bucket}
#: {sos_prefix} {results_bucket} {results_prefix} {runs_bucket} {runs_prefix} {name_prefix} {log_group}
#: {renew_function}.
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
    "orchestrator": (
        Grant(("batch:DescribeJobQueues", "batch:DescribeJobDefinitions", "batch:DescribeJobs", "batch:ListJobs"),
              "*", "follow the jobs (these Batch actions take no resource)"),
        Grant(("batch:SubmitJob",), "arn:aws:batch:{region}:{account}:job-definition/{name_prefix}-*",
              "submit the workflow's jobs (their definitions)"),
        Grant(("batch:SubmitJob",), "arn:aws:batch:{region}:{account}:job-queue/{name_prefix}*",
              "submit the workflow's jobs (the stack's queues)"),
        Grant(("batch:TerminateJob", "batch:TagResource"), "arn:aws:batch:{region}:{account}:job/*",
              "cancel what follows a failed step; tags propagated to the jobs it submits"),
        Grant(("s3:ListBucket",), "arn:aws:s3:::{runs_bucket}", "a missing record is a 404, not a 403"),
        Grant(("s3:GetObject", "s3:PutObject"), "arn:aws:s3:::{runs_bucket}/{runs_prefix}*",
              "the run record and the run's copy of the deployment file"),
        Grant(("ecr:DescribeImages",), "arn:aws:ecr:{region}:{account}:repository/{name_prefix}/*",
              "the digests the job definitions must name"),
        Grant(("events:DescribeRule", "events:EnableRule", "events:ListTargetsByRule"),
              "arn:aws:events:{region}:{account}:rule/{rule}", "enable and check the renew schedule before datagen"),
        Grant(("lambda:InvokeFunction",), "{renew_function}", "invoke the renew Lambda once before datagen"),
        Grant(("ssm:GetParameters", "ssm:GetParameter"), "arn:aws:ssm:{region}:{account}:parameter{creds_prefix}/*",
              "the credential parameters exist (no decryption)"),
        Grant(("kms:Decrypt",), "arn:aws:kms:{region}:{account}:key/*", "the expiration parameter only, through SSM",
              (("StringEquals", "kms:ViaService", "ssm.{region}.amazonaws.com"),
               ("StringEquals", "kms:EncryptionContext:PARAMETER_ARN",
                "arn:aws:ssm:{region}:{account}:parameter{creds_prefix}/expiration"))),
        Grant(("logs:GetLogEvents",), "arn:aws:logs:{region}:{account}:log-group:{log_group}:log-stream:*",
              "the first error line of a failed child"),
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
           sos_prefix: str = "", results_bucket: str = "*", results_prefix: str = "", runs_bucket: str = "*",
           runs_prefix: str = "", name_prefix: str = "confluence", log_group: str = "/aws/batch/job",
           renew_function: str = "*") -> dict[str, Any]:
    """The identity policy of class ``cls``'s job role (``steps``: the steps whose images are in it)."""
    values = {"region": region, "account": account, "creds_prefix": creds_prefix.rstrip("/"), "rule": rule,
              "sos_bucket": sos_bucket, "sos_prefix": _prefix(sos_prefix), "results_bucket": results_bucket,
              "results_prefix": _prefix(results_prefix), "runs_bucket": runs_bucket,
              "runs_prefix": _prefix(runs_prefix), "name_prefix": name_prefix, "log_group": log_group,
              "renew_function": renew_function}
    statements: list[dict[str, Any]] = []
    for grant in GRANTS[cls]:
        statement: dict[str, Any] = {"Effect": "Allow", "Action": list(grant.actions),
                                     "Resource": grant.resource.format(**values)}
        if grant.condition:
            condition: dict[str, dict[str, str]] = {}
            for op, key, value in grant.condition:
                condition.setdefault(op, {})[key] = value.format(**values)
            statement["Condition"] = condition
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
