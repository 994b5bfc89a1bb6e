"""CPU seconds per reach of SAD at 50 times x 30 nodes (the issue's speed target: under 2 s, amortised).

Runs the plug-in on ``--reaches`` twin reaches (tests/sad_twin.py: 50 times, 30 nodes, each with
its own seed) in one process, as a grouped job would, and prints ``time.process_time`` per reach.
``python modules/flpe/sad/bench/bench_speed.py [--reaches 10]``.  OpenBLAS may spin threads on
the filter's small matrices; ``OPENBLAS_NUM_THREADS=1`` measures the work alone.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from confluence_flpe.interface import Priors
from confluence_flpe_sad.algorithm import Sad
from sad_twin import MEAN_Q, make_twin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reaches", type=int, default=10)
    args = parser.parse_args()
    twins = [make_twin(nt=50, nx=30, seed=s) for s in range(args.reaches)]
    algo = Sad()
    start = time.process_time()
    results = [algo.run([(t.obs, Priors(reach_id=t.obs.reach_id, mean_q=MEAN_Q))])[0] for t in twins]
    cpu = time.process_time() - start
    assert all(r.valid for r in results)
    print(f"sad: {cpu / args.reaches:.3f} CPU s per reach (50 times x 30 nodes, {args.reaches} reaches)")


if __name__ == "__main__":
    main()
