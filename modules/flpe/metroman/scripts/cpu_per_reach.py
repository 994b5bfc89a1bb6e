"""CPU seconds per reach of SAD, MetroMan, HiVDI and SIC4DVar on the reaches of a run, and their results.

Reads the input volume of a run built with ``confluence run --engine process --workdir RUN --until
priors`` (the fan-out lists ``reaches.json``, ``metrosets.json``, ``hivdisets.json`` and
``sicsets.json``), runs each algorithm in this process on every entry of its list as the FLPE
runner does (:func:`confluence_flpe.runner.run_algorithm`; reading the files is not timed) and
prints ``time.process_time`` per reach.  ``--save FILE`` stores every result (discharge,
uncertainty, parameters and numeric extras) in an ``.npz``; ``--compare FILE`` prints the largest
relative difference of each algorithm's results from a stored file (before / after a change).

Usage::

    OPENBLAS_NUM_THREADS=1 python modules/flpe/metroman/scripts/cpu_per_reach.py RUN \\
        [--algos sad,metroman,hivdi,sic4dvar] [--save after.npz] [--compare before.npz]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from confluence_flpe import registry
from confluence_flpe.interface import FlpeResult
from confluence_flpe.runner import ReachInput, check_obs, load_reach, run_algorithm

LISTS = {"sad": "reaches.json", "metroman": "metrosets.json", "hivdi": "hivdisets.json",
         "sic4dvar": "sicsets.json"}


def _jobs(input_dir: Path, name: str) -> list[list[ReachInput]]:
    entries = json.loads((input_dir / LISTS[name]).read_text())
    return [[load_reach(e, input_dir) for e in (entry if isinstance(entry, list) else [entry])]
            for entry in entries]


def _flat(name: str, res: FlpeResult) -> dict[str, np.ndarray]:
    """Numeric arrays of one result, keyed ``algo/reach/field``."""
    out: dict[str, np.ndarray] = {}
    key = f"{name}/{res.reach_id}"
    out[f"{key}/valid"] = np.asarray(float(res.valid))
    for field, value in (("q", res.q), ("q_u", res.q_u)):
        if value is not None:
            out[f"{key}/{field}"] = np.asarray(value, dtype=np.float64)
    for group in (res.params, res.extra):
        for k, v in group.items():
            try:
                arr = np.asarray(v, dtype=np.float64)
            except (TypeError, ValueError):
                continue
            out[f"{key}/{k}"] = arr
    return out


def _rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        return float("inf")
    both = np.isfinite(a) & np.isfinite(b)
    if not np.array_equal(np.isfinite(a), np.isfinite(b)):
        return float("inf")
    if not both.any():
        return 0.0
    scale = np.maximum(np.abs(a[both]), np.abs(b[both]))
    d = np.abs(a[both] - b[both]) / np.where(scale > 0, scale, 1.0)
    return float(d.max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--algos", default="sad,metroman,hivdi,sic4dvar")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--compare", type=Path)
    args = parser.parse_args()
    input_dir = args.run / "input"
    saved: dict[str, np.ndarray] = {}
    for name in args.algos.split(","):
        algo = registry.get(name)
        fanout = registry.fanout(algo)
        jobs = _jobs(input_dir, name)
        n_reach = sum(len(j) for j in jobs)
        start = time.process_time()
        results = []
        for items in jobs:
            for item in items:
                check_obs(algo, item)
            results.extend(run_algorithm(algo, fanout, items))
        cpu = time.process_time() - start
        valid = sum(r.valid for r in results)
        print(f"{name:<9} {cpu / n_reach:7.3f} CPU s/reach  ({n_reach} reaches in {len(jobs)} jobs, "
              f"{valid} valid, {cpu:.2f} CPU s)", flush=True)
        for res in results:
            saved.update(_flat(name, res))
        if args.compare is not None:
            ref = np.load(args.compare)
            mine = {k: v for k, v in saved.items() if k.startswith(f"{name}/")}
            theirs = [k for k in ref.files if k.startswith(f"{name}/")]
            missing = sorted(set(theirs) ^ set(mine))
            worst = sorted(((_rel_diff(ref[k], mine[k]), k) for k in theirs if k in mine), reverse=True)
            print(f"          vs {args.compare.name}: largest relative differences "
                  + ", ".join(f"{k.split('/', 1)[1]} {d:.2e}" for d, k in worst[:3])
                  + (f"; keys differ: {missing[:5]}" if missing else ""))
    if args.save is not None:
        np.savez(args.save, **saved)


if __name__ == "__main__":
    main()
