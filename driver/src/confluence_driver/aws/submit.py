"""``confluence run --batch``: the workflow's steps as AWS Batch jobs, in phases.

The same table and the same fan-out lists as the local engine
(:mod:`confluence_core.workflow`, :func:`confluence_driver.fanout.children`).

Phases.  A step's array size is the length of its JSON list (divided by the row's
``group``, rounded up: a child then takes ``group`` entries), and most lists
are written by the run itself (datagen -> combine_data -> everything else).
So the run is submitted in phases: a phase ends before the first step whose
list an earlier step of the phase writes (a step with an ``input:*.json``
output).  The driver submits a phase with dependencies between its steps,
waits for it, reads the lists, and submits the next.  For the packaged table:
phase 1 = datagen, combine_data; phase 2 = input ... output.

Chunks and dependencies.  A list of n entries becomes ``index.chunks(n)``
array jobs of at most 10,000 children, each told its first index in
``CONFLUENCE_INDEX_OFFSET`` (a chunk of one is a plain job with
``AWS_BATCH_JOB_ARRAY_INDEX=0``).  Steps are submitted in *levels*
(:func:`levels`): consecutive FLPE algorithms of the table (``[steps.flpe]
role = "algorithm"``) share one level and run side by side, every other step is
a level of its own.  A step depends on all jobs of the previous level (so the
combiner, consensus, waits for every algorithm), except that chunk k depends
N_TO_N on chunk k of a lone previous step when both read the same list in the
same groups (child i needs only child i before it).

Deciding a step's state.  Never from the array parent: from its children
(``arrayProperties.statusSummary`` counts, FAILED children listed with
``list_jobs(arrayJobId=..., jobStatus=FAILED)``), with a deadline per step
(:meth:`BatchRun.step_timeout`: it grows with the number of children that
cannot run at once), so the driver cannot hang.  A failed step terminates the
jobs submitted after it; a failure of the driver itself marks the run FAILED
with its reason.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluence_core import branch as run_branch
from confluence_core import s3
from confluence_core.entries import job_count
from confluence_core.errors import ConfluenceError
from confluence_core.ids import CONTINENTS
from confluence_core.index import ARRAY_INDEX_ENV, MAX_ARRAY_SIZE, OFFSET_ENV, chunks
from confluence_core.jsonio import write_json
from confluence_core.workflow import Resource, Step, Workflow

from .. import __version__
from ..fanout import children
from ..runner import StepFailedError
from . import renewal
from .config import Aws, AwsConfig, aws_errors
from .deploy import batch_steps, definition_name, image_digests, latest_active, push_plan, resource
from .logs import error_line, log_stream
from .records import RecordStore, check_run_id, now
from .renewal import RenewCheckError

#: AWS Batch allows at most this many entries in a job's dependsOn.
MAX_DEPENDENCIES = 20
DONE = ("SUCCEEDED", "FAILED")
STATES = ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED", "FAILED")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def parallel(step: Step) -> bool:
    """True for an FLPE algorithm (``[steps.flpe] role = "algorithm"``): it runs beside the others."""
    return step.flpe is not None and step.flpe.role == "algorithm"


def levels(steps: Sequence[Step]) -> list[list[Step]]:
    """Group steps into levels: consecutive FLPE algorithms share one, every other step is alone.

    A level starts once the previous level's steps have succeeded (Batch ``dependsOn``).
    """
    out: list[list[Step]] = []
    for step in steps:
        if out and parallel(step) and all(parallel(s) for s in out[-1]):
            out[-1].append(step)
        else:
            out.append([step])
    return out


def produces_lists(step: Step) -> bool:
    """True when the step writes JSON files into the input volume (fan-out lists of later steps)."""
    return any(o.volume == "input" and o.pattern.endswith(".json") for o in step.outputs)


def phases(steps: Sequence[Step]) -> list[list[Step]]:
    """Split steps into phases: a new phase before a fanned-out step that follows a list producer."""
    out: list[list[Step]] = []
    current: list[Step] = []
    for step in steps:
        if current and step.fanout != "once" and any(produces_lists(s) for s in current):
            out.append(current)
            current = []
        current.append(step)
    if current:
        out.append(current)
    return out


# -- fan-out lists ------------------------------------------------------------------------------------

class ListSource:
    """Where the driver reads fan-out lists: a local view of the input volume, or S3."""

    def fetch(self, name: str) -> Path:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class DirLists(ListSource):
    """The input volume mounted here (EFS mounted locally, or a host folder)."""

    folder: Path

    def fetch(self, name: str) -> Path:
        return self.folder / name

    def describe(self) -> str:
        return str(self.folder)

    def ensure_continents(self) -> None:
        """Write continent.json (the first list, made by the driver as the local engine does) when absent."""
        path = self.folder / "continent.json"
        if self.folder.is_dir() and not path.exists():
            write_json(path, CONTINENTS)


@dataclass
class S3Lists(ListSource):
    """``s3://bucket/prefix/<list>``, a copy of the input volume's JSON files."""

    aws: Aws
    bucket: str
    prefix: str
    _tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="confluence-lists-")))

    def fetch(self, name: str) -> Path:
        from botocore.exceptions import ClientError

        key = f"{self.prefix}/{name}" if self.prefix else name
        path = self._tmp / name
        with aws_errors(f"cannot read fan-out list s3://{self.bucket}/{key}"):
            try:
                body = self.aws.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                    return path  # absent: children() says which step writes it
                raise
        path.write_bytes(body)
        return path

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def list_source(spec: str | None, aws: Aws) -> ListSource:
    """``--lists DIR`` or ``--lists s3://bucket/prefix``; with host volumes, the input folder by default."""
    if spec and spec.startswith("s3://"):
        bucket, prefix = s3.parse_url(spec)
        return S3Lists(aws, bucket, prefix.strip("/"))
    if spec:
        return DirLists(Path(spec))
    if aws.config.uses_host_volumes and "input" in aws.config.volumes:
        return DirLists(Path(aws.config.volumes["input"].host_path))
    raise ConfluenceError("give --lists DIR (the input volume mounted here) or --lists s3://bucket/prefix: "
                          "the driver sizes array jobs from the lists combine_data writes")


# -- the run ------------------------------------------------------------------------------------------

@dataclass
class BatchRun:
    """Submits, follows and records one run on AWS Batch."""

    flow: Workflow
    aws: Aws
    store: RecordStore
    lists: ListSource
    echo: Callable[[str], None] = print
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    wallclock: Callable[[], dt.datetime] = field(default_factory=lambda: _utcnow)  # credential expiration checks
    record: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # extra environment for every job (--env)
    definitions: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> AwsConfig:
        return self.aws.config

    @property
    def run_id(self) -> str:
        run_id: str = self.record["run_id"]
        return run_id

    def resource(self, step: Step) -> Resource:
        """The step's resource class with the deployment's overrides."""
        return resource(self.flow, self.config, step.resources)

    # -- checks -----------------------------------------------------------------------------------
    def check(self, steps: Sequence[Step]) -> None:
        """The queue exists and every image has a registered definition of the configured image.

        With ``images.reference = "digest"`` the definition must name the digest ECR holds under the
        configured tag (what ``deploy`` registered).
        """
        self.aws.check_queue()
        images = list(dict.fromkeys(s.image for s in steps))
        digests: dict[str, str] = {}
        if self.config.reference == "digest":
            digests, missing = image_digests(self.aws, push_plan(self.config, images))
            if missing:
                raise ConfluenceError(f"not in ECR registry {self.config.registry}: {', '.join(missing)}; run "
                                      f"confluence deploy --config {self.config.path}")
        for image in images:
            name = definition_name(self.config, image)
            latest = latest_active(self.aws, name)
            if latest is None:
                raise ConfluenceError(f"Batch job definition {name} is not registered: run "
                                      f"confluence deploy --config {self.config.path}")
            have = (latest.get("containerProperties") or {}).get("image", "")
            want = self.config.image_uri(image, digests.get(image, ""))
            if have != want:
                raise ConfluenceError(f"Batch job definition {name} runs {have}, the configuration says "
                                      f"{want}: run confluence deploy --config {self.config.path}")
            self.definitions[image] = latest["jobDefinitionArn"]

    # -- running ----------------------------------------------------------------------------------
    def start(self, run_id: str | None = None, resume: dict[str, Any] | None = None) -> None:
        if resume is not None:
            self.record = resume
            self.record["state"] = "RUNNING"
        else:
            self.record = {
                "run_id": check_run_id(run_id or new_run_id()), "config": str(Path(self.config.path).absolute()),
                "queue": self.config.job_queue, "region": self.config.region, "version": __version__,
                "lists": self.lists.describe(), "created": now(), "state": "RUNNING", "steps": {},
                # every job gets CONFLUENCE_BRANCH in its environment (self.env, set by `confluence run --branch`)
                "branch": self.env.get(run_branch.BRANCH_ENV, run_branch.DEFAULT),
            }

    def run(self, steps: Sequence[Step], run_id: str | None = None,
            resume: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run ``steps`` (planned ones are skipped) and return the final record.

        Raises :class:`StepFailedError` (after saving the record) when a step fails.
        """
        for step in steps:
            if not step.ready:
                self.echo(f"{step.name}: planned, not built yet: skipped")
        steps = batch_steps(self.flow, steps)
        self.check(steps)
        self.start(run_id, resume)
        done = [s for s in steps if self.entry(s).get("state") == "SUCCEEDED"]
        for step in done:
            self.echo(f"{step.name}: succeeded in an earlier attempt: not redone")
        todo = [s for s in steps if s not in done]
        try:
            if isinstance(self.lists, DirLists):
                self.lists.ensure_continents()
            self.store.save(self.record)
            self.echo(f"run {self.run_id}: {len(todo)} step(s) on queue {self.config.job_queue}")
            self.renew(todo)  # before phase 1: datagen must not start on missing or expired credentials
            for number, phase in enumerate(phases(todo), 1):
                self.run_phase(phase, number)
        except StepFailedError:
            raise  # recorded by run_phase
        except RenewCheckError as exc:
            self.fail_run(str(exc))
            raise
        except KeyboardInterrupt:
            self.fail_run("the driver was interrupted; jobs already submitted keep running "
                          f"(confluence run --batch --resume {self.run_id} re-attaches to them)")
            raise
        except Exception as exc:
            self.fail_run(f"the driver failed outside a step: {exc if isinstance(exc, ConfluenceError) else repr(exc)}")
            raise
        self.record["state"] = "SUCCEEDED"
        self.store.save(self.record)
        return self.record

    def renew(self, steps: Sequence[Step]) -> None:
        """Enable and check the renew schedule when a step reads PO.DAAC (:mod:`.renewal`); kept in the record.

        Every failure is a :class:`.renewal.RenewCheckError`: the run is FAILED before any job is submitted.
        """
        if not renewal.needs_credentials(steps):
            return
        if not renewal.renew_rule(self.config):
            self.echo(renewal.no_rule_message(self.config))
            self.record["renew"] = {"rule": "", "state": "not configured"}
            return
        try:
            self.record["renew"] = renewal.prepare(self.aws, run_id=self.run_id, now=self.wallclock)
        except renewal.RenewCheckError:
            raise
        except ConfluenceError as exc:  # an AWS call failed: the same one reason, named as the schedule's
            raise RenewCheckError(f"renew schedule: {exc}") from None
        done = self.record["renew"]
        self.echo(f"renew: EventBridge rule {done['rule']} ENABLED -> {done['lambda']}; invoked it once: "
                  f"PO.DAAC's credentials expire at {done['expiration']}")
        if not renewal.disables(steps):
            self.echo(f"renew: this run has no disable_renew step: the rule stays enabled (confluence renew "
                      f"disable --rule {done['rule']} when done)")
        self.store.save(self.record)

    def fail_run(self, reason: str) -> None:
        """Mark the run FAILED with ``reason`` (a step's own failure is recorded by :meth:`run_phase`)."""
        self.record["state"] = "FAILED"
        self.record["reason"] = reason
        self.echo(f"run {self.run_id}: {reason}")
        try:
            self.store.save(self.record)
        except Exception as exc:  # the original error is the one to raise; say why the record is stale
            self.echo(f"run {self.run_id}: the run record could not be saved ({exc})")

    def entry(self, step: Step) -> dict[str, Any]:
        entry: dict[str, Any] = self.record["steps"].setdefault(step.name, {})
        return entry

    def run_phase(self, phase: list[Step], number: int) -> None:
        self.echo(f"phase {number}: {', '.join(s.name for s in phase)}")
        before: list[Step] = []  # the last level with jobs: what the next level waits for
        for level in levels(phase):
            for step in level:
                self.submit(step, before, number)
                self.store.save(self.record)
            with_jobs = [s for s in level if self.entry(s).get("jobs")]
            if with_jobs:
                before = with_jobs
        for n, step in enumerate(phase):
            if not self.wait(step):
                self.cancel(phase[n + 1:], f"step {step.name} failed")
                self.record["state"] = "FAILED"
                self.store.save(self.record)
                raise StepFailedError(self.failure_message(step))

    def submit(self, step: Step, previous: Sequence[Step], phase: int) -> None:
        """Submit a step's chunks (or re-attach to jobs still running from an earlier attempt)."""
        entry = self.entry(step)
        if entry.get("state") in ("SUBMITTED", "RUNNING") and entry.get("jobs") and self._jobs_known(entry) \
                and not self.counts(entry).get("FAILED"):
            self.echo(f"{step.name}: re-attached to {len(entry['jobs'])} job(s) of the earlier attempt")
            return
        # a row with ``group = N``: one child takes N entries (confluence_core.entries), so N times fewer children
        size = 1 if step.fanout == "once" else job_count(len(children(step, self.lists.fetch(step.list).parent)),
                                                         step.group)
        pieces = chunks(size)
        entry.clear()
        entry.update({"state": "SUBMITTED", "list": step.list, "size": size, "phase": phase,
                      "definition": self.definitions[step.image], "jobs": [], "depends": "",
                      "after": [s.name for s in previous], "counts": {},
                      "failed": [], "reason": "", "submitted": now()})
        if size == 0:
            entry["state"] = "SUCCEEDED"
            entry["reason"] = f"{step.list} is empty: nothing to do"
            self.echo(f"{step.name}: {entry['reason']}")
            return
        depends = self._dependencies(step, previous, pieces)
        n_to_n = bool(depends[0]) and depends[0][0].get("type") == "N_TO_N"
        entry["depends"] = "" if not previous else ("n_to_n" if n_to_n else "after")
        cls = resource(self.flow, self.config, step.resources)
        for k, (offset, count) in enumerate(pieces):
            env = [{"name": "CONFLUENCE_RUN_ID", "value": self.run_id}, {"name": OFFSET_ENV, "value": str(offset)}]
            env += [{"name": k, "value": v} for k, v in step.environment().items()]
            env += [{"name": k, "value": v} for k, v in self.env.items()]
            if count == 1:
                env.append({"name": ARRAY_INDEX_ENV, "value": "0"})
            kwargs: dict[str, Any] = {
                "jobName": job_name(self.config.name_prefix, self.run_id, step.name, k),
                "jobQueue": self.config.job_queue,
                "jobDefinition": self.definitions[step.image],
                "containerOverrides": {
                    "command": list(step.command), "environment": env,
                    "resourceRequirements": [{"type": "VCPU", "value": str(cls.vcpus)},
                                             {"type": "MEMORY", "value": str(cls.memory_mib)}],
                },
                "timeout": {"attemptDurationSeconds": max(60, cls.timeout_s)},
                "tags": {"confluence:run": self.run_id, "confluence:step": step.name},
                "propagateTags": True,
            }
            if count > 1:
                kwargs["arrayProperties"] = {"size": count}
            if depends[k]:
                kwargs["dependsOn"] = depends[k]
            with aws_errors(f"cannot submit step {step.name} (chunk {k}) to job queue {self.config.job_queue}"):
                out = self.aws.client("batch").submit_job(**kwargs)
            entry["jobs"].append({"job_id": out["jobId"], "offset": offset, "size": count, "array": count > 1})
        shape = f"{size} children in {len(pieces)} job(s)" if step.fanout != "once" else "1 job"
        after = ", ".join(s.name for s in previous)
        self.echo(f"{step.name}: submitted {shape}" + (f", after {after} ({entry['depends']})" if previous else ""))

    def _dependencies(self, step: Step, previous: Sequence[Step],
                      pieces: list[tuple[int, int]]) -> list[list[dict[str, Any]]]:
        if not previous:
            return [[] for _ in pieces]
        before = [job for p in previous for job in self.entry(p)["jobs"]]
        if len(previous) == 1:
            prev = previous[0]
            same = (
                step.fanout != "once" and prev.fanout != "once" and step.list == prev.list
                and step.group == prev.group and [(j["offset"], j["size"]) for j in before] == pieces
                and all(c > 1 for _, c in pieces)
            )
            if same:
                return [[{"jobId": job["job_id"], "type": "N_TO_N"}] for job in before]
        if len(before) > MAX_DEPENDENCIES:
            raise ConfluenceError(f"step {step.name} would depend on {len(before)} jobs of "
                                  f"{', '.join(p.name for p in previous)}; AWS Batch allows {MAX_DEPENDENCIES} "
                                  f"(lists of more than {MAX_DEPENDENCIES * MAX_ARRAY_SIZE // len(previous)} "
                                  "entries are not supported here)")
        return [[{"jobId": job["job_id"]} for job in before] for _ in pieces]

    def _jobs_known(self, entry: dict[str, Any]) -> bool:
        ids = [j["job_id"] for j in entry["jobs"]]
        return len(self.describe(ids)) == len(ids)

    # -- following --------------------------------------------------------------------------------
    def describe(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """describe_jobs in batches of 100: job id -> description."""
        out: dict[str, dict[str, Any]] = {}
        batch = self.aws.client("batch")
        for start in range(0, len(ids), 100):
            with aws_errors("cannot read the state of Batch jobs"):
                for job in batch.describe_jobs(jobs=list(ids[start:start + 100])).get("jobs", []):
                    out[job["jobId"]] = job
        return out

    def counts(self, entry: dict[str, Any]) -> dict[str, int]:
        """Children per state, summed over the step's jobs (array children, never the parent's status)."""
        counts = dict.fromkeys(STATES, 0)
        described = self.describe([j["job_id"] for j in entry["jobs"]])
        for job in entry["jobs"]:
            info = described.get(job["job_id"])
            if info is None:
                counts["FAILED"] += job["size"]  # Batch forgot it (older than its retention)
            elif job["array"]:
                summary = (info.get("arrayProperties") or {}).get("statusSummary") or {}
                known = 0
                for state in STATES:
                    counts[state] += int(summary.get(state, 0))
                    known += int(summary.get(state, 0))
                counts["SUBMITTED"] += max(0, job["size"] - known)
            else:
                counts[info.get("status", "SUBMITTED")] += 1
        return {k: v for k, v in counts.items() if v}

    def step_timeout(self, step: Step) -> float:
        """The deadline of a step, in seconds from when the driver starts waiting for it.

        ``waves x timeout_s x retry_attempts + queue_wait_seconds``, where ``waves =
        ceil(children / max(1, batch.max_vcpus // vcpus))``: the children the compute
        environment cannot run at once run in later waves, each of which may take up
        to every attempt of its children.  One wave for a step that fits.
        """
        cls = resource(self.flow, self.config, step.resources)
        size = int(self.entry(step).get("size") or 1)
        at_once = max(1, self.config.max_vcpus // max(1, cls.vcpus))
        waves = max(1, -(-size // at_once))
        return float(waves * cls.timeout_s * self.config.retry_attempts + self.config.queue_wait_seconds)

    def wait(self, step: Step) -> bool:
        """Follow a step until every child ended or its deadline passed; True when all succeeded."""
        entry = self.entry(step)
        if entry.get("state") == "SUCCEEDED" or not entry.get("jobs"):
            return entry.get("state") == "SUCCEEDED"
        limit = self.step_timeout(step)
        deadline = self.clock() + limit
        last: dict[str, int] = {}
        while True:
            counts = self.counts(entry)
            finished = counts.get("SUCCEEDED", 0) + counts.get("FAILED", 0)
            if counts != last:
                entry["counts"] = counts
                entry["state"] = "RUNNING" if finished or counts.get("RUNNING") else entry["state"]
                self.echo(f"{step.name}: " + ", ".join(f"{v} {k.lower()}" for k, v in counts.items())
                          + f" (of {entry['size']})")
                self.store.save(self.record)
                last = counts
            if finished >= entry["size"]:
                break
            if self.clock() > deadline:
                entry["reason"] = (f"timed out after {limit:.0f} s with {finished} of {entry['size']} children "
                                   "finished (waves x resource timeout x attempts + batch.queue_wait_seconds, "
                                   f"waves of batch.max_vcpus {self.config.max_vcpus})")
                self.cancel([step], entry["reason"])
                entry["state"] = "FAILED"
                entry["finished"] = now()
                return False
            self.sleep(self.config.poll_seconds)
        entry["finished"] = now()
        if counts.get("FAILED"):
            entry["failed"] = self.failed_children(entry)
            entry["state"] = "FAILED"
            return False
        entry["state"] = "SUCCEEDED"
        self.store.save(self.record)
        return True

    def failed_children(self, entry: dict[str, Any], detail: int = 20) -> list[dict[str, Any]]:
        """Index, job id, reason and log stream of the failed children (details for the first ``detail``)."""
        batch = self.aws.client("batch")
        failed: list[tuple[int, str]] = []
        described = self.describe([j["job_id"] for j in entry["jobs"]])
        for job in entry["jobs"]:
            if not job["array"]:
                if described.get(job["job_id"], {}).get("status", "FAILED") == "FAILED":
                    failed.append((job["offset"], job["job_id"]))
                continue
            kwargs: dict[str, Any] = {"arrayJobId": job["job_id"], "jobStatus": "FAILED"}
            with aws_errors(f"cannot list the failed children of job {job['job_id']}"):
                while True:
                    page = batch.list_jobs(**kwargs)
                    for child in page.get("jobSummaryList", []):
                        failed.append((job["offset"] + int(child["jobId"].rsplit(":", 1)[1]), child["jobId"]))
                    if not page.get("nextToken"):
                        break
                    kwargs["nextToken"] = page["nextToken"]
        failed.sort()
        info = self.describe([jid for _, jid in failed[:detail]])
        out = []
        for n, (index, jid) in enumerate(failed):
            item: dict[str, Any] = {"index": index, "job_id": jid}
            if jid in info:
                job = info[jid]
                container = job.get("container") or {}
                item["log_stream"] = log_stream(job)
                reason = error_line(self.aws, item["log_stream"]) if n < 3 else ""
                code = container.get("exitCode")
                item["reason"] = (reason or job.get("statusReason") or container.get("reason")
                                  or (f"exit code {code}" if code is not None else "no reason given"))
            out.append(item)
        return out

    def cancel(self, steps: Sequence[Step], reason: str) -> None:
        """Terminate every job of ``steps`` (children of a terminated array parent end with it)."""
        batch = self.aws.client("batch")
        for step in steps:
            entry = self.record["steps"].get(step.name) or {}
            for job in entry.get("jobs", []):
                with aws_errors(f"cannot terminate job {job['job_id']}"):
                    batch.terminate_job(jobId=job["job_id"], reason=f"confluence: {reason}"[:250])
            if entry.get("jobs") and entry.get("state") != "FAILED":
                entry["state"] = "CANCELLED"
                entry["reason"] = reason

    def failure_message(self, step: Step) -> str:
        entry = self.entry(step)
        failed = entry.get("failed", [])
        if not failed:
            return f"step {step.name} failed: {entry.get('reason') or 'no child succeeded'}"
        first = failed[0]
        indices = ", ".join(str(f["index"]) for f in failed[:20]) + (" ..." if len(failed) > 20 else "")
        return (f"step {step.name} failed: {len(failed)} of {entry['size']} children (indices {indices}); "
                f"index {first['index']}: job {first['job_id']}: {first.get('reason', '?')}; log stream "
                f"{first.get('log_stream') or '(none)'} (confluence logs {self.run_id} {step.name} {first['index']})")


def job_name(prefix: str, run_id: str, step: str, chunk: int) -> str:
    """A Batch job name (``[A-Za-z0-9_-]``, at most 128 characters)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"{prefix}-{step}-{run_id}-{chunk}")[:128]
