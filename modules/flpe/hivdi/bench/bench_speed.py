"""CPU time of the HiVDI plug-in per reach at 50 times x 30 nodes (``time.process_time``).

Run: ``.venv/bin/python modules/flpe/hivdi/bench/bench_speed.py [--sets 4] [--reaches 3]``.
The sets are synthetic twins (tests/hivdi_testdata.py: 50 times, reaches of 30 nodes over 6 km,
SWOT-like errors, 10 % of node observations missing, the mean-flow prior off by x1.3, each set its
own seed), run one after the other in one process as a grouped ``hivdisets.json`` job would; the
figure is the whole ``run`` (building the problem, the two minimisations, the results) amortised
over the reaches.  OpenBLAS may spin threads on the small sparse solves; ``OPENBLAS_NUM_THREADS=1``
measures the work alone.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from confluence_flpe_hivdi import HiVDI
from hivdi_testdata import make_twin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=4, help="sets (jobs) run")
    parser.add_argument("--reaches", type=int, default=3, help="reaches per set")
    args = parser.parse_args()
    twins = [make_twin(n_reaches=args.reaches, nt=50, nodes=30, length=6000.0, bank=5.0, swot=True, gaps=0.1,
                       q_prior_factor=1.3, seed=s) for s in range(args.sets)]
    algo = HiVDI()
    start = time.process_time()
    results = [algo.run(t.reaches) for t in twins]
    cpu = time.process_time() - start
    n = args.sets * args.reaches
    valid = sum(r.valid for res in results for r in res)
    err = [float(np.sqrt(np.mean((r.q - t.q[k]) ** 2)) / t.q[k].mean())
           for t, res in zip(twins, results, strict=True) for k, r in enumerate(res) if r.valid]
    print(f"hivdi: {cpu / n:.3f} s CPU per reach (50 times x 30 nodes, {n} reaches in sets of {args.reaches}, "
          f"{valid} valid, median nRMSE {np.median(err):.3f})")


if __name__ == "__main__":
    main()
