"""The process engine: the module's entry point in a subprocess, same run-folder layout.

Each child runs under :mod:`confluence_driver.launch` in a process group of its
own, which the engine signals as a whole (timeout, :meth:`ProcessEngine.stop`):
no process of a child outlives the driver's wish to stop it.
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

from confluence_core.errors import ConfluenceError
from confluence_core.volumes import MOUNT_ENV

from .. import launch
from .base import Engine, JobResult, JobSpec, failure_reason

#: Seconds a stopped child is given between SIGTERM and SIGKILL.
GRACE_S = 5.0


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

    def run(self, spec: JobSpec) -> JobResult:
        program = _which(spec.command[0])
        env = {**os.environ, **spec.env, MOUNT_ENV: str(spec.run_dir),
               "CONFLUENCE_LAUNCH_PARENT": str(os.getpid())}
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        usage_path = spec.log_path.with_name(f"{spec.log_path.stem}.usage.json")
        usage_path.unlink(missing_ok=True)
        start = time.monotonic()
        with spec.log_path.open("w") as log:
            with self._lock:
                if self._stopping:
                    log.write("\nerror: interrupted before it started\n")
                    return JobResult(spec, 130, 0.0, "interrupted before it started")
                try:
                    proc = subprocess.Popen(
                        [sys.executable, "-I", launch.__file__, str(usage_path),
                         program or spec.command[0], *spec.command[1:]],
                        env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                        process_group=0,
                    )
                except OSError as exc:
                    log.write(f"\nerror: cannot start {spec.command[0]}: {exc.strerror}\n")
                    return JobResult(spec, 127, 0.0, failure_reason(spec.log_path))
                self._groups[proc.pid] = spec
            timer = threading.Timer(spec.timeout_s, _killpg, (proc.pid, signal.SIGKILL))
            timer.start()
            try:
                proc.wait()
            finally:
                timer.cancel()
                _killpg(proc.pid, signal.SIGKILL)  # whatever the child left in its group
                with self._lock:
                    self._groups.pop(proc.pid, None)
            code = proc.returncode
            if code != 0 and time.monotonic() - start >= spec.timeout_s:
                log.write(f"\nerror: timed out after {spec.timeout_s:.0f} s\n")
                code = 124
        seconds = time.monotonic() - start
        result = JobResult(spec, code, seconds, "" if code == 0 else failure_reason(spec.log_path))
        try:
            usage = json.loads(usage_path.read_text())
            result.extra["peak_mib"] = f"{float(usage['peak_mib']):.1f}"
            result.extra["cpu_s"] = f"{float(usage['cpu_s']):.3f}"
        except (OSError, ValueError, KeyError, TypeError):
            pass  # the launcher was killed before it could write: no figures rather than wrong ones
        usage_path.unlink(missing_ok=True)
        return result
