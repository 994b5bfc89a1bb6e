"""``confluence``: list the workflow, run it locally, make the demo world."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from confluence_core import branch as run_branch
from confluence_core import workflow as wf
from confluence_core.errors import ConfluenceError

from . import __version__
from .data import HYDROCRON, prepare_data, run_environment
from .runner import (
    LocalRunner,
    RunFolder,
    RunIncompleteError,
    RunInterruptedError,
    StepFailedError,
    describe,
    image_tag,
    load_record,
    needed_images,
)

#: Set to 1 to see the traceback of an error instead of its one line.
DEBUG_ENV = "CONFLUENCE_DEBUG"

_HINTS = {
    errno.ENOSPC: "free some space on that disk, or choose a --workdir on another disk",
    errno.EDQUOT: "free some space (disk quota exceeded), or choose a --workdir on another disk",
    errno.EACCES: "check the permissions of that path (ls -ld), or choose another --workdir",
    errno.EPERM: "check the permissions of that path (ls -ld), or choose another --workdir",
    errno.EROFS: "that file system is read-only: choose a --workdir on a writable disk",
    errno.ENOTDIR: "a part of that path is a file, not a folder: choose another path",
    errno.EISDIR: "that path is a folder where a file was expected: choose another path",
    errno.ENOENT: "check the path exists",
    errno.EEXIST: "that path exists already: remove it or choose another",
    errno.ENAMETOOLONG: "use a shorter path",
    errno.EMFILE: "too many open files: lower --jobs or raise `ulimit -n`",
}


def _debug() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def os_error_line(exc: OSError) -> str:
    """One line for an OS error: the file, the reason and what to do."""
    where = exc.filename if exc.filename is not None else ""
    if exc.filename2 is not None:
        where = f"{where} -> {exc.filename2}"
    reason = exc.strerror or str(exc) or type(exc).__name__
    hint = _HINTS.get(exc.errno or -1, f"see the reason above; {DEBUG_ENV}=1 shows the traceback")
    return f"error: {where + ': ' if where else ''}{reason}: {hint}"


def _fail(exc: ConfluenceError | OSError) -> None:
    if _debug():
        raise exc
    click.echo(os_error_line(exc) if isinstance(exc, OSError) else f"error: {exc}", err=True)
    sys.exit(1)


class _Group(click.Group):
    """Every command: a ConfluenceError or an OS error is one line on stderr and exit 1, no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # `confluence steps | head`: the reader has gone, nothing to say
            with contextlib.suppress(OSError):
                sys.stderr.close()
            os._exit(0)
        except (ConfluenceError, OSError) as exc:
            _fail(exc)


def _load(workflow_file: str | None) -> wf.Workflow:
    """The workflow table, or exit with its one-line error."""
    try:
        return wf.load(workflow_file)
    except ConfluenceError as exc:
        _fail(exc)
        raise  # unreachable: _fail exits


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="confluence")
def main() -> None:
    """Confluence: SWOT river discharge, from RiverSP granules to gauge validation."""


@main.command()
@click.option("--workflow", "workflow_file", type=click.Path(dir_okay=False), help="Another workflow table.")
def steps(workflow_file: str | None) -> None:
    """List the workflow's steps in run order."""
    flow = _load(workflow_file)
    click.echo(f"{'#':>2} {'step':<22} {'fan-out':<9} {'list':<16} {'image':<30} {'reads -> writes':<40} status")
    for s in flow.steps:
        io = f"{','.join(s.reads) or '-'} -> {','.join(s.writes) or '-'}"
        status = s.status if s.local == "run" else f"{s.status}, no-op locally"
        click.echo(
            f"{s.stage:>2} {s.name:<22} {s.fanout:<9} {s.list or '-':<16} {image_tag(s.image):<30} {io:<40} {status}"
        )


@main.command()
@click.option("--workflow", "workflow_file", type=click.Path(dir_okay=False), help="Another workflow table.")
def images(workflow_file: str | None) -> None:
    """Print `image<TAB>path<TAB>command` for every image of the workflow (used by `make build`).

    The command (a JSON list) is that of the image's first row: the image's default command.  The
    last line is the AWS orchestrator's image (this package, `confluence run --batch` in AWS).
    """
    from .aws import orchestrator

    first: dict[str, wf.Step] = {}
    for s in [*_load(workflow_file).steps, orchestrator.step()]:
        if first.setdefault(s.image, s).path != s.path:
            _fail(ConfluenceError(f"image {s.image!r} has two paths: {first[s.image].path} and {s.path}"))
    for image, s in first.items():
        click.echo(f"{image}\t{s.path}\t{json.dumps(list(s.command))}")


def _reaches(values: tuple[str, ...]) -> set[str] | None:
    if not values:
        return None
    out: set[str] = set()
    for value in values:
        path = Path(value)
        items = path.read_text().split() if path.is_file() else [value]
        out.update(i.strip() for item in items for i in item.replace(",", " ").split() if i.strip())
    return out


@main.command()
@click.option("--local", "mode", flag_value="local", default=True, help="Run on this machine (default).")
@click.option("--batch", "mode", flag_value="batch", help="Run on AWS Batch (needs --config; see docs/aws.md).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="--batch: the deployment file.")
@click.option("--resume", metavar="RUN", help="--batch: continue run RUN without redoing finished steps.")
@click.option("--lists", metavar="DIR|s3://...", help="--batch: where the fan-out lists are (the input volume).")
@click.option("--records", type=click.Path(file_okay=False), help="--batch: run records folder (~/.confluence/runs).")
@click.option("--attached", is_flag=True,
              help="--batch: orchestrate from this process (submit, follow, record) instead of the orchestrator "
                   "job in AWS; it must stay alive for the whole run (what the orchestrator job itself runs).")
@click.option("--wait", is_flag=True,
              help="--batch: after starting the run in AWS, follow its record until it ends (exit 1 if it fails); "
                   "stopping the command stops nothing.")
@click.option("--workdir", default="confluence-run", show_default=True, type=click.Path(file_okay=False),
              help="Run folder: one sub-folder per volume, logs/ and state/.")
@click.option("--engine", type=click.Choice(["auto", "docker", "process"]), default="auto", show_default=True,
              help="docker: the built images; process: the installed entry points; auto: docker if it answers.")
@click.option("--jobs", "-j", default=os.cpu_count() or 1, show_default="number of CPUs", type=click.IntRange(1),
              help="Parallel children.")
@click.option("--steps", "step_names", multiple=True, help="Only these steps (comma-separated or repeated).")
@click.option("--from", "start", help="Start at this step.")
@click.option("--until", help="Stop after this step.")
@click.option("--reaches", multiple=True, help="Only children covering these reach ids (ids, or a file of ids).")
@click.option("--force", is_flag=True, help="Redo children even when they are up to date.")
@click.option("--dry-run", is_flag=True, help="Print what would run, and why (what is out of date), and exit.")
@click.option("--keep-going/--no-keep-going", default=True, show_default=True,
              help="A failed reach, set or basin stops only what depends on it; the run goes on for the other "
                   "reaches and ends non-zero naming it (--no-keep-going: the first failed step stops the run).")
@click.option("--strict", is_flag=True,
              help="Any data a step left out (a granule, pass, CSV row or file, reach: see skipped.csv) "
                   "fails that step.")
@click.option("--source", type=click.Path(file_okay=False),
              help="Folder of RiverSP granule zips or of Hydrocron {reach_id}.csv answers, or 'hydrocron' "
                   "(the live API; needs --reach-ids) (default: the built-in demo world).")
@click.option("--sword", type=click.Path(exists=True), help="SWORD file or folder (default: found in --source).")
@click.option("--sos", help="SoS priors file or folder (default: found in --source), or 'podaac': the published SoS "
                           "(PO.DAAC, SWOT_L4_HR_DAWG_SOS_DISCHARGE_V3) of the run's continents, downloaded with your "
                           "Earthdata Login (EARTHDATA_USERNAME/PASSWORD, EARTHDATA_TOKEN or ~/.netrc) and cached in "
                           "$CONFLUENCE_CACHE/sos (default ~/.cache/confluence/sos).")
@click.option("--branch", type=click.Choice(run_branch.BRANCHES), default=run_branch.DEFAULT, show_default=True,
              help="unconstrained: model priors only; constrained: calibration gauges (CAL 1 of the SoS or of "
                   "--gauges) replace the model flow statistics of their reaches.  The constrained branch runs in "
                   "WORKDIR/constrained (a run folder of its own), so both branches live in one run folder.")
@click.option("--sos-branch", type=click.Choice(run_branch.BRANCHES), default=None,
              show_default="--branch", help="--sos podaac: the published SoS branch to download.")
@click.option("--previous", type=click.Path(exists=True, file_okay=False),
              help="An earlier run folder that postdiagnostics compares this run with.")
@click.option("--env", "env_pairs", multiple=True, metavar="KEY=VALUE", help="Extra environment for every job.")
@click.option("--workflow", "workflow_file", type=click.Path(dir_okay=False), help="Another workflow table.")
@click.option("--reach-ids", "reach_ids", multiple=True,
              help="Hydrocron: the reaches to fetch (ids, or a file of ids); with a folder, only these.")
@click.option("--gauges", type=click.Path(exists=True, dir_okay=False),
              help="Gauges: CSV site,reach_id,date,discharge_cms[,cal], or a USGS daily table "
                   "site_no,time_local,q_cms|discharge_cfs[,cal].  cal 1: a calibration gauge (a prior in the "
                   "constrained branch only, never validated against); cal 0: a validation gauge (never a prior). "
                   "No cal column: every gauge is CAL 0.")
@click.option("--gauge-reaches", multiple=True, metavar="SITE=REACH[,REACH]",
              help="Reaches of a gauge file without reach_id (default: every reach of the run).")
@click.option("--utc-offset", type=click.FloatRange(-14.0, 14.0), default=None,
              help="Gauge local time minus UTC, hours (Alaska: -9): gauge days are local days.")
@click.option("--prior-csv", type=click.Path(exists=True, dir_okay=False),
              help="Mean-flow priors you trust, CSV reach_id,mean_q[,sd_ln] (m3/s; sd of ln Q): written into "
                   "the SoS for those reaches by the priors step.")
def run(mode: str, workdir: str, engine: str, jobs: int, step_names: tuple[str, ...], start: str | None,
        until: str | None, reaches: tuple[str, ...], force: bool, dry_run: bool, source: str | None,
        sword: str | None, sos: str | None, previous: str | None, env_pairs: tuple[str, ...],
        workflow_file: str | None, config_file: str | None = None, resume: str | None = None,
        lists: str | None = None, records: str | None = None, reach_ids: tuple[str, ...] = (),
        gauges: str | None = None, gauge_reaches: tuple[str, ...] = (), utc_offset: float | None = None,
        prior_csv: str | None = None, sos_branch: str | None = None, keep_going: bool = True,
        strict: bool = False, branch: str = run_branch.DEFAULT, attached: bool = False,
        wait: bool = False) -> None:
    """Run the workflow (with no data given, on the built-in demo world)."""
    from .engines import select_engine

    folder: RunFolder | None = None
    created = started = False
    try:
        flow = wf.load(workflow_file)
        chosen = flow.select(step_names or None, start, until)
        env = dict(_pair(p) for p in env_pairs)
        if run_branch.BRANCH_ENV in env:
            raise ConfluenceError(f"--env {run_branch.BRANCH_ENV}: choose the branch with --branch")
        env[run_branch.BRANCH_ENV] = branch
        if mode == "batch":
            from .aws.commands import run_batch

            return run_batch(flow, chosen, config_file=config_file, resume=resume, lists=lists, records=records,
                             dry_run=dry_run, env=env, attached=attached, wait=wait)
        folder = RunFolder(run_branch.run_folder(Path(workdir), branch))
        wanted = _reaches(reaches)
        if dry_run:
            last_env = load_record(folder).get("env") if folder.root.is_dir() else None
            known = {str(k): str(v) for k, v in last_env.items()} if isinstance(last_env, dict) else {}
            for line in describe(flow, chosen, folder, wanted, env={**known, **env}, force=force):
                click.echo(line)
            return
        if source and source.lower() != HYDROCRON and not Path(source).is_dir():
            raise ConfluenceError("--source: not a folder (nor 'hydrocron')", source)
        created = not folder.root.exists()
        folder.create()
        took_over = folder.lock.acquire()
        if took_over:
            click.echo(f"note: {took_over}", err=True)
        check_branch(folder, branch)
        note = prepare_data(folder, source, sword, sos, needs_data=workflow_file is None,
                            reach_ids=_reaches(reach_ids), sos_branch=sos_branch or branch,
                            demo_dir=Path(workdir).absolute() / "demo")
        data_env, gauge_note = run_environment(folder, source, _reaches(reach_ids), gauges, gauge_reaches,
                                               utc_offset, prior_csv, branch=branch)
        env = {**data_env, **env}
        note = "; ".join(n for n in (note, gauge_note) if n)
        if previous:
            folder.link_source(Path(previous), "previous")
        if note:
            click.echo(note, err=True)
        chosen_engine = select_engine(engine, images=needed_images(chosen))
        runner = LocalRunner(flow, folder, chosen_engine, jobs=jobs, force=force,
                             reaches=wanted, env=env, echo=lambda m: click.echo(m, err=True),
                             keep_going=keep_going, strict=strict)
        started = True
        runner.run(chosen)
    except StepFailedError as exc:
        click.echo(f"error: {exc}", err=True)
        click.echo("later steps were not started; fix the cause and rerun (finished children are kept)", err=True)
        sys.exit(1)
    except RunIncompleteError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except RunInterruptedError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(128 + exc.signum)
    except KeyboardInterrupt:  # before the steps started: nothing is running yet
        click.echo("error: interrupted before any step started; rerun the same command", err=True)
        sys.exit(130)
    except (ConfluenceError, OSError) as exc:
        _fail(exc)
    finally:
        if folder is not None:
            if created and not started:
                with contextlib.suppress(OSError):  # stopped at its argument checks: no empty folder left
                    folder.remove_if_empty()
            folder.lock.release()
    assert folder is not None
    click.echo(f"run folder: {folder.root} (branch {branch})", err=True)


def check_branch(folder: RunFolder, branch: str) -> None:
    """A run folder holds one branch: its ``run.json`` (a record without one is unconstrained) must agree."""
    record = load_record(folder)
    recorded = record.get("branch")
    if recorded is None and "runs" in record:  # recorded by a driver from before branches: unconstrained
        recorded = run_branch.DEFAULT
    if recorded is not None and recorded != branch:
        raise ConfluenceError(f"this run folder holds the {recorded} branch (run.json); the {branch} branch of a "
                              f"run lives in {run_branch.run_folder(Path('WORKDIR'), branch)}: give the run's "
                              "--workdir, not this sub-folder", folder.root)


def _pair(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise ConfluenceError(f"--env {text!r} is not KEY=VALUE")
    key, value = text.split("=", 1)
    return key, value


def _optional_commands() -> None:
    """Commands from packages that may not be installed (the demo world, the Pepsi benchmark)."""
    try:
        from confluence_demo.cli import demo
    except ImportError:
        pass
    else:
        main.add_command(demo, "demo")
    try:
        from confluence_flpe.bench import bench_accuracy
    except ImportError:
        pass
    else:
        main.add_command(bench_accuracy, "bench-accuracy")


_optional_commands()


def _aws_commands() -> None:
    """``deploy``, ``status``, ``logs``, ``renew`` (confluence_driver.aws; boto3 is imported when they run)."""
    from .aws.commands import COMMANDS

    for name, command in COMMANDS.items():
        main.add_command(command, name)


_aws_commands()
