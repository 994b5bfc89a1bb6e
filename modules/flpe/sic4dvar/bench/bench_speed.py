"""CPU time of the SIC4DVar plug-in per reach at 50 times x 30 nodes (``time.process_time``).

Run: ``.venv/bin/python modules/flpe/sic4dvar/bench/bench_speed.py [--reaches 40] [--sets 4]``.
The reaches are synthetic (power-law node rating curves with SWOT-like noise and 10 % gaps),
grouped in sets as a ``sicsets.json`` job gets them; the figure is the whole ``run`` (node
sections, the bed-offset and K grid, the algo5 fit) amortised over the reaches.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from confluence_flpe.hydraulics import d_x_area_from_obs
from confluence_flpe.interface import Priors, ReachObs
from confluence_flpe_sic4dvar import Sic4dvar


def synthetic_reach(rng: np.random.Generator, reach_id: int, nt: int = 50, nx: int = 30) -> tuple[ReachObs, Priors]:
    """A reach whose node stages and widths follow power laws of a random discharge series."""
    q = 500.0 * np.exp(rng.normal(0, 0.5, nt))
    depth = 0.3 * (q[None, :] / rng.uniform(20, 40, (nx, 1))) ** 0.4
    width = rng.uniform(60, 120, (nx, 1)) * (q[None, :] / 500.0) ** 0.2
    wse = (100.0 - 1e-4 * 200.0 * np.arange(nx))[:, None] + depth + rng.normal(0, 0.1, (nx, nt))
    width = width * (1 + rng.normal(0, 0.05, (nx, nt)))
    gaps = rng.random((nx, nt)) < 0.1
    wse[gaps], width[gaps] = np.nan, np.nan
    w, h = np.nanmean(width, axis=0), np.nanmean(wse, axis=0)
    obs = ReachObs(reach_id=reach_id, time=np.arange(nt) * 864000.0, time_str=np.full(nt, "no_data", dtype=object),
                   width=w, wse=h, slope=1e-4 * (q / 500.0) ** 0.1, d_x_area=d_x_area_from_obs(w, h),
                   node_id=np.arange(nx), node_wse=wse, node_width=width, reach_length=nx * 200.0, facc=1e4)
    return obs, Priors(reach_id=reach_id, mean_q=500.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reaches", type=int, default=40)
    parser.add_argument("--sets", type=int, default=4, help="reaches per set (job)")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    reaches = [synthetic_reach(rng, 74100000011 + 10 * i) for i in range(args.reaches)]
    algo = Sic4dvar()
    start = time.process_time()
    valid = 0
    for k in range(0, len(reaches), args.sets):
        valid += sum(r.valid for r in algo.run(reaches[k:k + args.sets]))
    cpu = time.process_time() - start
    print(f"sic4dvar: {cpu / len(reaches):.4f} s CPU per reach (50 times x 30 nodes, {len(reaches)} reaches "
          f"in sets of {args.sets}, {valid} valid)")


if __name__ == "__main__":
    main()
