"""CPU seconds per reach of the input step on the demo world and on the 1,000-reach bench world.

Issue 18 ("Speed at scale"): input per reach must cost no more than 1.2x on the bench world
(``confluence demo --kind bench``: 1,000 reaches, 50 basins, granules holding many basins)
what it costs on the demo world (39 reaches, 3 basins).  Both worlds are prepared as the
workflow prepares them (``confluence run --engine process --until combine_data``: datagen and
combine_data), then ``confluence_input.cli.run_basin`` runs in this process for every entry of
``basin.json`` (one input job each), timed with ``time.process_time``.  Process start-up and
imports are not counted (they are per job, not per reach).  Beside the figures, the peer of
``bench/flpe_speed.py`` (CPU time of a fixed numpy workload, measured in the same run) so that
figures from shared, noisy machines can be compared.

``--whole-granules`` also times the reading of the behaviour before issue 18 (every row of every
granule read and converted, the basin's rows kept afterwards) in the same run.

Usage::

    python bench/input_speed.py [--workdir DIR] [--demo-world D] [--bench-world B] [--repeat 3]
                                 [--basins N] [--whole-granules]

Worlds not given are generated into ``--workdir`` (the bench world takes minutes); prepared
run folders in ``--workdir`` are reused.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core, as bench/run.sh runs every benchmark (before numpy loads)

import numpy as np  # noqa: E402
from confluence_core import riversp  # noqa: E402
from confluence_core.sword import DEFAULT_VERSION  # noqa: E402
from confluence_input.cli import run_basin  # noqa: E402
from peer import peer_seconds  # noqa: E402

BIN = Path(sys.executable).parent
TARGET = 1.2  # bench / demo, CPU s per reach


def prepare(kind: str, world: Path | None, workdir: Path) -> Path:
    """Return a run folder whose input volume holds datagen's and combine_data's lists for ``kind``."""
    if world is None:
        world = workdir / f"world_{kind}"
        if not (world / "manifest.json").is_file():
            print(f"generating the {kind} world in {world} ...", flush=True)
            subprocess.run([str(BIN / "confluence"), "demo", str(world), "--kind", kind], check=True,
                           stdout=subprocess.DEVNULL)
    run = workdir / f"run_{kind}"
    if not (run / "input" / "basin.json").is_file():
        print(f"preparing {run} (datagen, combine_data) ...", flush=True)
        subprocess.run([str(BIN / "confluence"), "run", "--engine", "process", "--source", str(world),
                        "--until", "combine_data", "--workdir", str(run), "-j", "1"], check=True,
                       stdout=subprocess.DEVNULL)
    return run


def input_cpu(run: Path, max_basins: int | None = None) -> tuple[float, int, int]:
    """CPU seconds of input over the (first ``max_basins``) basins of ``run``, their reaches, files written."""
    os.environ["CONFLUENCE_MNT"] = str(run)
    basins = json.loads((run / "input" / "basin.json").read_text())[:max_basins]
    total, reaches, written = 0.0, 0, 0
    for entry in basins:
        ids = [int(r) for r in entry["reach_id"]]
        start = time.process_time()
        written += run_basin(ids, DEFAULT_VERSION)[0]
        total += time.process_time() - start
        reaches += len(ids)
    return total, reaches, written


@contextmanager
def whole_granules() -> Iterator[None]:
    """Read every row of every granule and keep the basin's rows afterwards (before issue 18)."""
    real = riversp.read_granule

    def read_all(path: Any, columns: Any = None, s3: Any = None, reach_ids: Any = None) -> Any:
        data, meta = real(path, columns, s3=s3)
        if reach_ids is not None:
            keep = np.isin(data["reach_id"], reach_ids)
            data = {k: v[keep] for k, v in data.items()}
        return data, meta

    riversp.read_granule = read_all
    try:
        yield
    finally:
        riversp.read_granule = real




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("bench-input-speed"))
    parser.add_argument("--demo-world", type=Path, default=None, help="output of `confluence demo`")
    parser.add_argument("--bench-world", type=Path, default=None, help="output of `confluence demo --kind bench`")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--basins", type=int, default=None, help="only the first N basins of each world")
    parser.add_argument("--whole-granules", action="store_true",
                        help="also time reading every row of every granule (before issue 18)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    args.workdir.mkdir(parents=True, exist_ok=True)
    runs = {"demo": prepare("demo", args.demo_world, args.workdir),
            "bench": prepare("bench", args.bench_world, args.workdir)}
    modes = ["rows of the job"] + (["whole granules"] if args.whole_granules else [])
    per_reach: dict[tuple[str, str], list[float]] = {}
    peers = []
    input_cpu(runs["demo"], 1)  # warm-up, not counted: first-call costs (GDAL drivers, caches, file pages)
    for _ in range(args.repeat):  # interleaved, so that a change of machine load hits every figure alike
        peers.append(peer_seconds())
        for mode in modes:
            for kind, run in runs.items():
                if mode == "whole granules":
                    with whole_granules():
                        cpu, n, written = input_cpu(run, args.basins)
                else:
                    cpu, n, written = input_cpu(run, args.basins)
                per_reach.setdefault((mode, kind), []).append(cpu / n)
                print(f"  {mode:<16} {kind:<5} {cpu:7.2f} CPU s, {n} reaches, {written} files", flush=True)
    peer = statistics.median(peers)
    print(f"peer: {peer:.3f} CPU s (numpy workload: 200 solves of a 200 x 200 system), median of {args.repeat}")
    print(f"{'read':<16} {'demo s/reach':>12} {'bench s/reach':>13} {'x peer (d/b)':>13} {'bench/demo':>10}"
          f"  (target <= {TARGET})")
    for mode in modes:
        d = statistics.median(per_reach[(mode, "demo")])
        b = statistics.median(per_reach[(mode, "bench")])
        print(f"{mode:<16} {d:>12.4f} {b:>13.4f} {d / peer:>6.2f}/{b / peer:<6.2f} {b / d:>10.2f}")


if __name__ == "__main__":
    main()
