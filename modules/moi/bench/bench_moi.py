"""Benchmark: seconds per basin of the MOI on a synthetic basin of ``--reaches`` reaches (default 200).

The basin is a random binary tree (every new reach drains into a random reach
that has fewer than two upstream reaches), local drainage areas lognormal,
``facc`` accumulated, true mean flow = accumulated area x lognormal specific
runoff.  Two timings:

1. science: :func:`confluence_moi.integrate.integrate` for six algorithms
   (each with results at 80 % of the reaches, per-reach lognormal errors sd
   0.4) and SoS-like priors (sd 0.5): the optimisation of one basin job,
   in memory;
2. end to end: ``process_basin`` on files in a temporary run folder (SWORD,
   SoS, momma- and sad-layout FLPE files for every reach, SWOT stubs), reading
   the results of every algorithm and writing one integrator file per reach.

Run: ``python modules/moi/bench/bench_moi.py [--reaches 200 --repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from confluence_core import jsonio, ncio
from confluence_core import network as nw
from confluence_core.volumes import MOUNT_ENV, VOLUMES
from confluence_moi import integrate as ig

BASIN = 7426
N_ALGOS = 6


def tree(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(reach_id, down, facc km2, true mean flow m3/s) of a random binary tree of ``n`` reaches."""
    down = np.full(n, -1)
    n_up = np.zeros(n, dtype=int)
    for i in range(1, n):
        free = np.flatnonzero(n_up[:i] < 2)
        d = int(rng.choice(free))
        down[i], n_up[d] = d, n_up[d] + 1
    C = nw.accumulation(down)
    area = rng.lognormal(np.log(300.0), 0.8, n)
    runoff = 0.01 * rng.lognormal(0.0, 0.2, n)  # m3/s/km2
    facc = C @ area
    q = C @ (area * runoff)
    rid = BASIN * 10**7 + (np.arange(n) + 1) * 10 + 1
    return rid.astype(np.int64), down, facc, q


def bench_science(n: int, repeat: int, rng: np.random.Generator) -> dict[str, float]:
    rid, down, facc, q_true = tree(n, rng)
    net = nw.Drainage(rid, down, nw.lateral_share(down, facc))
    prior = q_true * rng.lognormal(0.0, 0.4, n)
    obs = []
    for _ in range(N_ALGOS):
        q = q_true * rng.lognormal(0.0, 0.4, n)
        q[rng.random(n) < 0.2] = np.nan
        obs.append(q)
    times, nfev, res = [], [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        for q in obs:
            res = ig.integrate(net, q, np.full(n, 0.4), prior, np.full(n, 0.5))
            nfev.append(res.nfev)
        times.append(time.perf_counter() - t0)
    assert res is not None
    ok = np.isfinite(obs[-1])
    return {
        "s_per_basin": statistics.median(times), "s_per_algo": statistics.median(times) / N_ALGOS,
        "nfev_median": float(np.median(nfev)), "depth": float(nw.levels(down).max()),
        "deficit_raw": ig.mass_deficit(down, obs[-1]), "deficit_moi": ig.mass_deficit(down, res.q),
        "err_raw": float(np.median(np.abs(obs[-1][ok] / q_true[ok] - 1))),
        "err_moi": float(np.median(np.abs(res.q[ok] / q_true[ok] - 1))),
    }


def _write_world(mnt: Path, n: int, rng: np.random.Generator, nt: int = 40) -> dict:
    rid, down, facc, q_true = tree(n, rng)
    for sub in VOLUMES:
        (mnt / sub).mkdir(parents=True, exist_ok=True)
    dn = np.zeros((4, n), dtype=np.int64)
    dn[0] = np.where(down >= 0, rid[np.maximum(down, 0)], 0)
    up = np.zeros((4, n), dtype=np.int64)
    count = np.zeros(n, dtype=int)
    for i in np.flatnonzero(down >= 0):
        up[count[down[i]], down[i]] = rid[i]
        count[down[i]] += 1
    with ncio.create(mnt / "input" / "sword" / "na_sword_v16.nc") as ds:
        ds.createDimension("num_reaches", n)
        ds.createDimension("num_domains", 4)
        g = ds.createGroup("reaches")
        ncio.write_var(g, "reach_id", rid, ("num_reaches",), "i8")
        ncio.write_var(g, "rch_id_up", up, ("num_domains", "num_reaches"), "i8")
        ncio.write_var(g, "rch_id_dn", dn, ("num_domains", "num_reaches"), "i8")
        ncio.write_var(g, "facc", facc, ("num_reaches",))
        ncio.write_var(g, "dist_out", np.zeros(n), ("num_reaches",))
    with ncio.create(mnt / "input" / "sos" / "na_sword_v16_SOS_priors.nc") as ds:
        ds.createDimension("num_reaches", n)
        ncio.write_var(ds.createGroup("reaches"), "reach_id", rid, ("num_reaches",), "i8")
        ncio.write_var(ds.createGroup("model"), "mean_q", q_true * rng.lognormal(0, 0.4, n), ("num_reaches",))
    for r, q in zip(rid.tolist(), q_true.tolist(), strict=True):
        series = q * rng.lognormal(0.0, 0.4) * rng.lognormal(0.0, 0.3, nt)
        for folder, file, var, extra in (("momma", f"{r}_momma.nc", "Q", {}),
                                         ("sad", f"{r}_sad.nc", "Qa", {"A0": 300.0, "n": 0.03})):
            with ncio.create(mnt / "flpe" / folder / file, valid=np.int32(1)) as ds:
                ds.createDimension("nt", nt)
                ncio.write_var(ds, var, series, ("nt",))
                for name, value in extra.items():
                    ncio.write_var(ds, name, value, ())
        with ncio.create(mnt / "input" / "swot" / f"{r}_SWOT.nc") as ds:
            ds.createDimension("nt", nt)
    entry = {"basin_id": BASIN, "reach_id": [str(r) for r in rid], "sword": "na_sword_v16.nc",
             "sos": "na_sword_v16_SOS_priors.nc", "swot": [f"{r}_SWOT.nc" for r in rid]}
    jsonio.write_json(mnt / "input" / "basin.json", [entry])
    return entry


def bench_end_to_end(n: int, rng: np.random.Generator) -> dict[str, float]:
    import logging

    from confluence_moi.cli import process_basin

    logging.getLogger("confluence-moi").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        mnt = Path(tmp)
        os.environ[MOUNT_ENV] = str(mnt)
        entry = _write_world(mnt, n, rng)
        t0 = time.perf_counter()
        summary = process_basin(entry)
        seconds = time.perf_counter() - t0
        return {"s_per_basin": seconds, "files": float(len(summary.written))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reaches", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-end-to-end", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    sci = bench_science(args.reaches, args.repeat, rng)
    print(f"science, {args.reaches} reaches (tree depth {sci['depth']:.0f}), {N_ALGOS} algorithms: "
          f"{sci['s_per_basin']:.3f} s per basin ({sci['s_per_algo']:.3f} s per algorithm, "
          f"median {sci['nfev_median']:.0f} function evaluations)")
    print(f"  one algorithm: mass deficit {100 * sci['deficit_raw']:.1f} % -> {100 * sci['deficit_moi']:.2f} %, "
          f"median |relative error| {100 * sci['err_raw']:.1f} % -> {100 * sci['err_moi']:.1f} %")
    if not args.no_end_to_end:
        e2e = bench_end_to_end(args.reaches, rng)
        print(f"end to end (2 algorithms with files, {e2e['files']:.0f} integrator files): "
              f"{e2e['s_per_basin']:.2f} s per basin")


if __name__ == "__main__":
    main()
