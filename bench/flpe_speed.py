"""CPU seconds per reach of every installed FLPE algorithm, amortised over a grouped job.

A job of 3 synthetic Manning reaches (one set for reach-set algorithms, three reaches in one
process for per-reach ones) of 50 observation times x 30 nodes, with SWOT-like noise; each
algorithm runs ``--repeat`` times on one core (BLAS threads pinned to 1 by ``bench/run.sh``).
The median CPU time (``time.process_time``) per reach is reported beside the target, and beside
a peer: the CPU time of a fixed numpy workload measured in the same run, so that figures from
shared, noisy machines can be compared (the ``x peer`` column).

Usage: ``python bench/flpe_speed.py [--repeat 3] [--algos momma,metroman]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from confluence_flpe import registry
from confluence_flpe.interface import Priors, ReachObs
from peer import peer_seconds

TARGETS = {"momma": 0.1, "metroman": 2.0, "neobam": 10.0, "sad": 2.0, "hivdi": 2.0, "sic4dvar": 2.0}


def synthetic_reach(reach_id: int, nt: int = 50, nx: int = 30, seed: int = 0) -> tuple[ReachObs, Priors]:
    """A rectangular-ish Manning channel observed ``nt`` times at ``nx`` nodes (SI units)."""
    rng = np.random.default_rng(seed)
    q = 300 * np.exp(0.6 * np.sin(np.linspace(0, 2 * np.pi, nt)) + 0.1 * rng.standard_normal(nt))
    n, s, wb = 0.03, 1e-4, 120.0
    depth = (q * n / (wb * s**0.5)) ** 0.6
    width = wb * (depth / depth.mean()) ** 0.25
    wse = 50 + depth
    dA = np.cumsum(np.r_[0, 0.5 * (width[1:] + width[:-1]) * np.diff(wse)])
    dA -= np.median(dA)
    node_w = width[None, :] * (1 + 0.1 * rng.standard_normal((nx, nt)))
    node_h = wse[None, :] + 0.1 * rng.standard_normal((nx, nt)) - s * np.arange(nx)[:, None] * 200
    obs = ReachObs(
        reach_id=reach_id, time=np.arange(nt) * 86400.0 * 10, time_str=np.array(["2024-01-01T00:00:00Z"] * nt),
        width=width * (1 + 0.02 * rng.standard_normal(nt)), wse=wse + 0.02 * rng.standard_normal(nt),
        slope=s + 1.7e-5 * rng.standard_normal(nt), d_x_area=dA,
        node_id=np.arange(nx) + reach_id * 1000, node_width=node_w, node_wse=node_h,
        node_d_x_area=np.tile(dA, (nx, 1)), reach_length=nx * 200.0, facc=1e4, prior_width=wb,
    )
    months = np.full(12, q.mean())
    fdc = np.quantile(q, 1 - np.array([1, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90,
                                        96]) / 100)
    priors = Priors(reach_id=reach_id, mean_q=q.mean() * 1.3, min_q=q.min() / 2, max_q=q.max() * 2,
                    two_year_return_q=q.max(), monthly_q=months, flow_duration_q=fdc)
    return obs, priors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--algos", default="")
    args = parser.parse_args()
    wanted = [a for a in args.algos.split(",") if a] or registry.names()
    peer = statistics.median(peer_seconds() for _ in range(args.repeat))
    print(f"peer: {peer:.3f} CPU s (numpy workload: 200 solves of a 200 x 200 system)")
    print(f"{'algorithm':<10} {'CPU s/reach':>11} {'x peer':>7} {'target s':>9}"
          "  (50 times x 30 nodes, 3 reaches a job)")
    for name in wanted:
        algo = registry.get(name)
        if getattr(algo, "combine", None) is not None:
            continue
        job = [synthetic_reach(74200000001 + 10 * k, seed=k) for k in range(3)]
        times = []
        for _ in range(args.repeat):
            start = time.process_time()
            if registry.fanout(algo) == "reachset":
                algo.run(job)
            else:
                for reach in job:
                    algo.run([reach])
            times.append((time.process_time() - start) / len(job))
        target = TARGETS.get(name)
        per_reach = statistics.median(times)
        print(f"{name:<10} {per_reach:>11.3f} {per_reach / peer:>7.2f} {target if target else '-':>9}")



if __name__ == "__main__":
    main()
