"""Time the whole workflow (process engine) and report wall time and peak memory per step.

Usage: ``python bench/workflow.py [--kind demo|bench] [--jobs 2] [--skip neobam] [--workdir DIR]``.
``--kind demo`` is the built-in demo world (39 reaches); ``--kind bench`` the
generated world of 1,000 reaches x 50 passes.  Peak memory is the largest
resident set of any one job of the step (from the run record, ``run.json``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=["demo", "bench"], default="demo")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--skip", default="", help="steps to leave out, comma-separated (e.g. neobam)")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix=f"bench-workflow-{args.kind}-"))
    if args.kind == "bench" and not (work / "demo" / "manifest.json").exists():
        from confluence_demo import generate

        start = time.perf_counter()
        generate(work / "demo", kind="bench")
        print(f"generated the bench world in {time.perf_counter() - start:.1f} s")
    cmd = [str(Path(sys.executable).parent / "confluence"), "run", "--local", "--engine", "process",
           "--workdir", str(work), "--jobs", str(args.jobs)]
    if args.kind == "bench":
        cmd += ["--source", str(work / "demo")]
    if args.skip:
        from confluence_driver import workflow

        skip = set(args.skip.split(","))
        cmd += ["--steps", ",".join(s.name for s in workflow.load().steps if s.name not in skip)]
    start = time.perf_counter()
    done = subprocess.run(cmd, check=False)
    total = time.perf_counter() - start
    record = json.loads((work / "run.json").read_text())
    print(f"\nworkflow on the {args.kind} world, process engine, --jobs {args.jobs}: {total:.1f} s "
          f"(exit {done.returncode}); run folder {work}")
    print(f"{'step':<22} {'children':>8} {'wall s':>8} {'job s (sum)':>11} {'peak MiB':>9}")
    for name, step in record["steps"].items():
        peak = step.get("peak_mib")
        print(f"{name:<22} {step['total']:>8} {step.get('wall_s', float('nan')):>8.1f} {step['seconds']:>11.1f} "
              f"{peak if peak is not None else float('nan'):>9.0f}")
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
