"""The process engine: the module's entry point in a subprocess, same run-folder layout.

Each child runs under :mod:`confluence_driver.launch` in a process group of its
own, which the engine signals as a whole (timeout, :meth:`ProcessEngine.stop`):
no process of a child outlives the driver's wish to stop it.  A child's
output goes through a pipe that the engine copies into the job's log file,
keeping the last lines in memory, so the failure reason survives a log that
cannot be written (disk full).  :meth:`ProcessEngine.reap` finds children an
earlier, SIGKILLed driver left on a run folder by their environment.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

from confluence_core.errors import ConfluenceError
from confluence_core.volumes import MOUNT_ENV

from .. import launch
from .base import Engine, JobResult, JobSpec, OutputTail, failure_reason, keep_previous_log

#: Seconds a stopped child is given between SIGTERM and SIGKILL.
GRACE_S = 5.0
#: Seconds to wait for the rest of a child's output once its process group is gone.
READER_GRACE_S = 5.0
#: The reason of a job the engine was stopped before it started.
INTERRUPTED = "interrupted before it started"


def _which(program: str) -> str | None:
    """Find an entry point next to this interpreter first (the venv), then on PATH."""
    local = Path(sys.executable).parent / program
    if local.exists():
        return str(local)
    return shutil.which(program)


def _killpg(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class ProcessEngine(Engine):
    """Runs ``command`` with ``CONFLUENCE_MNT`` set to the run folder."""

    name = "process"

    def __init__(self) -> None:
        self._groups: dict[int, JobSpec] = {}  # process group id -> the job it runs
        self._lock = threading.Lock()
        self._stopping = False

    def check(self, images: dict[str, tuple[str, ...]]) -> None:
        missing = sorted({cmd[0] for cmd in images.values() if _which(cmd[0]) is None})
        if missing:
            raise ConfluenceError(
                f"entry points not installed: {', '.join(missing)} (run `make install`)"
            )

    def running(self) -> list[JobSpec]:
        with self._lock:
            return list(self._groups.values())

    def stop(self, grace_s: float = GRACE_S) -> None:
        """SIGTERM every running child's process group, then SIGKILL what is left after ``grace_s``."""
        with self._lock:
            self._stopping = True
            groups = list(self._groups)
        for pgid in groups:
            _killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            with self._lock:
                if not self._groups:
                    return
            time.sleep(0.05)
        with self._lock:
            groups = list(self._groups)
        for pgid in groups:
            _killpg(pgid, signal.SIGKILL)

    def reap(self, run_dir: Path, run_id: str) -> list[str]:
        """SIGKILL the process groups an earlier driver of ``run_dir`` left running.

        Children normally die with their driver (the launcher's
        ``PR_SET_PDEATHSIG``); this catches what escaped it.  A process is
        stale when its environment (``/proc/<pid>/environ``) has
        ``CONFLUENCE_MNT=<run_dir>`` and a ``CONFLUENCE_RUN_ID`` other than
        ``run_id``; processes whose environment cannot be read are skipped.
        """
        return [
            f"killed process group {pgid} left by run {other} ({what})"
            for pgid, other, what in _stale_groups(run_dir, run_id)
            if _kill_group(pgid)
        ]

    def run(self, spec: JobSpec) -> JobResult:
        program = _which(spec.command[0])
        env = {**os.environ, **spec.env, MOUNT_ENV: str(spec.run_dir),
               "CONFLUENCE_LAUNCH_PARENT": str(os.getpid())}
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        keep_previous_log(spec.log_path)
        usage_path = spec.log_path.with_name(f"{spec.log_path.stem}.usage.json")
        usage_path.unlink(missing_ok=True)
        start = time.monotonic()
        tail = OutputTail(spec.log_path)
        try:
            code = self._run(spec, program, env, usage_path, tail)
        finally:
            tail.close()
        if code is None:
            return JobResult(spec, 130, 0.0, INTERRUPTED)
        seconds = time.monotonic() - start
        result = JobResult(spec, code, seconds,
                           "" if code == 0 else failure_reason(spec.log_path, returncode=code, tail=tail))
        try:
            usage = json.loads(usage_path.read_text())
            result.extra["peak_mib"] = f"{float(usage['peak_mib']):.1f}"
            result.extra["cpu_s"] = f"{float(usage['cpu_s']):.3f}"
        except (OSError, ValueError, KeyError, TypeError):
            pass  # the launcher was killed before it could write: no figures rather than wrong ones
        usage_path.unlink(missing_ok=True)
        return result

    def _run(self, spec: JobSpec, program: str | None, env: dict[str, str], usage_path: Path,
             tail: OutputTail) -> int | None:
        """Start the launcher, copy its output into ``tail`` until it ends, return its exit status.

        None when the engine was stopped before the job could start.
        """
        with self._lock:
            if self._stopping:
                tail.write_line(f"error: {INTERRUPTED}")
                return None
            try:
                proc = subprocess.Popen(
                    [sys.executable, "-I", launch.__file__, str(usage_path),
                     program or spec.command[0], *spec.command[1:]],
                    env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    process_group=0,
                )
            except OSError as exc:
                tail.write_line(f"error: cannot start {spec.command[0]}: {exc.strerror}")
                return 127
            self._groups[proc.pid] = spec
        assert proc.stdout is not None
        reader = threading.Thread(target=_pump, args=(proc.stdout, tail), daemon=True,
                                  name=f"log-{spec.step}-{spec.index}")
        reader.start()
        timed_out = threading.Event()

        def on_timeout() -> None:
            timed_out.set()
            _killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(spec.timeout_s, on_timeout)
        timer.start()
        try:
            proc.wait()
        finally:
            timer.cancel()
            _killpg(proc.pid, signal.SIGKILL)  # whatever the child left in its group
            with self._lock:
                self._groups.pop(proc.pid, None)
        # a process that left the group may still hold the pipe: read what is there, do not wait for it
        reader.join(timeout=READER_GRACE_S)
        code = proc.returncode
        if code != 0 and timed_out.is_set():
            tail.write_line(f"error: timed out after {spec.timeout_s:.0f} s")
            code = 124
        return code


def _environ(pid: int) -> dict[bytes, bytes]:
    """The environment a process started with (``/proc/<pid>/environ``); OSError when unreadable."""
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)


def _stale_groups(run_dir: Path, run_id: str) -> list[tuple[int, str, str]]:
    """(process group, its run id, its command) of processes of ``run_dir`` with another run id."""
    folders = {str(run_dir).encode(), str(run_dir.resolve()).encode()}
    ours = {os.getpid(), os.getpgrp()}
    found: dict[int, tuple[int, str, str]] = {}
    try:
        entries = list(Path("/proc").iterdir())
    except OSError:  # no /proc (not Linux): nothing to find this way
        return []
    for entry in entries:
        if not entry.name.isdigit() or int(entry.name) in ours:
            continue
        pid = int(entry.name)
        try:
            env = _environ(pid)
            if env.get(MOUNT_ENV.encode()) not in folders or b"CONFLUENCE_RUN_ID" not in env:
                continue
            other = env[b"CONFLUENCE_RUN_ID"].decode(errors="replace")
            if other == run_id:
                continue
            pgid = os.getpgid(pid)
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, ValueError):  # gone, or not ours to read
            continue
        if pgid in ours:  # never the driver's own group
            continue
        if pgid not in found or pid == pgid:  # describe a group by its leader (the launcher)
            found[pgid] = (pgid, other, f"pid {pid}: {cmd[:120]}")
    return sorted(found.values())


def _kill_group(pgid: int) -> bool:
    """SIGKILL a process group; False when it is already gone or not ours."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _pump(stream: IO[bytes], tail: OutputTail) -> None:
    """Copy a child's output pipe into ``tail`` until its end."""
    fd = stream.fileno()
    try:
        while chunk := os.read(fd, 65536):
            tail.feed(chunk)
    except OSError:  # the pipe went away: what was read is kept
        pass
    finally:
        stream.close()
