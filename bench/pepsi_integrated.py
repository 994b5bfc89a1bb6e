"""The Pepsi-1 benchmark of the integrated products: FLPE, then MOI (and offline), against the truth.

Usage: ``python bench/pepsi_integrated.py [--algos momma,metroman] [--every 10] [--out DIR]``.

Each Pepsi-1 river (Durand et al. 2016, doi:10.1002/2015WR018434) is run as the workflow runs it:
the FLPE algorithms on its reaches (``confluence_flpe.pepsi`` inputs, QWBM the only prior), then
the MOI on the river as one basin (its reaches a chain in river order, QWBM the prior of every
reach, flow accumulation unknown: ``confluence_moi.integrate``), then each algorithm's flow-law
parameters for the integrated mean flows (``FlowLaw.with_mean``) and its discharge through its
flow law: the MOI ``q`` and, in an unconstrained run, the offline ``_q_uc`` (the two are the same
series by construction); ``consensus`` is the median of the algorithms' recomputed series (the
offline ``consensus_q_uc``).  Scores per reach (nRMSE, r, rBIAS against the true Q on the sampled
days), medians per product over every reach.  Nothing is fitted to these rivers.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np
from confluence_core import flpe, workflow
from confluence_core.network import Drainage
from confluence_flpe import flowlaws, metrics, registry
from confluence_flpe.bench import default_pepsi_dir
from confluence_flpe.flowlaws import FlowObs
from confluence_flpe.interface import FlpeResult
from confluence_flpe.pepsi import PepsiReach, load_river
from confluence_flpe.runner import ReachInput, write_outputs
from confluence_moi import integrate as ig


def run_algorithm(name: str, reaches: list[PepsiReach]) -> list[FlpeResult]:
    """The plug-in on a river (one set for reach-set algorithms); flagged results where it cannot run."""
    algo = registry.get(name)
    pairs = [(r.obs, r.priors) for r in reaches]
    if registry.fanout(algo) == "reachset":
        if any(r.obs.n_valid < algo.min_obs for r in reaches):
            return [FlpeResult.invalid(r.obs.reach_id, r.obs.nt, "too few observations") for r in reaches]
        return list(algo.run(pairs))
    out = []
    for r, pair in zip(reaches, pairs, strict=True):
        ok = r.obs.n_valid >= algo.min_obs
        out.extend(algo.run([pair]) if ok else [FlpeResult.invalid(r.obs.reach_id, r.obs.nt, "too few")])
    return out


def contract_params(name: str, reaches: list[PepsiReach], results: list[FlpeResult], folder: Path
                    ) -> list[dict[str, float]]:
    """Each reach's flow-law parameters as MOI reads them: the plug-in's files, through the output contract."""
    algo, step = registry.get(name), workflow.load().step(name)
    items = [ReachInput(r.obs, r.priors) for r in reaches]
    write_outputs(algo, step, items, results, folder)
    spec = flpe.get(name)
    out = []
    for r in reaches:
        got = flpe.read_result(spec, folder, r.obs.reach_id)
        out.append(got.params if got is not None and got.valid else {})
    return out


def integrated(name: str, reaches: list[PepsiReach], results: list[FlpeResult], folder: Path) -> list[np.ndarray]:
    """The MOI product of one algorithm on one river: the law's discharge with integrated parameters."""
    law = flowlaws.get(flpe.get(name).flowlaw)
    read = contract_params(name, reaches, results, folder)
    n = len(reaches)
    net = Drainage(reach_id=np.array([r.obs.reach_id for r in reaches]),
                   down=np.append(np.arange(1, n), -1), lateral_share=np.full(n, np.nan))
    qbar, sd = np.full(n, np.nan), np.full(n, np.nan)
    for k, res in enumerate(results):
        if res.valid:
            qbar[k], sd[k], _ = ig.reach_mean(res.q, res.q_u)
    prior = np.array([r.priors.mean_q for r in reaches])
    out = [np.full(r.obs.nt, np.nan) for r in reaches]
    if not np.isfinite(qbar).any():
        return out
    basin = ig.integrate(net, qbar, sd, prior, np.full(n, ig.DEFAULT.prior_sd))
    for k, (r, res) in enumerate(zip(reaches, results, strict=True)):
        params = {p: float(read[k].get(p, np.nan)) for p in law.params}
        if res.valid and all(np.isfinite(list(params.values()))):
            out[k] = law.q(law.with_mean(params, FlowObs.of(r.obs), float(basin.q[k])), FlowObs.of(r.obs))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algos", default="", help="comma-separated (default: every installed algorithm)")
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--out", type=Path, default=None, help="also write the table here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    names = [a for a in args.algos.split(",") if a] or [a.name for a in registry.algorithms()]
    scores: dict[str, list[dict[str, float]]] = {}
    for i, path in enumerate(sorted(default_pepsi_dir().glob("*.nc"))):
        reaches = load_river(path, i, every=args.every)
        recomputed = []
        for name in names:
            results = run_algorithm(name, reaches)
            with tempfile.TemporaryDirectory() as tmp:
                moi = integrated(name, reaches, results, Path(tmp))
            recomputed.append(moi)
            for r, res, q in zip(reaches, results, moi, strict=True):
                scores.setdefault(f"{name} flpe", []).append(metrics.scores(res.q if res.valid else
                                                                            np.full(r.obs.nt, np.nan), r.q_true))
                scores.setdefault(f"{name} moi/offline", []).append(metrics.scores(q, r.q_true))
        for k, r in enumerate(reaches):
            stack = np.vstack([series[k] for series in recomputed])
            cons = np.where(np.isfinite(stack).any(axis=0), np.nanmedian(np.where(np.isfinite(stack), stack,
                                                                                    np.nan), axis=0), np.nan)
            scores.setdefault("consensus offline", []).append(metrics.scores(cons, r.q_true))
        print(f"{path.stem}: {len(reaches)} reaches", file=sys.stderr)
    lines = [f"Pepsi-1, every {args.every} day(s), no noise: FLPE and integrated products, medians over reaches",
             f"{'product':<26} {'scored':>6} {'nRMSE':>7} {'r':>7} {'rBIAS':>7}"]
    for key, rows in scores.items():
        ok = [x for x in rows if np.isfinite(x["nRMSE"])]
        med = {k: float(np.median([x[k] for x in ok])) if ok else float("nan") for k in ("nRMSE", "r", "rBIAS")}
        lines.append(f"{key:<26} {len(ok):>6} {med['nRMSE']:>7.3f} {med['r']:>7.3f} {med['rBIAS']:>7.3f}")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "integrated.txt").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
