"""``confluence deploy``: images to ECR and one AWS Batch job definition per workflow image.

A job definition is built from the workflow table only: the image, the
resource class of its steps (with the configuration's overrides), the volumes
its steps read (read-only) and write, mounted where
:func:`confluence_core.volumes.container_path` says.  A step that shares its
image with another step (postdiagnostics, validation) shares the definition:
the volumes are the union, the resources the largest, and each job passes its
own command.

Registering is idempotent: a new revision only when the properties differ from
the latest ACTIVE revision.  Pushing is a separate action (``--skip-push``).

Images are named by digest (``registry/confluence/input@sha256:...``, what ECR
holds under the tag ``images.version`` after the push): a job runs the bytes that
were deployed, even if someone pushes the tag again.  ECR repositories are
created with immutable tags, so a tag cannot move either; pushing a tag ECR holds
with another digest is an error (bump ``images.version``).

Each job definition gets the job role of its image's class (:mod:`.iam`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluence_core.errors import ConfluenceError
from confluence_core.volumes import container_path
from confluence_core.workflow import Resource, Step, Workflow

from ..runner import image_tag
from . import orchestrator
from .config import Aws, AwsConfig, aws_errors
from .iam import image_class

#: Retry only what another host may fix; a module's own failure (exit 1) is final.
RETRY_ON = ({"onStatusReason": "Host EC2*", "action": "RETRY"},
            {"onReason": "ResourceInitializationError*", "action": "RETRY"},
            {"onReason": "*", "action": "EXIT"},
            {"onExitCode": "*", "action": "EXIT"})


@dataclass
class JobDefinitionPlan:
    """The job definition one workflow image gets."""

    image: str
    name: str
    steps: list[str]
    properties: dict[str, Any]  # keyword arguments of register_job_definition
    action: str = ""  # "new", "update", "unchanged" once compared
    changed: list[str] = field(default_factory=list)
    arn: str = ""


@dataclass(frozen=True)
class PushItem:
    """One image to push: the local tag and where it goes in ECR."""

    image: str
    local: str
    repository: str  # ECR repository name, e.g. confluence/input
    remote: str  # registry/repository (docker's "repository" for tag and push)
    tag: str


def definition_name(config: AwsConfig, image: str) -> str:
    """Name of a workflow image's job definition, e.g. ``confluence-flpe-momma``."""
    return f"{config.name_prefix}-{image}".replace("/", "-")


def resource(flow: Workflow, config: AwsConfig, name: str) -> Resource:
    """A resource class with the configuration's overrides (``[resources.<class>]``) applied."""
    base = flow.resources.get(name) or (orchestrator.RESOURCE if name == orchestrator.RESOURCE.name else None)
    if base is None:
        raise ConfluenceError(f"no resource class {name!r} in the workflow table "
                              f"(classes: {', '.join(flow.resources)})")
    over = config.resources.get(name, {})
    return Resource(name=name, slots=base.slots, vcpus=over.get("vcpus", base.vcpus),
                    memory_mib=over.get("memory_mib", base.memory_mib), timeout_s=over.get("timeout_s", base.timeout_s))


def batch_steps(flow: Workflow, steps: Sequence[Step] | None = None) -> list[Step]:
    """The steps that run on Batch: ready rows (``local = "noop"`` rows too: they act on AWS)."""
    return [s for s in (flow.steps if steps is None else steps) if s.ready]


def plan_definitions(flow: Workflow, config: AwsConfig, steps: Sequence[Step] | None = None,
                     digests: dict[str, str] | None = None) -> list[JobDefinitionPlan]:
    """One job definition per image of the ready steps, in workflow order, then the orchestrator's.

    ``digests`` (image -> ``sha256:...``, from ECR) makes each definition name its image by digest.
    The orchestrator (:mod:`.orchestrator`, ``run --batch`` in AWS) is planned when ``steps`` is None
    (a deployment has it whatever the run's steps).
    """
    by_image: dict[str, list[Step]] = {}
    chosen = batch_steps(flow, steps) + ([orchestrator.step()] if steps is None else [])
    for step in chosen:
        by_image.setdefault(step.image, []).append(step)
    unknown = sorted(set(config.resources) - set(flow.resources) - {orchestrator.RESOURCE.name})
    if unknown:
        raise ConfluenceError(f"resources.{unknown[0]}: no such resource class in the workflow table "
                              f"(classes: {', '.join(flow.resources)})", config.path)
    return [_plan(image, group, flow, config, (digests or {}).get(image, "")) for image, group in by_image.items()]


def _plan(image: str, steps: list[Step], flow: Workflow, config: AwsConfig, digest: str = "") -> JobDefinitionPlan:
    classes = [resource(flow, config, s.resources) for s in steps]
    mounts: dict[str, bool] = {}
    for step in steps:
        for volume, read_only in step.volumes.items():
            mounts[volume] = mounts.get(volume, True) and read_only
    volumes, points = [], []
    for volume in sorted(mounts):
        source = config.volume(volume, f"step {steps[0].name}")
        if source is None:  # optional (source, previous) and not configured: not mounted
            continue
        volumes.append(source.batch_volume(config.file_system_id, config.transit_encryption))
        points.append({"sourceVolume": volume, "containerPath": container_path(volume), "readOnly": mounts[volume]})
    container: dict[str, Any] = {
        "image": config.image_uri(image, digest),
        "command": list(steps[0].command),
        "resourceRequirements": [
            {"type": "VCPU", "value": str(max(c.vcpus for c in classes))},
            {"type": "MEMORY", "value": str(max(c.memory_mib for c in classes))},
        ],
        "volumes": volumes,
        "mountPoints": points,
        "environment": [{"name": k, "value": v} for k, v in sorted(config.job_environment().items())],
    }
    role = config.job_role(image_class(image), f"image {image}")
    if role:
        container["jobRoleArn"] = role
    if config.execution_role_arn:
        container["executionRoleArn"] = config.execution_role_arn
    properties = {
        "type": "container",
        "containerProperties": container,
        "retryStrategy": {"attempts": config.retry_attempts, "evaluateOnExit": [dict(r) for r in RETRY_ON]},
        "timeout": {"attemptDurationSeconds": max(60, max(c.timeout_s for c in classes))},
        "platformCapabilities": [config.platform],
        "propagateTags": True,
        "tags": {"confluence:image": image, "confluence:version": config.version},
    }
    return JobDefinitionPlan(image=image, name=definition_name(config, image), steps=[s.name for s in steps],
                             properties=properties)


# -- comparing with what is registered ----------------------------------------------------------------

def latest_active(aws: Aws, name: str) -> dict[str, Any] | None:
    """The highest ACTIVE revision of job definition ``name``, None when there is none."""
    batch = aws.client("batch")
    found: list[dict[str, Any]] = []
    with aws_errors(f"cannot read Batch job definition {name}"):
        kwargs: dict[str, Any] = {"jobDefinitionName": name, "status": "ACTIVE"}
        while True:
            page = batch.describe_job_definitions(**kwargs)
            found += page.get("jobDefinitions", [])
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
    return max(found, key=lambda d: d.get("revision", 0)) if found else None


def _norm(value: Any) -> Any:
    """A form of a property value that ignores order of named lists, key order and action case."""
    if isinstance(value, dict):
        return {k: (v.upper() if k == "action" and isinstance(v, str) else _norm(v)) for k, v in value.items()}
    if isinstance(value, list):
        items = [_norm(v) for v in value]
        if items and all(isinstance(v, dict) for v in items) and not any("action" in v for v in items):
            items.sort(key=lambda v: json.dumps(v, sort_keys=True))  # volumes, mountPoints, environment
        return items
    return value


_DEFAULTS = {"platformCapabilities": ["EC2"], "propagateTags": False, "tags": {}}


def differences(desired: dict[str, Any], actual: dict[str, Any] | None) -> list[str]:
    """Property names (``containerProperties.image``, ``timeout``...) that differ from ``actual``."""
    if actual is None:
        return ["new"]
    changed = []
    for key, want in desired.items():
        if key == "containerProperties":
            have_c = actual.get(key) or {}
            changed += [f"{key}.{k}" for k, v in want.items() if _norm(v) != _norm(have_c.get(k))]
        elif key != "type" and _norm(want) != _norm(actual.get(key, _DEFAULTS.get(key))):
            changed.append(key)
    return changed


# -- images -------------------------------------------------------------------------------------------

def push_plan(config: AwsConfig, images: Sequence[str]) -> list[PushItem]:
    """Local tag -> ECR repository for every image (``confluence/<image>:<version>``)."""
    return [
        PushItem(image=i, local=image_tag(i, config.version), repository=config.repository(i),
                 remote=f"{config.registry}/{config.repository(i)}", tag=config.version)
        for i in images
    ]


def ecr_digest(aws: Aws, item: PushItem) -> tuple[str, str]:
    """(digest ECR holds under the item's tag, ``""``), or (``""``, why it holds none)."""
    from botocore.exceptions import ClientError

    with aws_errors(f"cannot read ECR repository {item.repository}"):
        try:
            found = aws.client("ecr").describe_images(repositoryName=item.repository,
                                                      imageIds=[{"imageTag": item.tag}])
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "RepositoryNotFoundException":
                return "", f"{item.repository}:{item.tag} (no repository {item.repository})"
            if code == "ImageNotFoundException":
                return "", f"{item.repository}:{item.tag}"
            raise
    details = found.get("imageDetails") or []
    if not details:
        return "", f"{item.repository}:{item.tag}"
    return str(details[0]["imageDigest"]), ""


def image_digests(aws: Aws, items: Sequence[PushItem]) -> tuple[dict[str, str], list[str]]:
    """(image -> digest of every image ECR holds, ``repository:tag`` of every one it does not (with why))."""
    digests, missing = {}, []
    for item in items:
        digest, why = ecr_digest(aws, item)
        if digest:
            digests[item.image] = digest
        else:
            missing.append(why)
    return digests, missing


def missing_in_ecr(aws: Aws, items: Sequence[PushItem]) -> list[str]:
    """``repository:tag`` of every image that ECR does not hold (with why)."""
    return image_digests(aws, items)[1]


def ensure_repository(aws: Aws, name: str) -> bool:
    """Create ECR repository ``name`` unless it exists; True when it was created."""
    from botocore.exceptions import ClientError

    ecr = aws.client("ecr")
    with aws_errors(f"cannot create ECR repository {name}"):
        try:
            ecr.describe_repositories(repositoryNames=[name])
            return False
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "RepositoryNotFoundException":
                raise
        ecr.create_repository(repositoryName=name, imageTagMutability="IMMUTABLE")
        return True


def registry_auth(aws: Aws) -> dict[str, str]:
    """Docker credentials for the account's registry (``ecr.get_authorization_token``); never printed."""
    with aws_errors("cannot get an ECR login token"):
        data = aws.client("ecr").get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    return {"username": user, "password": password}


def push_images(aws: Aws, items: Sequence[PushItem], docker_client: Any,
                echo: Callable[[str], None]) -> dict[str, str]:
    """Tag every local image with its ECR name and push it (repositories created when missing).

    Returns image -> the digest the registry answered.  Tags are immutable: an image ECR already
    holds under its tag is not pushed again when it is this local image (its ``RepoDigests``), and is
    an error when it is another one.
    """
    import docker

    absent = []
    for item in items:
        try:
            docker_client.images.get(item.local)
        except docker.errors.ImageNotFound:
            absent.append(item.local)
    if absent:
        raise ConfluenceError(f"images not built here: {', '.join(absent)} (run `make build`, or give --skip-push)")
    auth = registry_auth(aws)
    pushed: dict[str, str] = {}
    for item in items:
        if ensure_repository(aws, item.repository):
            echo(f"created ECR repository {item.repository}")
        local = docker_client.images.get(item.local)
        held, _ = ecr_digest(aws, item)
        if held:
            if f"{item.remote}@{held}" in (getattr(local, "attrs", None) or {}).get("RepoDigests", []):
                echo(f"{item.remote}:{item.tag} is this image already ({held}): not pushed again")
                pushed[item.image] = held
                continue
            raise ConfluenceError(f"{item.remote}:{item.tag} holds another image ({held}) and ECR tags are "
                                  f"immutable: set a new images.version to deploy {item.local}")
        local.tag(item.remote, item.tag)
        digest = ""
        try:
            for line in docker_client.images.push(item.remote, tag=item.tag, auth_config=auth, stream=True,
                                                  decode=True):
                error = line.get("errorDetail", {}).get("message") or line.get("error")
                if error:
                    raise ConfluenceError(f"pushing {item.local} to {item.remote}:{item.tag} failed: {error}")
                digest = (line.get("aux") or {}).get("Digest", digest)
        except docker.errors.APIError as exc:
            raise ConfluenceError(f"pushing {item.local} to {item.remote}:{item.tag} failed: "
                                  f"{exc.explanation or exc}") from None
        pushed[item.image] = digest
        echo(f"pushed {item.local} -> {item.remote}:{item.tag}" + (f" ({digest})" if digest else ""))
    return pushed


# -- deploy -------------------------------------------------------------------------------------------

def deploy(flow: Workflow, config: AwsConfig, aws: Aws, *, dry_run: bool = False, skip_push: bool = False,
           docker_client: Callable[[], Any] | None = None,
           echo: Callable[[str], None] = print) -> list[JobDefinitionPlan]:
    """Push the images (unless ``skip_push``) and register what changed; ``dry_run`` only says what it would do."""
    plans = plan_definitions(flow, config)  # every configuration problem before anything is pushed
    if config.single_role_warning:
        echo(f"warning: {config.single_role_warning}")
    aws.check_queue()
    items = push_plan(config, [p.image for p in plans])
    pushed: dict[str, str] = {}
    if not skip_push:
        if dry_run:
            for item in items:
                echo(f"would push {item.local} -> {item.remote}:{item.tag}")
        else:
            if docker_client is None:
                from ..engines.docker_engine import docker_client as make_client

                docker_client = make_client
            pushed = push_images(aws, items, docker_client(), echo)
    digests, missing = image_digests(aws, items)
    if missing and (skip_push or not dry_run):
        raise ConfluenceError(f"not in ECR registry {config.registry}: {', '.join(missing)}; push them: "
                              f"confluence deploy --config {config.path} (without --skip-push)")
    moved = [f"{i}: pushed {d}, ECR holds {digests.get(i)}" for i, d in pushed.items() if d and d != digests.get(i)]
    if moved:
        raise ConfluenceError(f"ECR does not hold what was pushed ({'; '.join(moved)})")
    plans = plan_definitions(flow, config, digests=digests)
    batch = aws.client("batch")
    for plan in plans:
        latest = latest_active(aws, plan.name)
        plan.changed = differences(plan.properties, latest)
        if latest is not None and not plan.changed:  # (no latest is always a change: "new")
            plan.action, plan.arn = "unchanged", latest["jobDefinitionArn"]
            echo(f"{plan.name}: unchanged (revision {latest['revision']})")
            continue
        plan.action = "new" if latest is None else "update"
        why = "new" if latest is None else f"changed: {', '.join(plan.changed)}"
        if dry_run:
            echo(f"would register {plan.name} ({why}) for {', '.join(plan.steps)}")
            continue
        with aws_errors(f"cannot register Batch job definition {plan.name}"):
            out = batch.register_job_definition(jobDefinitionName=plan.name, **plan.properties)
        plan.arn = out["jobDefinitionArn"]
        echo(f"{plan.name}: registered revision {out['revision']} ({why})")
    return plans
