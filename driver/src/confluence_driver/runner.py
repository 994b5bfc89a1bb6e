"""Run workflow steps locally: fan-out, parallel children, resume, logs, failure reports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import re
import shutil
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from confluence_core import branch as run_branch
from confluence_core import flpe as flpe_contract
from confluence_core import leftout
from confluence_core.atomic import atomic_path, is_partial, write_text
from confluence_core.entries import ENTRIES_ENV, job_count
from confluence_core.entries import pack as pack_indices
from confluence_core.entries import parse as parse_entries
from confluence_core.errors import ConfluenceError
from confluence_core.ids import CONTINENTS
from confluence_core.index import ARRAY_INDEX_ENV, SELECTED_REACHES_ENV
from confluence_core.jsonio import read_json, sum_counts, write_json
from confluence_core.skips import KINDS, Skip, parse
from confluence_core.sword import DEFAULT_VERSION
from confluence_core.volumes import VOLUMES
from confluence_core.workflow import SWORD_VERSION_ENV, TABLE_ENV, Step, Workflow

from . import __version__
from .engines import Engine, JobResult, JobSpec
from .fanout import Child, children, expected_outputs
from .lock import RunLock
from .progress import StepProgress
from .provenance import Ledger

_PLACEHOLDER_RE = re.compile(r"\{[a-z_]+\}")

IMAGE_PREFIX = "confluence"
#: Volumes that are links to folders given by the user, not folders of the run.
LINKED_VOLUMES = ("source", "previous")
#: Fan-outs whose empty list (or empty ``--reaches`` selection) means a run with nothing in it.
EMPTY_IS_AN_ERROR = ("reach", "basin")
#: Fan-outs whose child is not run when one of its reaches failed upstream (``--keep-going``); the
#: others (per basin, continent, once) gather many reaches and go on with the reaches that are there.
BLOCKED_BY_A_FAILED_REACH = ("reach", "reachset")
#: Every skip a run's children reported, one row each (in the run folder).
SKIPPED_CSV = "skipped.csv"
SKIPPED_COLUMNS = ("step", "index", "key", "kind", "item", "reason", "count", "run_id")


def image_tag(image: str, version: str = __version__) -> str:
    """Full tag of a workflow image, e.g. ``confluence/input:0.1.0``."""
    return f"{IMAGE_PREFIX}/{image}:{version}"


@dataclass
class RunFolder:
    """A run folder: one sub-folder per volume, plus ``logs/``, ``state/`` and ``run.json``."""

    root: Path

    def __post_init__(self) -> None:
        self.root = Path(self.root).absolute()
        self.lock = RunLock(self.root)

    def remove_if_empty(self) -> bool:
        """Remove the folder when it holds no file but its lock (a run that stopped before starting)."""
        if not self.root.is_dir() or self.root.is_symlink():
            return False
        for path in self.root.rglob("*"):
            if path.is_symlink() or (path.is_file() and path != self.lock.path):
                return False
        self.lock.release()
        shutil.rmtree(self.root)
        return True

    def sweep_partials(self) -> list[Path]:
        """Remove the temporary files (``.*.part``) an earlier, killed run left in any volume, in
        ``state/`` (markers) and ``logs/``, and beside ``run.json``."""
        removed = []
        folders = [self.volume(n) for n in VOLUMES if n not in LINKED_VOLUMES]
        for vol in [*folders, self.root / "state", self.root / "logs"]:
            if not vol.is_dir() or vol.is_symlink():
                continue
            for path in vol.rglob(".*.part"):
                if is_partial(path) and path.is_file():
                    path.unlink(missing_ok=True)
                    removed.append(path)
        for path in self.root.glob(".*.part"):
            if is_partial(path) and path.is_file():
                path.unlink(missing_ok=True)
                removed.append(path)
        return removed

    def volume(self, name: str) -> Path:
        return self.root / name

    def create(self) -> None:
        for name in VOLUMES:
            if name not in LINKED_VOLUMES:
                self.volume(name).mkdir(parents=True, exist_ok=True)
        (self.root / "logs").mkdir(exist_ok=True)
        (self.root / "state").mkdir(exist_ok=True)

    def log_path(self, step: str, index: int) -> Path:
        return self.root / "logs" / step / f"{index}.log"

    def marker(self, step: str, index: int) -> Path:
        return self.root / "state" / step / f"{index}.json"

    def link_source(self, source: Path, volume: str = "source") -> None:
        """Make the read-only volume ``volume`` (source granules, a previous run) point at ``source``."""
        link = self.volume(volume)
        source = source.absolute()
        if link.is_symlink() or link.exists():
            if link.resolve() == source.resolve():
                return
            if not link.is_symlink():
                raise ConfluenceError("exists and is not a link to a source folder", link)
            link.unlink()
        link.symlink_to(source, target_is_directory=True)

    def write_continents(self) -> None:
        path = self.volume("input") / "continent.json"
        if not path.exists():
            write_json(path, CONTINENTS)

    def stage(self, files: Sequence[Path], kind: str) -> list[Path]:
        """Copy SWORD (``kind='sword'``) or SoS (``'sos'``) files into input/<kind>/ unless present."""
        dest_dir = self.volume("input") / kind
        dest_dir.mkdir(parents=True, exist_ok=True)
        staged = []
        for f in files:
            dest = dest_dir / f.name
            if not dest.exists():
                with atomic_path(dest) as tmp:  # fsynced and renamed: never half a file
                    shutil.copyfile(f, tmp)
            staged.append(dest)
        return staged


@dataclass
class StepReport:
    """How a step went."""

    step: Step
    total: int = 0
    skipped: int = 0
    results: list[JobResult] = field(default_factory=list)
    note: str = ""
    wall_s: float = 0.0
    reaches: dict[str, Any] | None = None  # FLPE steps: valid / flagged / missing reaches, with reasons
    summary: dict[str, Any] | None = None  # rows with a summary: the children's counts, summed
    blocked: int = 0  # --keep-going: children not run because one of their reaches failed upstream
    left_out: dict[str, int] = field(default_factory=dict)  # data the children left out: kind -> count

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if not r.ok]


class StepFailedError(ConfluenceError):
    """A step had failed children; later steps were not started."""


class RunIncompleteError(ConfluenceError):
    """``--keep-going``: the run went on past failed children and ended; it names them."""


class RunInterruptedError(ConfluenceError):
    """The driver got SIGTERM or SIGINT: its children were stopped and the run recorded as interrupted."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}: running children were stopped; "
                         "rerun the same command to resume (finished children are kept)")


def needed_images(steps: Sequence[Step], version: str = __version__) -> dict[str, tuple[str, ...]]:
    """Image tag -> command of every step that runs locally."""
    return {image_tag(s.image, version): s.command for s in steps if s.ready and s.local == "run"}


@dataclass
class LocalRunner:
    """Runs selected steps of a workflow in a run folder with one engine."""

    workflow: Workflow
    folder: RunFolder
    engine: Engine
    jobs: int = 1
    force: bool = False
    reaches: Collection[str] | None = None
    env: dict[str, str] = field(default_factory=dict)
    version: str = __version__
    echo: Callable[[str], None] = print
    run_id: str = ""
    interrupted: int = 0  # the signal that stopped the run, 0 while it runs
    started: str = ""
    keep_going: bool = False  # a failed child stops only what depends on it (its reaches), not the run
    strict: bool = False  # any data a child left out (a skip) fails its step

    def __post_init__(self) -> None:
        self.run_id = self.run_id or dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
        self.started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self._running: dict[int, tuple[str, float]] = {}
        self._running_lock = threading.Lock()
        version = self.env.get(SWORD_VERSION_ENV) or os.environ.get(SWORD_VERSION_ENV) or str(DEFAULT_VERSION)
        self.branch = run_branch.check(self.env.get(run_branch.BRANCH_ENV) or run_branch.DEFAULT)
        self.ledger = Ledger(self.workflow, self.folder.root, self.version, version, self.branch)
        self._skips: dict[tuple[str, int], list[Skip]] = {}
        self._failures: list[tuple[str, JobResult]] = []  # --keep-going: (step, result) of every failed child
        self.left_out: dict[int, dict[str, str]] = {}  # reach id -> {"step", "reason"} (input/left_out.json)

    # -- planning ---------------------------------------------------------------------------
    def runnable(self, steps: Sequence[Step]) -> list[Step]:
        return [s for s in steps if s.ready and s.local == "run"]

    def check(self, steps: Sequence[Step]) -> None:
        self.engine.check(needed_images(steps, self.version))

    def plan(self, step: Step) -> list[Child]:
        return children(step, self.folder.volume("input"), self.reaches)

    # -- running ----------------------------------------------------------------------------
    def run(self, steps: Sequence[Step]) -> list[StepReport]:
        """Run ``steps`` in order; SIGTERM/SIGINT stop the children and raise :class:`RunInterruptedError`."""
        self.check(steps)
        for line in self.engine.reap(self.folder.root, self.run_id):
            self.echo(f"stopped a child of an earlier, killed run: {line}")
        swept = self.folder.sweep_partials()
        if swept:
            self.echo(f"removed {len(swept)} temporary file(s) left by an earlier run, e.g. {swept[0]}")
        self._load_left_out()
        reports: list[StepReport] = []
        previous = self._install_signals()
        status = "failed"
        try:
            self._record(reports, "running")
            self._run(steps, reports)
            if any(r.results for r in reports):
                self.check_reaches_left()
            if self._failures:
                status = "incomplete"
                raise RunIncompleteError(self.incomplete_message())
            status = "finished"
        except RunInterruptedError:
            status = "interrupted"
            raise
        finally:
            self._restore_signals(previous)
            if self.interrupted:
                status = "interrupted"
            self._record(reports, status)
        return reports

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self.interrupted:
            return
        self.interrupted = signum
        self.echo(f"{signal.Signals(signum).name}: stopping the running children ...")
        threading.Thread(target=self.engine.stop, daemon=True).start()

    def _install_signals(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}

    @staticmethod
    def _restore_signals(previous: dict[int, Any]) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def _run(self, steps: Sequence[Step], reports: list[StepReport]) -> None:
        for n, step in enumerate(steps, 1):
            label = f"[{n}/{len(steps)}] {step.name}"
            if not step.ready:
                self.echo(f"{label}: planned, not built yet: skipped")
                reports.append(StepReport(step, note="planned"))
                continue
            if step.local == "noop":
                self.echo(f"{label}: nothing to do locally ({step.command[0]} acts on AWS only)")
                reports.append(StepReport(step, note="noop"))
                continue
            report = self.run_step(step, label)
            if step.flpe is not None and not report.failed:
                report.reaches = self._flpe_summary(step)
            if step.summary is not None:
                report.summary = self._child_summaries(step)
            reports.append(report)
            self._note_left_out(step, report)
            self._record(reports, "running")
            if self.interrupted:
                raise RunInterruptedError(self.interrupted)
            if report.failed:
                whole = [r for r in report.failed if not self._child_of(r).reach_ids]
                if not self.keep_going or whole:
                    raise StepFailedError(self.failure_message(report))
                self.echo(f"{label}: {len(report.failed)} of {report.total} children failed (first: "
                          f"{self._why(report.failed[0])}); going on without their reaches (--keep-going)")
            if self.strict and report.left_out:
                raise StepFailedError(f"--strict: step {step.name} left data out ({_counts(report.left_out)}): "
                                      f"see {self.folder.root / SKIPPED_CSV}")

    def check_not_empty(self, step: Step, kids: Sequence[Child]) -> None:
        """Raise when a per-reach or per-basin step has nothing to work on.

        Its list is empty (the earlier steps kept no reach), or ``--reaches`` selects none of
        its entries.  Per-set lists may be empty in a good run (no set could be formed), and
        per-continent lists are fixed: those are not checked.
        """
        if kids or step.fanout not in EMPTY_IS_AN_ERROR:
            return
        path = self.folder.volume("input") / step.list
        every = children(step, self.folder.volume("input"))
        if not every:
            raise ConfluenceError(
                f"step {step.name}: no {step.fanout} to run, the list is empty (the earlier steps kept none: "
                "see their logs in logs/ and the source data)", path)
        wanted = ", ".join(sorted(self.reaches or ())[:10])
        raise ConfluenceError(
            f"--reaches selects none of the {len(every)} entries of this run ({wanted} not found): "
            "check the ids", path)

    def check_reaches_left(self) -> None:
        """Raise when the run ends with an empty reach list (e.g. ``--until input`` on corrupt granules)."""
        path = self.folder.volume("input") / "reaches.json"
        if path.exists() and read_json(path) == []:
            raise ConfluenceError("the run ends with zero reaches: the input step kept none "
                                  "(see logs/input/ and the source data)", path)

    def _running_now(self) -> list[tuple[str, float]]:
        now = time.monotonic()
        with self._running_lock:
            return [(key, now - t0) for key, t0 in self._running.values()]

    def run_step(self, step: Step, label: str) -> StepReport:
        kids = self.plan(step)
        self.check_not_empty(step, kids)
        report = StepReport(step, total=len(kids))
        blocked = self.blocked(step, kids)
        report.blocked = len(blocked)
        todo = [c for c in kids if c.index not in blocked and (self.force or not self.is_done(step, c))]
        report.skipped = len(kids) - len(todo) - len(blocked)
        if blocked:
            self.echo(f"{label}: {len(blocked)} children not run: one of their reaches failed upstream "
                      f"({next(iter(blocked.values()))})")
        self._kids = {c.index: c for c in kids}
        progress = StepProgress(label, len(kids), running=self._running_now)
        started = time.monotonic()
        progress.update(skipped=report.skipped)
        resource = self.workflow.resources[step.resources]
        workers = max(1, min(job_count(len(todo), step.group), self.jobs // max(1, resource.slots) or 1))

        jobs = pack(todo, step.group)

        def one(job: list[Child]) -> list[JobResult]:
            first = job[0]
            spec = self.spec(step, first, resource.timeout_s * len(job), job if step.group > 1 else None)
            if self.interrupted:
                return [JobResult(replace(spec, index=c.index), 130, 0.0, "interrupted before it started")
                        for c in job]
            inputs = {c.index: self.ledger.inputs(step, c, self.settings_env(step)) for c in job}
            previous = {c.index: self.ledger.marker(step, c) for c in job}
            for c in job:
                self.ledger.forget(step, c)
            started_ns = time.time_ns()
            key = first.key if len(job) == 1 else f"{first.key} +{len(job) - 1}"
            with self._running_lock:
                self._running[first.index] = (key, time.monotonic())
            try:
                result = self.engine.run(spec)
            finally:
                with self._running_lock:
                    self._running.pop(first.index, None)
            self._skips[(step.name, first.index)] = _log_skips(spec.log_path)
            results = self._entry_results(result, job)
            for child, res in zip(job, results, strict=True):
                if res.ok:
                    missing = [p for p in self.outputs(step, child) if not p.exists()]
                    if missing:
                        res.returncode = 1
                        res.reason = f"exited 0 but did not write {', '.join(map(str, missing[:3]))}"
                    else:
                        self.ledger.write_marker(step, child, inputs[child.index], {
                            "engine": self.engine.name, "run_id": self.run_id, "log": str(spec.log_path),
                            "seconds": round(res.seconds, 3), **_usage(res),
                        }, started_ns=started_ns, previous=previous[child.index])
                progress.update(done=int(res.ok), failed=int(not res.ok))
            return results

        try:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                report.results = [r for results in pool.map(one, jobs) for r in results]
        finally:
            report.wall_s = time.monotonic() - started
            progress.close()
        if report.failed or self.interrupted:
            self.sweep_partials(step)
        report.left_out = self._write_skipped(step, kids, report)
        if report.left_out:
            self.echo(f"{label}: left out {_counts(report.left_out)} (why: {self.folder.root / SKIPPED_CSV})")
        return report

    @staticmethod
    def _entry_results(result: JobResult, job: Sequence[Child]) -> list[JobResult]:
        """One result per entry of a job: a group's log says which entries were done or failed
        (:mod:`confluence_core.entries`); its time and CPU are shared out evenly."""
        if len(job) == 1 and result.spec.index == job[0].index:
            return [result]
        done, failed = entries_log(result.spec.log_path)
        n = len(job)
        extra = dict(result.extra)
        cpu = _finite(extra.pop("cpu_s", None))
        if cpu is not None:
            extra["cpu_s"] = f"{cpu / n:.3f}"
        out = []
        for c in job:
            spec = replace(result.spec, index=c.index)
            if c.index in failed:
                out.append(JobResult(spec, result.returncode or 1, result.seconds / n, failed[c.index], dict(extra)))
            elif c.index in done or result.ok:
                out.append(JobResult(spec, 0, result.seconds / n, "", dict(extra)))
            else:  # the job ended before this entry was done
                why = result.reason or f"exit {result.returncode}"
                out.append(JobResult(spec, result.returncode or 1, result.seconds / n,
                                     f"its job ({len(job)} entries) ended before it was done: {why}", dict(extra)))
        return out

    # -- keep going -------------------------------------------------------------------------
    def _child_of(self, result: JobResult) -> Child:
        return self._kids[result.spec.index]

    @staticmethod
    def _why(result: JobResult) -> str:
        return f"index {result.spec.index}: {result.reason or 'exit ' + str(result.returncode)}"

    def blocked(self, step: Step, kids: Sequence[Child]) -> dict[int, str]:
        """Children not to run because one of their reaches failed upstream: index -> why."""
        if step.fanout not in BLOCKED_BY_A_FAILED_REACH or not self.left_out:
            return {}
        out = {}
        earlier = {s.name for s in self.ledger.upstream_steps(step)}
        for c in kids:
            for r in c.reach_ids:
                rec = self.left_out.get(int(r)) if r.isdigit() else None
                if rec and rec["step"] in earlier:
                    out[c.index] = f"reach {r}: {rec['step']} failed"
                    break
        return out

    def _load_left_out(self) -> None:
        try:
            got = leftout.read(self.folder.volume("input"))
        except ConfluenceError as exc:
            self.echo(f"ignoring {exc}")
            got = {}
        for rid, text in got.items():
            step, _, reason = text.partition(": ")
            self.left_out[rid] = {"step": step, "reason": reason}

    def _note_left_out(self, step: Step, report: StepReport) -> None:
        """Update ``input/left_out.json``: reaches of failed children in, reaches this step redid out."""
        if not report.results:
            return
        before = dict(self.left_out)
        failed = {r.spec.index: r for r in report.failed}
        for result in report.results:
            child = self._child_of(result)
            for r in child.reach_ids:
                if not r.isdigit():
                    continue
                if result.spec.index in failed:
                    self.left_out[int(r)] = {"step": step.name, "reason": self._why(result)}
                elif self.left_out.get(int(r), {}).get("step") == step.name:
                    del self.left_out[int(r)]
        for result in report.failed:
            self._failures.append((step.name, result))
        if self.left_out == before:
            return
        path = leftout.path(self.folder.volume("input"))
        if self.left_out:
            leftout.write(self.folder.volume("input"),
                          [{"reach_id": r, **v} for r, v in self.left_out.items()])
        else:
            path.unlink(missing_ok=True)

    def incomplete_message(self) -> str:
        steps = Counter(name for name, _ in self._failures)
        name, first = self._failures[0]
        where = ", ".join(f"{s} ({n})" for s, n in steps.items())
        return (f"{len(self._failures)} children failed ({where}); first: step {name} {self._why(first)}; "
                f"log: {first.spec.log_path}. The run went on without them (--keep-going): "
                f"{len(self.left_out)} reaches are left out, listed with the reason in "
                f"{leftout.path(self.folder.volume('input'))}. Fix the cause and rerun the same command")

    # -- skips ------------------------------------------------------------------------------
    def _write_skipped(self, step: Step, kids: Sequence[Child], report: StepReport) -> dict[str, int]:
        """Rewrite ``skipped.csv``: this step's rows of the children that ran replaced by their new skips.

        Returns the step's counts (over all its rows now in the file): kind -> number left out.
        """
        path = self.folder.root / SKIPPED_CSV
        ran = {r.spec.index for r in report.results}
        keys = {c.index: c.key for c in kids}
        rows = [row for row in _read_skipped(path) if not (row["step"] == step.name and int(row["index"]) in ran)]
        for index in sorted(ran):
            for sk in self._skips.pop((step.name, index), []):
                rows.append({"step": step.name, "index": str(index), "key": keys.get(index, ""), "kind": sk.kind,
                             "item": sk.item, "reason": sk.reason, "count": str(sk.count), "run_id": self.run_id})
        if ran:
            if rows:
                buf = io.StringIO()
                writer = csv.DictWriter(buf, fieldnames=SKIPPED_COLUMNS, lineterminator="\n")
                writer.writeheader()
                writer.writerows(rows)
                write_text(path, buf.getvalue())
            else:
                path.unlink(missing_ok=True)
        counts: Counter[str] = Counter()
        for row in rows:
            if row["step"] == step.name:
                counts[row["kind"]] += int(row["count"] or 1)
        return {k: counts[k] for k in KINDS if counts[k]}

    def spec(self, step: Step, child: Child, timeout_s: float, job: Sequence[Child] | None = None) -> JobSpec:
        mounts = {v: (self.folder.volume(v), ro) for v, ro in step.volumes.items()}
        env = {
            ARRAY_INDEX_ENV: str(child.index),
            "CONFLUENCE_RUN_ID": self.run_id,
            "CONFLUENCE_ENGINE": self.engine.name,
            "MPLCONFIGDIR": "/tmp",
            **step.environment(),
            **self.env,
        }
        if self.reaches is not None:
            env[SELECTED_REACHES_ENV] = ",".join(sorted(self.reaches))
        if job is not None:  # a group: the entries it takes (confluence_core.entries)
            env[ENTRIES_ENV] = ",".join(str(c.index) for c in job)
        if not self.workflow.packaged:
            env[TABLE_ENV] = self.workflow.source
        return JobSpec(
            step=step.name, index=child.index, image=image_tag(step.image, self.version),
            command=step.command, env=env, mounts=mounts, run_dir=self.folder.root,
            log_path=self.folder.log_path(step.name, child.index), timeout_s=timeout_s,
        )

    # -- resume -----------------------------------------------------------------------------
    def marker_path(self, step: Step, child: Child) -> Path:
        return self.folder.marker(step.name, child.index)

    def outputs(self, step: Step, child: Child) -> list[Path]:
        """The child's required outputs (the step's declared patterns, expanded)."""
        version = self.env.get(SWORD_VERSION_ENV) or os.environ.get(SWORD_VERSION_ENV) or str(DEFAULT_VERSION)
        return expected_outputs(step, child, self.folder.root, version, branch=self.branch)

    def settings_env(self, step: Step) -> dict[str, str]:
        """The environment that decides what a child computes (its settings' fingerprint)."""
        return {**step.environment(), **self.env}

    def out_of_date(self, step: Step, child: Child) -> str | None:
        """Why the child must run (None when done and up to date: see :mod:`.provenance`)."""
        return self.ledger.out_of_date(step, child, self.settings_env(step))

    def is_done(self, step: Step, child: Child) -> bool:
        """A child is done when its marker names the same entry, its outputs are the files it
        recorded, and what it was made from (upstream files, settings, code) has not changed."""
        return self.out_of_date(step, child) is None

    # -- failures ---------------------------------------------------------------------------
    def sweep_partials(self, step: Step) -> None:
        """Remove temporary files a killed job may have left in the step's writable volumes."""
        for vol in step.writes:
            for path in self.folder.volume(vol).rglob(".*.part"):
                if is_partial(path):
                    path.unlink(missing_ok=True)

    @staticmethod
    def failure_message(report: StepReport) -> str:
        failed = report.failed
        first = failed[0]
        indices = ", ".join(str(r.spec.index) for r in failed[:20]) + (" ..." if len(failed) > 20 else "")
        return (
            f"step {report.step.name} failed: {len(failed)} of {report.total} children "
            f"(indices {indices}); index {first.spec.index}: {first.reason or 'exit ' + str(first.returncode)}"
            f"; log: {first.spec.log_path}"
        )

    def _record(self, reports: Sequence[StepReport], status: str) -> None:
        """Write ``run.json``: this run's attempt of each step is appended (or updated), never overwritten."""
        path = self.folder.root / "run.json"
        record = read_json(path) if path.exists() else {}
        record.update({"run_id": self.run_id, "engine": self.engine.name, "version": self.version,
                       "branch": self.branch, "status": status, "env": self.env})
        run = {"run_id": self.run_id, "started": self.started, "status": status, "engine": self.engine.name,
               "branch": self.branch}
        if status != "running":
            run["ended"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        if self.interrupted:
            run["signal"] = signal.Signals(self.interrupted).name
        _upsert(record.setdefault("runs", []), run)
        steps = record.setdefault("steps", {})
        for r in reports:
            if r.note:
                continue
            usages = [_usage(x) for x in r.results]
            peaks = [u["peak_mib"] for u in usages if "peak_mib" in u]
            cpus = [u["cpu_s"] for u in usages if "cpu_s" in u]
            attempt = {
                "run_id": self.run_id, "total": r.total, "skipped": r.skipped, "blocked": r.blocked,
                "ran": len(r.results),
                "succeeded": sum(x.ok for x in r.results), "failed": [x.spec.index for x in r.failed],
                "seconds": round(sum(x.seconds for x in r.results), 3), "wall_s": round(r.wall_s, 3),
                "cpu_s": round(sum(cpus), 3) if cpus else None, "peak_mib": max(peaks) if peaks else None,
            }
            entry = steps.setdefault(r.step.name, {})
            attempts = entry.get("attempts")
            if not isinstance(attempts, list):  # a record of an older driver: its figures are the first attempt
                attempts = [{k: v for k, v in entry.items() if k not in ("reaches", "summary", "children")}] \
                    if entry else []
            _upsert(attempts, attempt)
            kids = entry.get("children") if isinstance(entry.get("children"), dict) else {}
            for x in r.results:
                kids[str(x.spec.index)] = {"run_id": self.run_id, "returncode": x.returncode,
                                           "seconds": round(x.seconds, 3), **_usage(x)}
            ran = [a for a in attempts if a.get("ran")]
            entry.update({
                "total": r.total, "skipped": r.skipped, "succeeded": attempt["succeeded"],
                "failed": attempt["failed"], "run_id": self.run_id,
                # over every attempt that ran children: the step's whole cost, not the last resume's
                "seconds": round(sum(_finite(a.get("seconds")) or 0.0 for a in ran), 3),
                "wall_s": round(sum(_finite(a.get("wall_s")) or 0.0 for a in ran), 3),
                "cpu_s": _sum_or_none(_finite(a.get("cpu_s")) for a in ran),
                "peak_mib": max((p for a in ran if (p := _finite(a.get("peak_mib"))) is not None), default=None),
                "attempts": attempts, "children": kids, "blocked": r.blocked, "left_out": r.left_out,
            })
            if r.reaches is not None:
                entry["reaches"] = r.reaches
            if r.summary is not None:
                entry["summary"] = r.summary
        write_json(path, _strict(record), indent=1)

    def _child_summaries(self, step: Step) -> dict[str, Any] | None:
        """The row's per-child JSON counts (``summary``), summed over the files of this run's reaches."""
        assert step.summary is not None
        pattern = _PLACEHOLDER_RE.sub("*", step.summary.pattern)
        files = sorted(self.folder.volume(step.summary.volume).glob(pattern))
        if self.reaches is not None:
            files = [f for f in files if any(r in f.name for r in self.reaches)]
        try:
            total = sum_counts(read_json(f) for f in files)
        except ConfluenceError as exc:
            self.echo(f"{step.name}: no summary in run.json ({exc})")
            return None
        return {"files": len(files), **total}

    def _flpe_summary(self, step: Step) -> dict[str, Any] | None:
        """Valid / flagged (with reasons) / missing reaches of an FLPE step, from its output files."""
        lst = self.folder.volume("input") / "reaches.json"
        try:
            reach_ids = [int(e["reach_id"]) for e in read_json(lst)] if lst.exists() else []
            if self.reaches is not None:  # --reaches: only the reaches this run covers
                reach_ids = [r for r in reach_ids if str(r) in self.reaches]
            got = flpe_contract.summarise(flpe_contract.contract(step), self.folder.volume("flpe"), reach_ids)
        except (ConfluenceError, KeyError, TypeError, ValueError) as exc:
            self.echo(f"{step.name}: no reach summary in run.json ({exc})")
            return None
        if got["flagged"]:
            top = "; ".join(f"{n} x {why}" for why, n in list(got["reasons"].items())[:3])
            self.echo(f"{step.name}: {got['valid']} reaches with an estimate, {got['flagged']} flagged ({top})")
        return got


def _usage(result: JobResult) -> dict[str, float]:
    """The child's own peak memory (MiB) and CPU seconds, when its engine measured them.

    A figure that is missing, not a number or not finite is left out (the Docker engine measures
    none), so the record says ``null`` rather than a wrong or ``NaN`` figure.
    """
    out: dict[str, float] = {}
    for key in ("peak_mib", "cpu_s"):
        value = _finite(result.extra.get(key))
        if value is not None:
            out[key] = value
    return out


def _finite(value: Any) -> float | None:
    """``value`` (a figure's text or number, or anything else) as a finite float, else None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _sum_or_none(values: Iterable[float | None]) -> float | None:
    """The sum of the figures that were measured (rounded to ms), None when none was."""
    known = [v for v in values if v is not None]
    return round(sum(known), 3) if known else None


def _strict(value: Any) -> Any:
    """``value`` with every non-finite float (NaN, ±inf) replaced by None, so run.json is strict JSON
    (RFC 8259 has no NaN) even when an older record read back holds one."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    return value


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in counts.items())


def entries_log(log_path: Path) -> tuple[set[int], dict[int, str]]:
    """The entries a group job's log says were done, and those that failed (with the reason)."""
    try:
        with log_path.open(errors="replace") as fh:
            return parse_entries(fh)
    except OSError:
        return set(), {}


def pack(todo: Sequence[Child], group: int) -> list[list[Child]]:
    """The entries to do, in jobs of at most ``group`` (list order)."""
    by_index = {c.index: c for c in todo}
    return [[by_index[i] for i in job] for job in pack_indices([c.index for c in todo], group)]


def _log_skips(log_path: Path) -> list[Skip]:
    try:
        with log_path.open(errors="replace") as fh:
            return parse(fh)
    except OSError:
        return []


def _read_skipped(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="") as fh:
        return [row for row in csv.DictReader(fh) if row.get("step")]


def _upsert(items: list[Any], item: dict[str, Any]) -> None:
    """Replace the entry of ``item``'s run_id in ``items``, or append it."""
    for i, old in enumerate(items):
        if isinstance(old, dict) and old.get("run_id") == item["run_id"]:
            items[i] = item
            return
    items.append(item)


def describe(workflow: Workflow, steps: Sequence[Step], folder: RunFolder,
             reaches: Collection[str] | None = None, env: dict[str, str] | None = None,
             force: bool = False, version: str = __version__) -> list[str]:
    """Lines for ``--dry-run``: each step, its children, how many would run and why, its command.

    A child would run when it is out of date (see :mod:`.provenance`): never run, an output
    missing or changed, its settings or code changed, or an upstream child it reads ran since
    (or will run first in this run).
    """
    env = dict(env or {})
    sword = env.get(SWORD_VERSION_ENV) or os.environ.get(SWORD_VERSION_ENV) or str(DEFAULT_VERSION)
    ledger = Ledger(workflow, folder.root, version, sword, env.get(run_branch.BRANCH_ENV) or run_branch.DEFAULT)
    pending: dict[str, list[str]] = {}
    lines = []
    for step in steps:
        if not step.ready:
            lines.append(f"{step.stage:>2} {step.name:<22} planned (not built yet)")
            continue
        if step.local == "noop":
            lines.append(f"{step.stage:>2} {step.name:<22} no-op locally")
            continue
        head = f"{step.stage:>2} {step.name:<22} {step.fanout:<9}"
        cmd = f"{image_tag(step.image, version)} {' '.join(step.command)}"
        try:
            kids = children(step, folder.volume("input"), reaches)
        except ConfluenceError:
            lines.append(f"{head} children: ? ({step.list} not written yet): all would run  {cmd}")
            pending[step.name] = ["*"]
            continue
        why: Counter[str] = Counter()
        todo: list[str] = []
        settings = {**step.environment(), **env}
        for child in kids:
            reason = "--force" if force else ledger.out_of_date(step, child, settings, pending)
            if reason:
                why[_reason_kind(reason)] += 1
                todo += list(child.reach_ids) or ["*"]
        if todo:
            pending[step.name] = todo
        n_run = sum(why.values())
        reasons = "; ".join(f"{n} {r}" for r, n in why.most_common(3))
        lines.append(f"{head} children: {len(kids):<6} to run: {n_run:<6} up to date: {len(kids) - n_run:<6}"
                     f"{' (' + reasons + ')' if reasons else ''}  {cmd}")
    return lines


def _reason_kind(reason: str) -> str:
    """A reason without the file or reach it names, to count alike reasons together."""
    for sep in (": ", " ("):
        if sep in reason and not reason.startswith("upstream"):
            return reason.split(sep, 1)[0]
    return reason


def load_record(folder: RunFolder) -> dict[str, Any]:
    path = folder.root / "run.json"
    record: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    return record
