"""neoBAM on Pepsi-1 rivers: nRMSE, bias and r per river (settings are the defaults, never tuned here).

Usage: ``python modules/flpe/neobam/scripts/pepsi1.py [RIVER.nc ...]`` (default: every file in
``../shared/data/pepsi1``).  Every 10th day, W/H/S without noise, QWBM as the only flow prior
(``confluence_flpe.pepsi``); the reach scores are pooled per river as medians.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from confluence_flpe.bench import default_pepsi_dir
from confluence_flpe.metrics import scores
from confluence_flpe.pepsi import load_river
from confluence_flpe_neobam import NeoBAM


def main(files: list[Path]) -> None:
    algo = NeoBAM()
    print(f"{'river':24s} {'reaches':>7s} {'nt':>4s} {'nx':>4s} {'nRMSE':>6s} {'rBIAS':>6s} {'r':>6s} {'s/reach':>8s}")
    for k, path in enumerate(files):
        reaches = load_river(path, k, every=10)
        rows, secs = [], []
        for rr in reaches:
            t0 = time.perf_counter()
            (res,) = algo.run([(rr.obs, rr.priors)])
            secs.append(time.perf_counter() - t0)
            if res.valid:
                rows.append(scores(res.q, rr.q_true))
        nx = reaches[0].obs.node_width.shape[0] if reaches[0].obs.node_width is not None else 1
        med = {m: float(np.nanmedian([r[m] for r in rows])) if rows else float("nan")
               for m in ("nRMSE", "rBIAS", "r")}
        print(f"{path.stem:24s} {len(rows):4d}/{len(reaches):<2d} {reaches[0].obs.nt:4d} {nx:4d} "
              f"{med['nRMSE']:6.2f} {med['rBIAS']:+6.2f} {med['r']:6.2f} {np.median(secs):8.1f}", flush=True)


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]] or sorted(default_pepsi_dir().glob("*.nc"))
    main(args)
