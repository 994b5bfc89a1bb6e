"""The process engine: the module's entry point in a subprocess, same run-folder layout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from confluence_core.errors import ConfluenceError
from confluence_core.volumes import MOUNT_ENV

from .base import Engine, JobResult, JobSpec, failure_reason


def _which(program: str) -> str | None:
    """Find an entry point next to this interpreter first (the venv), then on PATH."""
    local = Path(sys.executable).parent / program
    if local.exists():
        return str(local)
    return shutil.which(program)


class ProcessEngine(Engine):
    """Runs ``command`` with ``CONFLUENCE_MNT`` set to the run folder."""

    name = "process"

    def check(self, images: dict[str, tuple[str, ...]]) -> None:
        missing = sorted({cmd[0] for cmd in images.values() if _which(cmd[0]) is None})
        if missing:
            raise ConfluenceError(
                f"entry points not installed: {', '.join(missing)} (run `make install`)"
            )

    def run(self, spec: JobSpec) -> JobResult:
        program = _which(spec.command[0])
        env = {**os.environ, **spec.env, MOUNT_ENV: str(spec.run_dir)}
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        peak_mib = 0.0
        with spec.log_path.open("w") as log:
            try:
                proc = subprocess.Popen(
                    [program or spec.command[0], *spec.command[1:]],
                    env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )
            except OSError as exc:
                log.write(f"\nerror: cannot start {spec.command[0]}: {exc.strerror}\n")
                return JobResult(spec, 127, 0.0, failure_reason(spec.log_path))
            timer = threading.Timer(spec.timeout_s, proc.kill)
            timer.start()
            try:
                _, status, usage = os.wait4(proc.pid, 0)  # rusage of this child: its peak memory
            finally:
                timer.cancel()
            proc.returncode = code = os.waitstatus_to_exitcode(status)
            peak_mib = usage.ru_maxrss / 1024  # Linux reports KiB
            if code < 0 and time.monotonic() - start >= spec.timeout_s:
                log.write(f"\nerror: timed out after {spec.timeout_s:.0f} s\n")
                code = 124
        seconds = time.monotonic() - start
        result = JobResult(spec, code, seconds, "" if code == 0 else failure_reason(spec.log_path))
        result.extra["peak_mib"] = f"{peak_mib:.1f}"
        return result
