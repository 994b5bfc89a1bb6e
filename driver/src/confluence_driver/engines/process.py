"""The process engine: the module's entry point in a subprocess, same run-folder layout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
        with spec.log_path.open("w") as log:
            try:
                proc = subprocess.run(
                    [program or spec.command[0], *spec.command[1:]],
                    env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    timeout=spec.timeout_s, check=False,
                )
                code = proc.returncode
            except subprocess.TimeoutExpired:
                log.write(f"\nerror: timed out after {spec.timeout_s:.0f} s\n")
                code = 124
            except OSError as exc:
                log.write(f"\nerror: cannot start {spec.command[0]}: {exc.strerror}\n")
                code = 127
        seconds = time.monotonic() - start
        return JobResult(spec, code, seconds, "" if code == 0 else failure_reason(spec.log_path))
