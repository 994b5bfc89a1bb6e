"""Click commands for AWS: ``deploy``, ``status``, ``logs``, ``renew`` and the body of ``run --batch``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from confluence_core import workflow as wf
from confluence_core.errors import ConfluenceError
from confluence_core.workflow import Step

from ..runner import StepFailedError
from .config import SECRET_WORDS, Aws, load_config
from .submit import BatchRun


def _fail(exc: ConfluenceError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(1)


def _err(message: str) -> None:
    click.echo(message, err=True)


_config_help = "The deployment file (TOML or YAML; see docs/aws.md)."


@click.command()
@click.option("--config", "config_file", required=True, type=click.Path(dir_okay=False), help=_config_help)
@click.option("--dry-run", is_flag=True, help="Say what would be pushed and registered; change nothing.")
@click.option("--skip-push", is_flag=True, help="Do not push images; check that ECR already holds them.")
@click.option("--workflow", "workflow_file", type=click.Path(dir_okay=False), help="Another workflow table.")
@click.option("--stack", default=None, metavar="NAME",
              help="First write --config from this CloudFormation stack's outputs (infra/confluence.yaml).")
@click.option("--region", default=None, help="The stack's region (default: the file's aws.region, else the SDK's).")
@click.option("--platform", type=click.Choice(["EC2", "FARGATE"]), default="EC2", show_default=True,
              help="With --stack: the compute environment (job queue) to use.")
@click.option("--config-only", is_flag=True, help="With --stack: write the file and stop.")
def deploy(config_file: str, dry_run: bool, skip_push: bool, workflow_file: str | None, stack: str | None,
           region: str | None, platform: str, config_only: bool) -> None:
    """Push the images to ECR and register one Batch job definition per workflow image (only what changed).

    With --stack NAME the deployment file is first written from the stack's outputs (nothing typed by hand).
    """
    from .config import write_from_stack
    from .deploy import deploy as run_deploy

    try:
        if (region or config_only or platform != "EC2") and not stack:
            raise ConfluenceError("--region, --platform and --config-only go with --stack NAME")
        flow = wf.load(workflow_file)
        if stack:
            written = write_from_stack(config_file, stack, region=region, platform=platform)
            click.echo(f"wrote {config_file} from stack {stack} (queue {written.job_queue}, "
                       f"file system {written.file_system_id}, {len(written.volumes)} access points)")
            if config_only:
                return
        config = load_config(config_file)
        plans = run_deploy(flow, config, Aws(config), dry_run=dry_run, skip_push=skip_push, echo=click.echo)
    except ConfluenceError as exc:
        _fail(exc)
    changed = sum(p.action != "unchanged" for p in plans)
    verb = "would register" if dry_run else "registered"
    click.echo(f"{len(plans)} job definitions: {changed} {verb}, {len(plans) - changed} unchanged")


def run_batch(flow: wf.Workflow, steps: Sequence[Step], *, config_file: str | None, resume: str | None,
              lists: str | None, records: str | None, dry_run: bool, env: dict[str, str],
              attached: bool = False, wait: bool = False) -> None:
    """``confluence run --batch``: start the run in AWS (the orchestrator job), or follow it here (--attached).

    In AWS (the default) the command returns once the orchestrator job is submitted
    (:mod:`.orchestrator`); ``--wait`` then follows the record until the run ends (stopping
    the command stops nothing).  ``--attached`` submits the steps in phases from this
    process, follows them and keeps the record: what the orchestrator job itself runs.
    """
    from . import orchestrator
    from .records import RecordStore
    from .submit import DirLists, list_source, phases

    runner: BatchRun | None = None
    try:
        if not config_file:
            raise ConfluenceError("--batch needs --config FILE (the deployment file, see docs/aws.md)")
        if config_file.startswith("s3://"):  # the orchestrator's job: the run's copy of the deployment file
            import tempfile

            config_file = str(orchestrator.download_config(config_file, Path(tempfile.mkdtemp(prefix="confluence-"))))
        config = load_config(config_file)
        secret = [k for k in env if any(w in k.upper() for w in SECRET_WORDS)]
        if secret:
            raise ConfluenceError(f"--env {secret[0]} looks like a secret: keep secrets in SSM Parameter Store")
        if lists and not attached:
            raise ConfluenceError("--lists goes with --attached: the orchestrator job reads the lists in the "
                                  f"input volume it mounts ({orchestrator.LISTS_PATH})")
        aws = Aws(config)
        if dry_run:
            from .renewal import plan

            where = ("this process (--attached)" if attached else
                     f"the orchestrator job ({orchestrator.IMAGE} image, queue {config.job_queue})")
            click.echo(f"orchestration: {where}")
            click.echo(plan(config, [s for s in steps if s.ready]))  # before phase 1 (renewal.prepare)
            for n, phase in enumerate(phases([s for s in steps if s.ready]), 1):
                click.echo(f"phase {n}: " + ", ".join(f"{s.name} ({s.fanout}{', ' + s.list if s.list else ''})"
                                                       for s in phase))
            return
        store = RecordStore(Path(records) if records else None, aws)
        previous = store.load(resume) if resume else None
        if not attached:
            runner = BatchRun(flow, aws, store, DirLists(Path(orchestrator.LISTS_PATH)), echo=_err, env=env)
            ready = [s for s in steps if s.ready]
            runner.check([*ready, orchestrator.step()])
            run_id = orchestrator.launch(runner, ready, resume=previous, echo=_err)
            _err(f"follow it: confluence status {run_id} --config {config_file}   (closing this terminal "
                 "stops nothing)")
            click.echo(run_id)
            if wait:
                sys.exit(follow(store, aws, run_id))
            return
        runner = BatchRun(flow, aws, store, list_source(lists, aws), echo=_err, env=env)
        if previous is not None:
            orchestrator.attach(previous)
        try:
            runner.run(steps, resume=previous)
        except BaseException:
            if runner.record:
                orchestrator.finish(runner.record, store, "FAILED")
            raise
        orchestrator.finish(runner.record, store, "SUCCEEDED")
    except StepFailedError as exc:
        _err(f"error: {exc}")
        run_id = runner.run_id if runner is not None else "RUN"
        # in the orchestrator's job config_file is its scratch copy: name the operator's file of the record
        where = str((runner.record.get("config") if runner is not None else None) or config_file)
        _err(f"later steps were not started; fix the cause and continue with: confluence run --batch "
             f"--config {where} --resume {run_id}")
        sys.exit(1)
    except ConfluenceError as exc:
        _fail(exc)
    assert runner is not None
    _err(f"run {runner.run_id}: succeeded (confluence status {runner.run_id})")


def follow(store: Any, aws: Aws, run_id: str, sleep: Any = None) -> int:
    """``run --batch --wait``: print the run's step states as the orchestrator saves them; 0 when it succeeds.

    Reads only the record on S3 (and the orchestrator job's state): stopping this loop stops nothing.
    """
    import time

    from . import orchestrator

    pause = sleep or time.sleep
    last = ""
    while True:
        record = store.load(run_id)
        line = ", ".join(f"{name} {entry.get('state', '?').lower()}" for name, entry in record["steps"].items())
        line = f"{record.get('state', '?')}: {line or 'no step submitted yet'}"
        if line != last:
            _err(f"run {run_id}: {line}")
            last = line
        if record.get("state") in ("SUCCEEDED", "FAILED"):
            if record.get("reason"):
                _err(f"run {run_id}: {record['reason']}")
            return 0 if record["state"] == "SUCCEEDED" else 1
        why = orchestrator.stranded(aws, record)
        if why:
            _err(f"run {run_id}: stopped: {why}; continue it with confluence run --batch --config "
                 f"{aws.config.path} --resume {run_id}")
            return 1
        pause(aws.config.poll_seconds)


def _store_and_aws(config_file: str | None, records: str | None,
                   run_id: str) -> tuple[Any, Aws | None, dict[str, Any]]:
    from .records import RecordStore

    aws = Aws(load_config(config_file)) if config_file else None
    store = RecordStore(Path(records) if records else None, aws)
    record = store.load(run_id)
    if aws is None and record.get("config") and Path(record["config"]).is_file():
        aws = Aws(load_config(record["config"]))
        store = RecordStore(Path(records) if records else None, aws)
        record = store.load(run_id)  # the orchestrator job updates the copy on S3, not this machine's
    return store, aws, record


@click.command()
@click.argument("run_id")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help=_config_help + " Default: the one the run was started with.")
@click.option("--records", type=click.Path(file_okay=False), help="Folder of run records (~/.confluence/runs).")
def status(run_id: str, config_file: str | None, records: str | None) -> None:
    """Progress of a Batch run per step: succeeded / failed / running children, and its orchestrator job."""
    from . import orchestrator
    from .submit import ListSource

    stranded = ""
    try:
        store, aws, record = _store_and_aws(config_file, records, run_id)
        if aws is not None:
            stranded = orchestrator.stranded(aws, record)
        if aws is not None and record.get("state") == "RUNNING":
            follower = BatchRun(wf.load(), aws, store, ListSource(), record=record)
            for entry in record["steps"].values():
                if entry.get("jobs") and entry.get("state") in ("SUBMITTED", "RUNNING"):
                    entry["counts"] = follower.counts(entry)
    except ConfluenceError as exc:
        _fail(exc)
    click.echo(f"run {record['run_id']}: {record.get('state', '?')} (queue {record.get('queue', '?')}, "
               f"started {record.get('created', '?')}, updated {record.get('updated', '?')})")
    boss = record.get(orchestrator.NAME)
    if boss and boss.get("jobs"):
        click.echo(f"orchestrator: job {boss['jobs'][-1]['job_id']} {boss.get('state', '?')} "
                   f"(confluence logs {record['run_id']} {orchestrator.NAME})")
    if stranded:
        click.echo(f"    stopped: {stranded}; continue it with: confluence run --batch --config "
                   f"{record.get('config', 'FILE')} --resume {record['run_id']}")
    if record.get("reason"):
        click.echo(f"    {record['reason']}")
    click.echo(f"{'step':<22} {'state':<10} {'children':>8} {'succeeded':>9} {'failed':>6} {'running':>7} "
               f"{'waiting':>7}")
    for name, entry in record["steps"].items():
        counts = entry.get("counts", {})
        waiting = sum(v for k, v in counts.items() if k not in ("SUCCEEDED", "FAILED", "RUNNING"))
        click.echo(f"{name:<22} {entry.get('state', '?'):<10} {entry.get('size', 0):>8} "
                   f"{counts.get('SUCCEEDED', 0):>9} {counts.get('FAILED', 0):>6} {counts.get('RUNNING', 0):>7} "
                   f"{waiting:>7}")
        for failed in entry.get("failed", [])[:5]:
            click.echo(f"    index {failed['index']}: job {failed['job_id']}: {failed.get('reason', '?')} "
                       f"[log stream {failed.get('log_stream') or '-'}]")
        if entry.get("reason") and not entry.get("failed"):
            click.echo(f"    {entry['reason']}")


@click.command()
@click.argument("run_id")
@click.argument("step")
@click.argument("index", required=False, type=click.IntRange(0))
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help=_config_help + " Default: the one the run was started with.")
@click.option("--records", type=click.Path(file_okay=False), help="Folder of run records (~/.confluence/runs).")
def logs(run_id: str, step: str, index: int | None, config_file: str | None, records: str | None) -> None:
    """Print the CloudWatch log of one child of a step (default: its first failed child, else index 0).

    STEP ``orchestrator``: the log of the job that runs the run in AWS (its latest attempt).
    """
    from . import orchestrator
    from .logs import events, log_stream
    from .submit import ListSource

    try:
        store, aws, record = _store_and_aws(config_file, records, run_id)
        if aws is None:
            raise ConfluenceError("give --config FILE: the run's configuration file is not found")
        entry = record.get(step) if step == orchestrator.NAME else record["steps"].get(step)
        if not entry or not entry.get("jobs"):
            raise ConfluenceError(f"run {run_id} has no jobs for step {step!r} (steps: {', '.join(record['steps'])})")
        if step == orchestrator.NAME:  # INDEX: which submission (resumes submit another), default the latest
            jobs = entry["jobs"]
            index = len(jobs) - 1 if index is None else index
            if index >= len(jobs):
                raise ConfluenceError(f"run {run_id} had {len(jobs)} orchestrator job(s): no index {index}")
            job_id = jobs[index]["job_id"]
        else:
            if index is None:
                index = entry["failed"][0]["index"] if entry.get("failed") else 0
            job_id = _child_id(entry, index, step)
        described = BatchRun(wf.load(), aws, store, ListSource(), record=record).describe([job_id])
        if job_id not in described:
            raise ConfluenceError(f"Batch no longer knows job {job_id} (step {step}, index {index})")
        stream = log_stream(described[job_id])
        if not stream:
            raise ConfluenceError(f"job {job_id} (step {step}, index {index}) has no log stream yet "
                                  f"(state {described[job_id].get('status')})")
        click.echo(f"# {aws.config.log_group} {stream}", err=True)
        for message in events(aws, stream):
            click.echo(message)
    except ConfluenceError as exc:
        _fail(exc)


def _child_id(entry: dict[str, Any], index: int, step: str) -> str:
    for job in entry["jobs"]:
        if job["offset"] <= index < job["offset"] + job["size"]:
            return f"{job['job_id']}:{index - job['offset']}" if job["array"] else job["job_id"]
    raise ConfluenceError(f"step {step} has {entry.get('size', 0)} children: no index {index}")


# -- renew --------------------------------------------------------------------------------------------

def _schedule() -> Any:
    try:
        from confluence_renew import schedule
    except ImportError:
        raise ConfluenceError("`confluence renew` needs the package confluence-renew: pip install -e renew "
                              "(or make install)") from None
    return schedule


@click.group()
def renew() -> None:
    """The credential-renewal schedule (EventBridge rule -> renew Lambda): enable, disable, status."""


def _renew_options(func: Any) -> Any:
    func = click.option("--region", default=None, help="AWS region (default: the SDK's).")(func)
    return click.option("--rule", envvar="CONFLUENCE_RENEW_RULE", default="confluence-renew", show_default=True,
                        help="EventBridge rule name [env CONFLUENCE_RENEW_RULE].")(func)


def _show(result: dict[str, Any]) -> None:
    targets = ", ".join(result["targets"]) or "no target"
    click.echo(f"{result['rule']}: {result['state']} {result['schedule']} -> {targets}")


@renew.command("enable")
@_renew_options
@click.option("--lambda-arn", envvar="CONFLUENCE_RENEW_LAMBDA_ARN", default=None,
              help="The renew Lambda's ARN: creates/updates the rule [env CONFLUENCE_RENEW_LAMBDA_ARN].")
def renew_enable(rule: str, region: str | None, lambda_arn: str | None) -> None:
    """Enable the schedule (create the rule when --lambda-arn is given)."""
    try:
        schedule = _schedule()
        _show(schedule.enable(schedule.events_client(region), rule, lambda_arn))
    except ConfluenceError as exc:
        _fail(exc)


@renew.command("disable")
@_renew_options
def renew_disable(rule: str, region: str | None) -> None:
    """Disable the schedule (the workflow's disable_renew step does this on Batch after input)."""
    try:
        schedule = _schedule()
        _show(schedule.disable(schedule.events_client(region), rule))
    except ConfluenceError as exc:
        _fail(exc)


@renew.command("status")
@_renew_options
def renew_status(rule: str, region: str | None) -> None:
    """Show the rule's state, schedule and target."""
    try:
        schedule = _schedule()
        _show(schedule.status(schedule.events_client(region), rule))
    except ConfluenceError as exc:
        _fail(exc)


COMMANDS = {"deploy": deploy, "status": status, "logs": logs, "renew": renew}
