"""Mass balance and accuracy of the MOI on the demo world, before and after integration.

Generates the demo world (``confluence_demo.generate``) in a temporary folder,
writes each reach's true width, stage, slope and area change at its observation
times as its SWOT file, makes FLPE-like results from its truth (per type-1
reach, MOMMA run on those observations with a mean-flow prior that is the true
mean flow times a per-reach lognormal bias, sd 0.4 in log (~40 %)), written as
``flpe/momma/{reach}_momma.nc`` by the MOMMA plug-in itself, writes
``basin.json``, runs the MOI on every basin and prints per basin:

- mass deficit: share of the flow that would vanish between reaches
  (``integrate.mass_deficit``; 0 when mean flows add up downstream);
- lateral error: median over reaches with upstream reaches of
  |implied lateral inflow - true lateral inflow| / true mean flow;
- median |relative error| of the reach mean flows against the truth's
  mean_q, over the reaches with FLPE results.

Usage: ``python modules/moi/scripts/demo_massbalance.py [--seed N] [--keep DIR]``.
The tests import :func:`setup_run` and :func:`evaluate` from here.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from confluence_core import jsonio, ncio
from confluence_core.volumes import MOUNT_ENV, VOLUMES

#: Log-space sd of the per-reach bias of the FLPE-like results' mean flow.
BIAS_SD = 0.4


@dataclass
class Truth:
    """The world's truth per reach (aligned arrays)."""

    reach_id: np.ndarray
    rtype: np.ndarray
    mean_q: np.ndarray  # m3/s, over every simulated day
    lateral_q: np.ndarray  # m3/s, mean lateral inflow

    def lookup(self, ids: np.ndarray, values: np.ndarray) -> np.ndarray:
        pos = {int(r): i for i, r in enumerate(self.reach_id.tolist())}
        return np.asarray([values[pos[int(r)]] if int(r) in pos else np.nan for r in ids])


def setup_run(world: Path, mnt: Path, seed: int = 1, bias_sd: float = BIAS_SD) -> tuple[list[dict], Truth]:
    """Fill the run folder ``mnt`` from the demo world: SWORD, SoS, SWOT files, MOMMA files, basin.json."""
    from confluence_flpe.interface import Priors, ReachObs
    from confluence_flpe_momma.algorithm import Momma

    for sub in VOLUMES:
        (mnt / sub).mkdir(parents=True, exist_ok=True)
    for kind in ("sword", "sos"):
        (mnt / "input" / kind).mkdir(parents=True, exist_ok=True)
        for f in (world / kind).glob("*.nc"):
            shutil.copy(f, mnt / "input" / kind / f.name)
    rng = np.random.default_rng(seed)
    with ncio.open_dataset(world / "truth" / "truth.nc") as ds:
        g = ds["reaches"]
        rid = np.asarray(g["reach_id"][:], dtype=np.int64)
        rtype = np.asarray(g["type"][:])
        mean_q = np.asarray(g["mean_q"][:], dtype=float)
        lateral = np.asarray(g["lateral_q"][:], dtype=float).mean(axis=1)
        o = ds["reach_obs"]
        obs = {name: np.asarray(o[name][:], dtype=float) for name in
               ("time", "true_width", "true_wse", "true_slope", "true_d_x_area")}
        obs_rid = np.asarray(o["reach_id"][:], dtype=np.int64)
    truth = Truth(rid, rtype, mean_q, lateral)

    folder = mnt / "flpe" / "momma"
    folder.mkdir(parents=True, exist_ok=True)
    (mnt / "input" / "swot").mkdir(parents=True, exist_ok=True)
    momma = Momma()
    for r, t, m in zip(rid.tolist(), rtype.tolist(), mean_q.tolist(), strict=True):
        sel = np.flatnonzero(obs_rid == r)
        sel = sel[np.argsort(obs["time"][sel])]
        if sel.size == 0:
            continue
        reach = ReachObs(reach_id=r, time=obs["time"][sel], time_str=np.full(sel.size, "no_data", dtype=object),
                         width=obs["true_width"][sel], wse=obs["true_wse"][sel], slope=obs["true_slope"][sel],
                         d_x_area=obs["true_d_x_area"][sel])
        with ncio.create(mnt / "input" / "swot" / f"{r}_SWOT.nc") as out:
            out.createDimension("nt", sel.size)
            g = out.createGroup("reach")
            ncio.write_var(g, "reach_id", np.full(sel.size, r, np.int64), ("nt",), "i8")
            for name in ("time", "width", "wse", "slope", "d_x_area"):
                ncio.write_var(g, name, getattr(reach, name), ("nt",))
        if t != 1:
            continue
        biased = Priors(reach_id=r, mean_q=m * float(np.exp(rng.normal(0.0, bias_sd))))
        (res,) = momma.run([(reach, biased)])
        momma.write(folder / f"{r}_momma.nc", [reach], [res])

    cont = {"7": "na", "8": "na", "9": "na", "2": "eu"}
    basins: dict[int, list[int]] = defaultdict(list)
    for r in rid.tolist():
        basins[r // 10**7].append(r)
    entries = [{"basin_id": b, "reach_id": [str(r) for r in rs],
                "sword": f"{cont[str(b)[0]]}_sword_v16.nc", "sos": f"{cont[str(b)[0]]}_sword_v16_SOS_priors.nc",
                "swot": [f"{r}_SWOT.nc" for r in rs]} for b, rs in sorted(basins.items())]
    jsonio.write_json(mnt / "input" / "basin.json", entries)
    return entries, truth


def evaluate(summary: object, truth: Truth, algo: str = "momma") -> dict[str, float]:
    """Mass deficit, lateral error and accuracy of one basin's raw and integrated mean flows."""
    from confluence_moi import integrate as ig

    net = summary.net  # type: ignore[attr-defined]
    s = summary.algos[algo]  # type: ignore[attr-defined]
    q_true = truth.lookup(net.reach_id, truth.mean_q)
    lat_true = truth.lookup(net.reach_id, truth.lateral_q)
    has_up = net.has_upstream()
    flpe = np.isfinite(s.qbar_raw)

    def lateral_error(q: np.ndarray) -> float:
        err = np.abs(ig.implied_lateral(net.down, q) - lat_true) / q_true
        return float(np.nanmedian(err[has_up])) if np.isfinite(err[has_up]).any() else float("nan")

    def rel_errs(q: np.ndarray) -> list[float]:
        return np.abs(q[flpe] / q_true[flpe] - 1.0).tolist()

    def rel_err(q: np.ndarray) -> float:
        return float(np.median(rel_errs(q)))

    return {
        "basin": summary.basin_id, "reaches": net.n, "flpe_reaches": int(flpe.sum()),  # type: ignore[attr-defined]
        "deficit_truth": ig.mass_deficit(net.down, q_true),
        "deficit_raw": s.deficit_before, "deficit_moi": s.deficit_after,
        "lateral_err_raw": lateral_error(s.qbar_raw), "lateral_err_moi": lateral_error(s.result.q),
        "rel_err_raw": rel_err(s.qbar_raw), "rel_err_moi": rel_err(s.result.q),
        "reach_err_raw": rel_errs(s.qbar_raw), "reach_err_moi": rel_errs(s.result.q),
    }


def run(world: Path, mnt: Path, seed: int = 1) -> list[dict[str, float]]:
    """Set up ``mnt`` from ``world``, run the MOI on every basin, return :func:`evaluate` per basin."""
    from confluence_moi.cli import process_basin

    entries, truth = setup_run(world, mnt, seed)
    old = os.environ.get(MOUNT_ENV)
    os.environ[MOUNT_ENV] = str(mnt)
    try:
        return [evaluate(process_basin(e), truth) for e in entries]
    finally:
        if old is None:
            os.environ.pop(MOUNT_ENV, None)
        else:
            os.environ[MOUNT_ENV] = old


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="seed of the FLPE-like errors")
    parser.add_argument("--keep", type=Path, default=None, help="keep the world and run folder here")
    args = parser.parse_args(argv)
    from confluence_demo import generate

    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        generate(base / "world")
        rows = run(base / "world", base / "run", args.seed)
    head = ("basin", "reaches", "flpe_reaches", "deficit_truth", "deficit_raw", "deficit_moi",
            "lateral_err_raw", "lateral_err_moi", "rel_err_raw", "rel_err_moi")
    print(" ".join(f"{h:>15}" for h in head))
    for row in rows:
        print(" ".join(f"{row[h]:>15}" if isinstance(row[h], int) else f"{row[h]:>15.4f}" for h in head))
    raw = np.median([e for r in rows for e in r["reach_err_raw"]])
    moi = np.median([e for r in rows for e in r["reach_err_moi"]])
    print(f"median |relative error| of the reach mean flows over every basin: {raw:.3f} raw, {moi:.3f} after MOI")
    worse = [r["basin"] for r in rows
             if not (r["deficit_moi"] <= r["deficit_raw"] and r["rel_err_moi"] < r["rel_err_raw"])]
    print("all basins better after integration" if not worse else f"not better in basins {worse}")
    return 1 if moi >= raw else 0


if __name__ == "__main__":
    sys.exit(main())
