"""What the benchmarks share: the peer every figure is set beside, and the CPU time of child processes.

These machines are shared and noisy, so a benchmark reports its CPU seconds next to
the peer's, measured in the same run; the ratio (``x peer``) compares across runs.
A step or a public module run as a child process is measured as the child's CPU time
(user + system, ``resource.getrusage(RUSAGE_CHILDREN)``): start-up and imports included.
Used by every script of ``bench/`` (run as ``python bench/<script>.py``, so this folder
is on the import path).
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

BIN = Path(sys.executable).parent


def peer_seconds() -> float:
    """CPU seconds (``time.process_time``) of 200 dense 200 x 200 solves, one thread."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((200, 200)) + 200 * np.eye(200)
    b: np.ndarray = rng.standard_normal(200)
    start = time.process_time()
    for _ in range(200):
        b = np.linalg.solve(a, b)
    return time.process_time() - start


def children_cpu() -> float:
    """CPU seconds (user + system) of every child process waited for so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def child_cpu(command: Sequence[str], env: Mapping[str, str], log: Path, cwd: Path | None = None) -> tuple[float, int]:
    """Run ``command`` to its end, its output appended to ``log``; return (its CPU seconds, its exit code)."""
    before = children_cpu()
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n")
        out.flush()
        code = subprocess.call(list(command), env=dict(env), cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL)
    return children_cpu() - before, code


def program(name: str) -> str:
    """The console script ``name`` of this environment (else the one on PATH)."""
    local = BIN / name
    return str(local) if local.exists() else (shutil.which(name) or name)


def demo_run(folder: Path, steps: str) -> Path:
    """Run the workflow's ``steps`` on the demo world in ``folder/run`` (the process engine, one job at a time)."""
    run = folder / "run"
    subprocess.check_call([program("confluence"), "run", "--engine", "process", "--workdir", str(run), "-j", "1",
                           "--steps", steps])
    return run
