"""CPU seconds per reach of the cheap per-reach steps, each run as grouped jobs (issue 18).

Each step (prediagnostics, momma, consensus, postdiagnostics_flpe, offline, validation) runs on
every entry of the run folder's ``input/reaches.json`` as the process engine runs it: its
workflow-table command, in a new Python process per job of ``--group`` entries
(``CONFLUENCE_ENTRIES``, ``CONFLUENCE_STEP``, ``CONFLUENCE_MNT``), jobs one after the other.  The
CPU time (user + system) of the children, from ``resource.getrusage(RUSAGE_CHILDREN)``, divided by
the number of reaches is the step's figure: Python start-up and imports included, amortised over
the group, as ``run.json``'s ``cpu_s`` per reach.  Each step is run ``--repeat`` times and the
median is reported, beside a peer: the CPU time of a fixed numpy workload measured in the same run
(as ``bench/flpe_speed.py``), so that figures from shared, noisy machines can be compared
(``x peer``).  ``start s`` is the CPU time of a process that only imports the step's command
module (the part of a job that no group size amortises away).

The run folder must hold the inputs of these steps (a run of the workflow up to validation);
without ``--run`` the demo world is generated and run first in a temporary folder (minutes).
Re-running a step on a finished run folder rewrites its outputs with the same values
(prediagnostics restarts from the ``original`` group it keeps in the SWOT file).

Usage: ``python bench/cheap_steps.py [--run RUN_FOLDER] [--repeat 3] [--group 20] [--steps momma,offline]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from confluence_core import workflow
from peer import child_cpu, children_cpu, demo_run, peer_seconds, program

STEPS = ("prediagnostics", "momma", "consensus", "postdiagnostics_flpe", "offline", "validation")
#: Everything these steps read, in run order (consensus combines whatever FLPE outputs exist).
UPSTREAM = ("datagen,combine_data,input,prediagnostics,priors,momma,consensus,postdiagnostics_flpe,moi,"
            "offline,validation")
TARGET_S = 0.1
#: The module each command's entry point lives in (imported alone for the start-up figure).
START_MODULES = {
    "confluence-prediagnostics": "confluence_prediagnostics.cli",
    "confluence-flpe": "confluence_flpe.cli",
    "confluence-postdiagnostics": "confluence_postdiagnostics.cli",
    "confluence-offline": "confluence_offline.cli",
    "confluence-validation": "confluence_validation.cli",
}


def _run_child(command: list[str], env: dict[str, str], log: Path) -> float:
    """CPU seconds of one child process (waited for); raises when it fails."""
    cpu, code = child_cpu(command, env, log)
    if code != 0:
        raise SystemExit(f"{' '.join(command)} failed ({code}); see {log}")
    return cpu


def step_cpu(run: Path, step: workflow.Step, group: int, logs: Path) -> tuple[float, int, int]:
    """Run ``step`` on every entry of its list in jobs of ``group``; return (CPU s, entries, jobs)."""
    entries = json.loads((run / "input" / step.list).read_text())
    n = len(entries)
    jobs = [list(range(k, min(k + group, n))) for k in range(0, n, group)]
    env = {**os.environ, "CONFLUENCE_MNT": str(run), **step.environment(),
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLCONFIGDIR": "/tmp"}
    command = [program(step.command[0]), *step.command[1:]]
    cpu = 0.0
    for job in jobs:
        cpu += _run_child(command, {**env, "CONFLUENCE_ENTRIES": ",".join(map(str, job))},
                          logs / f"{step.name}.log")
    return cpu, n, len(jobs)


def start_cpu(step: workflow.Step) -> float:
    """CPU seconds of a process that imports the step's command module and exits."""
    module = START_MODULES.get(step.command[0])
    if module is None:
        return float("nan")
    before = children_cpu()
    subprocess.check_call([sys.executable, "-c", f"import {module}"])
    return children_cpu() - before


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--run", type=Path, default=None,
                        help="run folder holding these steps' inputs (default: run the demo world first)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--group", type=int, default=0,
                        help="entries per job (default: each step's workflow-table group)")
    parser.add_argument("--steps", default=",".join(STEPS))
    args = parser.parse_args()
    os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    table = workflow.load()
    tmp = None
    run = args.run
    if run is None:
        tmp = Path(tempfile.mkdtemp(prefix="cheap_steps_"))
        run = demo_run(tmp, UPSTREAM)
    run = run.resolve()
    logs = Path(tempfile.mkdtemp(prefix="cheap_steps_logs_"))
    peers = [peer_seconds() for _ in range(args.repeat)]
    print(f"run folder: {run}; logs: {logs}")
    print(f"{'step':<22} {'reaches':>7} {'jobs':>4} {'CPU s/reach':>11} {'x peer':>7} {'start s':>7} {'target':>6}"
          f"  {'':<4}")
    for name in [s for s in args.steps.split(",") if s]:
        step = table.step(name)
        group = args.group or step.group
        runs = [step_cpu(run, step, group, logs) for _ in range(args.repeat)]
        per_reach = statistics.median(cpu / n for cpu, n, _ in runs)
        start = statistics.median(start_cpu(step) for _ in range(args.repeat))
        _, n, jobs = runs[0]
        ok = "ok" if per_reach <= TARGET_S else "over"
        peers.append(peer_seconds())
        print(f"{name:<22} {n:>7} {jobs:>4} {per_reach:>11.3f} {per_reach / statistics.median(peers):>7.2f} "
              f"{start:>7.3f} {TARGET_S:>6}  {ok}", flush=True)
    print(f"peer: {statistics.median(peers):.3f} CPU s (numpy workload: 200 solves of a 200 x 200 system)")
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
