"""A run that lives in AWS: the driver itself runs as one Batch job, the *orchestrator*.

``confluence run --batch`` does not follow the run from the operator's machine.  It
checks the deployment, writes the run record and a copy of the deployment file to the
runs bucket, and submits one job of the ``driver`` image (this package) that runs
``confluence run --batch --attached --resume RUN`` inside the VPC.  That job submits
and follows the workflow's jobs exactly as the attached driver does
(:class:`.submit.BatchRun`), reads the fan-out lists where combine_data wrote them (the
input volume, mounted at :data:`LISTS_PATH`), and saves the record to S3 after every
change.  The command returns the run id at once; closing the laptop stops nothing, and
``status``, ``logs`` and ``--resume`` read the record on S3.

Why a Batch job and not a Step Functions state machine (docs/aws.md, "Where the run
lives"): the sizes of the array jobs come from JSON lists on EFS that the run itself
writes (phases), which a state machine cannot read without a Lambda inside the VPC; the
orchestration would then exist twice (the state machine and the attached driver, which
local debugging and the tests use), and could drift.  As a job, it is the same code,
checked by the same tests, with one more image.

Failures of the orchestrator itself: its job definition retries only what another host
may fix (``RETRY_ON``), and a retried attempt runs the same command, so it re-attaches to
the jobs already submitted (``--resume``).  A run whose orchestrator ended while the record
still says RUNNING is reported by ``confluence status`` with the job's reason and the
``--resume`` command that continues it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from confluence_core import branch as run_branch
from confluence_core.errors import ConfluenceError
from confluence_core.volumes import container_path
from confluence_core.workflow import Resource, Step

from .config import Aws, aws_errors
from .records import RecordStore, now

if TYPE_CHECKING:
    from .submit import BatchRun

#: The image of the orchestrator (``driver/``, this package; built by ``make build`` beside the workflow's).
IMAGE = "driver"
#: Its name in the record (``record["orchestrator"]``) and in ``confluence logs RUN orchestrator``.
NAME = "orchestrator"
#: Its resource class; ``[resources.orchestrator]`` of the deployment file overrides it.  The
#: timeout bounds one attempt of the whole run (the steps' own deadlines are shorter).
RESOURCE = Resource(name="orchestrator", slots=1, vcpus=1, memory_mib=2048, timeout_s=7 * 86400)
#: Where the orchestrator finds the fan-out lists: the input volume, mounted in its job.
LISTS_PATH = container_path("input")
#: Records inside the orchestrator's container (a scratch copy; S3 holds the record).
CONTAINER_RECORDS = "/tmp/confluence-runs"
#: Batch sets this in every job: the orchestrator knows it runs in AWS.
JOB_ID_ENV = "AWS_BATCH_JOB_ID"
#: Orchestrator states that mean it may still act on the run.
ALIVE = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING")


def step() -> Step:
    """The orchestrator as a row-like :class:`Step`: one job, the input volume mounted read-write.

    Read-write because the driver writes ``continent.json`` (the first fan-out list) when absent,
    as the local engine does.  Used by ``deploy`` (its job definition), ``confluence images``
    (its image is built) and the IAM table (its role).
    """
    return Step(name=NAME, stage=0, image=IMAGE, path="driver", command=("confluence",), fanout="once", list="",
                reads=(), writes=("input",), outputs=(), resources=RESOURCE.name)


def config_key(prefix: str, run_id: str, suffix: str) -> str:
    """The key of the run's copy of the deployment file, beside its record."""
    name = f"{run_id}.config{suffix}"
    return f"{prefix}/{name}" if prefix else name


def command(run_id: str, config_url: str, steps: Sequence[Step], env: dict[str, str]) -> list[str]:
    """The orchestrator's command: the attached driver resuming the record the launcher wrote."""
    cmd = ["confluence", "run", "--batch", "--attached", "--config", config_url, "--resume", run_id,
           "--lists", LISTS_PATH, "--records", CONTAINER_RECORDS, "--steps", ",".join(s.name for s in steps),
           "--branch", env.get(run_branch.BRANCH_ENV, run_branch.DEFAULT)]
    for key, value in env.items():
        if key != run_branch.BRANCH_ENV:
            cmd += ["--env", f"{key}={value}"]
    return cmd


def job_state(aws: Aws, record: dict[str, Any]) -> dict[str, Any] | None:
    """The Batch description of the run's latest orchestrator job (None when it has none or Batch forgot it)."""
    jobs = (record.get(NAME) or {}).get("jobs") or []
    if not jobs:
        return None
    job_id = jobs[-1]["job_id"]
    with aws_errors(f"cannot read the state of the orchestrator job {job_id}"):
        found = aws.client("batch").describe_jobs(jobs=[job_id]).get("jobs", [])
    return found[0] if found else None


def stranded(aws: Aws, record: dict[str, Any]) -> str:
    """Why a run the record calls unfinished has no orchestrator any more ("" when it has one, or is done)."""
    if record.get("state") in ("SUCCEEDED", "FAILED") or not record.get(NAME):
        return ""
    job = job_state(aws, record)
    if job is None:
        return "its orchestrator job is unknown to Batch (older than Batch keeps jobs)"
    if job.get("status") in ALIVE:
        return ""
    reason = job.get("statusReason") or (job.get("container") or {}).get("reason") or ""
    code = (job.get("container") or {}).get("exitCode")
    return (f"its orchestrator job {job['jobId']} ended {job.get('status')}"
            + (f" (exit code {code})" if code is not None else "") + (f": {reason}" if reason else ""))


def launch(runner: BatchRun, steps: Sequence[Step], *, resume: dict[str, Any] | None,
           echo: Callable[[str], None]) -> str:
    """Submit the orchestrator of a new run (or of ``resume``); return the run id.

    ``runner`` is a :class:`.submit.BatchRun` whose ``check`` has passed for ``steps`` and the
    orchestrator.  The record is on S3 before the job is submitted, so the job finds it.
    """
    aws = runner.aws
    config = aws.config
    if resume is not None:
        if resume.get("state") == "SUCCEEDED":
            raise ConfluenceError(f"run {resume['run_id']} has already succeeded: nothing to resume")
        job = job_state(aws, resume)
        if job is not None and job.get("status") in ALIVE:
            raise ConfluenceError(f"run {resume['run_id']} is still orchestrated by Batch job {job['jobId']} "
                                  f"({job['status']}): follow it with confluence status {resume['run_id']}")
    runner.start(resume=resume)
    record: dict[str, Any] = runner.record
    run_id = runner.run_id
    source = Path(config.path)
    url = f"s3://{config.runs_bucket}/{config_key(config.runs_prefix, run_id, source.suffix or '.toml')}"
    with aws_errors(f"cannot copy the deployment file {source} to {url}"):
        aws.client("s3").put_object(Bucket=config.runs_bucket, Key=url.split("/", 3)[3], Body=source.read_bytes(),
                                    ContentType="text/plain")
    entry = record.setdefault(NAME, {"jobs": []})
    entry.update({"state": "SUBMITTED", "config": url, "submitted": now(), "reason": ""})
    record["state"] = "SUBMITTED"
    record["lists"] = f"{LISTS_PATH} (the input volume, in the orchestrator job)"
    runner.store.save(record)
    resources = runner.resource(step())
    env = {"CONFLUENCE_RUN_ID": run_id, "AWS_DEFAULT_REGION": config.region}
    kwargs: dict[str, Any] = {
        "jobName": f"{config.name_prefix}-{NAME}-{run_id}-{len(entry['jobs'])}"[:128],
        "jobQueue": config.job_queue,
        "jobDefinition": runner.definitions[IMAGE],
        "containerOverrides": {
            "command": command(run_id, url, steps, runner.env),
            "environment": [{"name": k, "value": v} for k, v in env.items()],
            "resourceRequirements": [{"type": "VCPU", "value": str(resources.vcpus)},
                                     {"type": "MEMORY", "value": str(resources.memory_mib)}],
        },
        "timeout": {"attemptDurationSeconds": max(60, resources.timeout_s)},
        "tags": {"confluence:run": run_id, "confluence:step": NAME},
        "propagateTags": True,
    }
    try:
        with aws_errors(f"cannot submit the orchestrator job to job queue {config.job_queue}"):
            out = aws.client("batch").submit_job(**kwargs)
    except ConfluenceError as exc:
        runner.fail_run(str(exc))
        raise
    entry["jobs"].append({"job_id": out["jobId"], "offset": 0, "size": 1, "array": False})
    runner.store.save(record)
    echo(f"run {run_id}: orchestrated in AWS by Batch job {out['jobId']} on queue {config.job_queue} "
         f"({len(steps)} step(s))")
    return run_id


def attach(record: dict[str, Any]) -> None:
    """In the orchestrator's job: mark the record's orchestrator RUNNING (the job id Batch gave it)."""
    entry = record.get(NAME)
    job_id = os.environ.get(JOB_ID_ENV, "")
    if entry is None or not job_id:
        return  # an attached run started by hand (laptop, tests): nothing to mark
    entry["state"] = "RUNNING"
    entry["running"] = job_id
    entry["started"] = now()


def finish(record: dict[str, Any], store: RecordStore, state: str) -> None:
    """In the orchestrator's job: its own end (the run's state is saved by :class:`.submit.BatchRun`)."""
    entry = record.get(NAME)
    if entry is None or not os.environ.get(JOB_ID_ENV):
        return
    entry["state"] = state
    entry["finished"] = now()
    with contextlib.suppress(ConfluenceError):  # the run's own state is saved already; Batch has the job's
        store.save(record)


def download_config(url: str, dest: Path) -> Path:
    """Fetch the run's copy of the deployment file (``--config s3://...`` in the orchestrator's job).

    The region comes from ``AWS_DEFAULT_REGION`` (set in the job), the endpoint from the SDK's own
    settings (``AWS_ENDPOINT_URL``, tests only).
    """
    from confluence_core import s3

    bucket, key = s3.parse_url(url)
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / Path(key).name
    try:
        import boto3
    except ImportError:
        raise ConfluenceError("--config s3://... needs the package boto3") from None
    with aws_errors(f"cannot read the deployment file {url}"):
        body = boto3.session.Session().client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    path.write_bytes(body)
    return path
