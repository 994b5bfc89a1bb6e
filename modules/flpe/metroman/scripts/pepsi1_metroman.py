"""Run MetroMan on Pepsi-1 rivers and print nRMSE / r / rBIAS per reach and per river.

Usage::

    python modules/flpe/metroman/scripts/pepsi1_metroman.py [--every 10] [--noise] [RIVER ...]

Each river's reaches fit for use (``River_Info/gdrch``) are cut, upstream to downstream, into
consecutive sets of 3 to 5 reaches (the size of MetroMan's sets, contracts.md section 4); the
inputs are the framework's Pepsi loader (:func:`confluence_flpe.pepsi.load_river`: W, H, S,
``d_x_area`` from W and H, ``QWBM`` as the mean flow prior, every ``--every``-th day).  Default
settings only: nothing here is tuned to these rivers.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from confluence_flpe import metrics
from confluence_flpe.pepsi import load_river
from confluence_flpe_metroman import MetroMan

PEPSI = Path(__file__).resolve().parents[5] / "shared" / "data" / "pepsi1"


def chunks(n: int, size: int = 5, smallest: int = 3) -> list[range]:
    """Consecutive index ranges of ``size`` covering ``range(n)``; a short tail joins its neighbour."""
    out = [range(k, min(k + size, n)) for k in range(0, n, size)]
    if len(out) > 1 and len(out[-1]) < smallest:
        tail = out.pop()
        out[-1] = range(out[-1].start, tail.stop)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rivers", nargs="*", help="river names (default: every file in pepsi1/)")
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--noise", action="store_true", help="add the framework's SWOT-like noise")
    args = parser.parse_args()
    files = [PEPSI / f"{r}.nc" for r in args.rivers] or sorted(PEPSI.glob("*.nc"))
    algo = MetroMan()
    print(f"{'river':<22}{'reaches':>8}{'sets':>5}{'nRMSE':>8}{'r':>7}{'rBIAS':>8}{'s/set':>7}")
    for i, path in enumerate(files):
        reaches = load_river(path, river_index=i, every=args.every, noise=args.noise)
        rows, seconds = [], []
        sets = chunks(len(reaches))
        for idx in sets:
            sel = [reaches[k] for k in idx]
            t0 = time.perf_counter()
            results = algo.run([(r.obs, r.priors) for r in sel])
            seconds.append(time.perf_counter() - t0)
            for r, res in zip(sel, results, strict=True):
                q = res.q if res.valid else np.full(r.obs.nt, np.nan)
                rows.append(metrics.scores(q, r.q_true))
        med = {k: float(np.nanmedian([row[k] for row in rows])) for k in ("nRMSE", "r", "rBIAS")}
        print(
            f"{path.stem:<22}{len(reaches):>8}{len(sets):>5}{med['nRMSE']:>8.3f}{med['r']:>7.3f}"
            f"{med['rBIAS']:>8.3f}{np.mean(seconds):>7.2f}"
        )


if __name__ == "__main__":
    main()
