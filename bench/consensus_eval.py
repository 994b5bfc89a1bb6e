"""The FLPE consensus rules scored on the Pepsi-1 rivers from cached algorithm runs (issue 16).

Step 1 (slow, once): every installed FLPE algorithm runs on each Pepsi-1 river
(Durand et al. 2016, doi:10.1002/2015WR018434) exactly as ``confluence
bench-accuracy`` runs it (:func:`confluence_flpe.bench`'s rules: ``min_obs``,
reach sets for reach-set algorithms, flagged results become NaN), and its
series ``q`` and ``q_u`` are cached with the reach's observations and the true
discharge in ``{cache}/{river}.npz``.  A river already in the cache is not run
again (delete its file to redo it).

Step 2 (seconds): from the cache, score per river (median over its reaches)
and ``ALL`` (median over every reach): each single algorithm, the old rule of
contracts.md section 9 (per-time median after dropping series with a
coefficient of variation <= 0.3) and the new consensus
(:func:`confluence_flpe_consensus.science.consensus`) with everything the
workflow runner can give it (``new``: observations, mean-flow prior, the
``q_u`` of the algorithms whose output contract declares one) and with parts
of it left out (``new-no-u``, ``new-series``: the series alone, what
``bench-accuracy`` passes today; ``new-all-u``: every ``q_u``; see
:func:`estimates`).
Columns: nRMSE, r (median over reaches) and coverage (share of the sampled
times with an estimate), plus, for the consensus rows, the reaches where it
gives nothing although some algorithm gives a value.

Nothing here chooses a threshold: the rules' constants are those of the
consensus module, fixed from the method's reasoning (see its docstring).

    .venv/bin/python bench/consensus_eval.py --cache /work/after16/consensus-cache [--every 10] [--noise]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from confluence_core import flpe as flpe_contract
from confluence_core.errors import NotEnoughDataError
from confluence_flpe import metrics, registry
from confluence_flpe.bench import default_pepsi_dir
from confluence_flpe.interface import Algorithm, FlpeResult, Priors, ReachObs
from confluence_flpe.pepsi import PepsiReach, load_river
from confluence_flpe_consensus import science

log = logging.getLogger("consensus_eval")

#: Observation arrays cached per reach ([nr, nt] each).
OBS_FIELDS = ("width", "wse", "slope", "d_x_area", "width_u", "wse_u", "slope_u")


def _run(algo: Algorithm, reaches: Sequence[PepsiReach]) -> list[FlpeResult]:
    """One plug-in on a river's reaches with the rules of ``bench-accuracy`` (flagged -> NaN)."""
    def flagged(r: PepsiReach, why: str) -> FlpeResult:
        return FlpeResult.invalid(r.obs.reach_id, r.obs.nt, why)

    pairs = [(r.obs, r.priors) for r in reaches]
    if registry.fanout(algo) == "reachset":
        if any(r.obs.n_valid < algo.min_obs for r in reaches):
            return [flagged(r, "too few observations") for r in reaches]
        try:
            return list(algo.run(pairs))
        except NotEnoughDataError as exc:
            return [flagged(r, exc.reason) for r in reaches]
    out: list[FlpeResult] = []
    for r, pair in zip(reaches, pairs, strict=True):
        if r.obs.n_valid < algo.min_obs:
            out.append(flagged(r, "too few observations"))
            continue
        try:
            out.extend(algo.run([pair]))
        except NotEnoughDataError as exc:
            out.append(flagged(r, exc.reason))
    return out


def _series(res: FlpeResult, nt: int, attr: str) -> np.ndarray:
    val = getattr(res, attr)
    if not res.valid or val is None or np.size(val) != nt:
        return np.full(nt, np.nan)
    return np.asarray(val, dtype=np.float64).ravel()


def cache_river(path: Path, index: int, dest: Path, every: int, noise: bool, seed: int) -> None:
    """Run every installed algorithm on one river and save ``dest`` (npz)."""
    reaches = load_river(path, index, every=every, noise=noise, seed=seed)
    nt = reaches[0].obs.nt
    data: dict[str, np.ndarray] = {
        "reach": np.asarray([r.reach for r in reaches]),
        "q_true": np.stack([r.q_true for r in reaches]),
        "mean_q": np.asarray([r.priors.mean_q for r in reaches]),
        "settings": np.asarray([every, int(noise), seed]),
    }
    for name in OBS_FIELDS:
        rows = [getattr(r.obs, name) for r in reaches]
        data[f"obs_{name}"] = np.stack([np.full(nt, np.nan) if v is None else np.asarray(v, float) for v in rows])
    for algo in registry.algorithms():
        t0 = time.perf_counter()
        results = _run(algo, reaches)
        data[f"q_{algo.name}"] = np.stack([_series(res, nt, "q") for res in results])
        data[f"qu_{algo.name}"] = np.stack([_series(res, nt, "q_u") for res in results])
        data[f"sec_{algo.name}"] = np.asarray(time.perf_counter() - t0)
        log.info("%s: %s in %.0f s", path.stem, algo.name, float(data[f"sec_{algo.name}"]))
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp.npz")
    np.savez(tmp, **data)  # type: ignore[arg-type]
    tmp.replace(dest)


def old_rule(series: Mapping[str, np.ndarray], nt: int, cv_min: float = 0.3) -> np.ndarray:
    """contracts.md section 9: negatives missing, drop CV <= 0.3, per-time median of the rest."""
    kept = []
    for q in series.values():
        q = np.where(np.asarray(q, float) < 0, np.nan, np.asarray(q, float))
        v = q[np.isfinite(q)]
        if q.size != nt or v.size == 0:
            continue
        cv = v.std(ddof=1) / v.mean() if v.size > 1 and v.mean() > 0 else 0.0
        if cv > cv_min:
            kept.append(q)
    if not kept:
        return np.full(nt, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out: np.ndarray = np.nanmedian(np.stack(kept), axis=0)
    return out


def _obs(data: Mapping[str, np.ndarray], k: int) -> ReachObs:
    """The cached observations of reach row ``k`` as a ReachObs."""
    nt = data["q_true"].shape[1]
    obs = ReachObs.empty(int(data["reach"][k]), nt)
    for name in OBS_FIELDS:
        row = data[f"obs_{name}"][k]
        setattr(obs, name, None if name.endswith("_u") and not np.isfinite(row).any() else row)
    return obs


def algo_names(data: Mapping[str, np.ndarray]) -> list[str]:
    return [k[2:] for k in data if k.startswith("q_") and k != "q_true"]


def q_u_m3s(data: Mapping[str, np.ndarray], name: str, k: int) -> np.ndarray:
    """Algorithm ``name``'s stated uncertainty on reach row ``k`` in m3/s (:data:`RELATIVE_QU` converted)."""
    u: np.ndarray = np.asarray(data[f"qu_{name}"][k], dtype=np.float64)
    return u * data[f"q_{name}"][k] if name in RELATIVE_QU else u


#: Algorithms whose ``q_u`` is relative (dimensionless), not m3/s: MetroMan writes ``q_u`` with
#: units "1" (confluence_flpe_metroman.io); the consensus takes m3/s, so it is multiplied by ``q``.
RELATIVE_QU = {"metroman"}
#: The consensus rows, in table order.
RULES = ("old", "new", "new-no-u", "new-series", "new-all-u")


def estimates(data: Mapping[str, np.ndarray]) -> dict[str, list[np.ndarray]]:
    """Per label (each algorithm and :data:`RULES`) the per-reach series.

    ``new``: observations, prior and the ``q_u`` of the algorithms whose output contract
    declares one (what the runner can read); ``new-no-u``: observations and prior, no ``q_u``
    (equal weights); ``new-series``: the series alone (what ``bench-accuracy`` passes: no
    width witness, equal weights); ``new-all-u``: as ``new`` with every ``q_u`` an algorithm
    returns, declared in its contract or not.
    """
    names = algo_names(data)
    with_qu = {n for n, spec in flpe_contract.algorithms().items() if spec.q_u}
    nr, nt = data["q_true"].shape
    out: dict[str, list[np.ndarray]] = {n: [data[f"q_{n}"][k] for k in range(nr)] for n in names}
    out.update({rule: [] for rule in RULES})
    for k in range(nr):
        series = {n: data[f"q_{n}"][k] for n in names}
        obs, prior = _obs(data, k), Priors(int(data["reach"][k]), mean_q=float(data["mean_q"][k]))
        out["old"].append(old_rule(series, nt))
        q_u = {n: q_u_m3s(data, n, k) for n in names if n in with_qu}
        out["new"].append(science.consensus(series, nt, q_u=q_u, obs=obs, prior=prior).q)
        out["new-no-u"].append(science.consensus(series, nt, obs=obs, prior=prior).q)
        out["new-series"].append(science.consensus(series, nt).q)
        all_u = {n: q_u_m3s(data, n, k) for n in names}
        out["new-all-u"].append(science.consensus(series, nt, q_u=all_u, obs=obs, prior=prior).q)
    return out


def score(cache: Path, rivers: Sequence[str]) -> str:
    """The text table of every river in the cache and ALL."""
    rows: dict[tuple[str, str], list[dict[str, float]]] = {}
    for river in rivers:
        with np.load(cache / f"{river}.npz") as f:
            data = {k: f[k] for k in f.files}
        est = estimates(data)
        any_algo = [np.isfinite(np.stack([est[n][k] for n in algo_names(data)])).any()
                    for k in range(data["q_true"].shape[0])]
        for label, qs in est.items():
            for k, q in enumerate(qs):
                s = metrics.scores(q, data["q_true"][k])
                row = {"nRMSE": s["nRMSE"], "r": s["r"], "n_obs": float(np.isfinite(q).sum()),
                       "nt": float(q.size), "empty": float(any_algo[k] and not np.isfinite(q).any())}
                rows.setdefault((river, label), []).append(row)
                rows.setdefault(("ALL", label), []).append(row)
    labels = list(dict.fromkeys(label for _, label in rows))
    head = f"{'river':<24} {'algo':<11} {'reaches':>7} {'scored':>6} {'nRMSE':>7} {'r':>6} {'cover':>6} {'empty':>5}"
    lines = [head, "-" * len(head)]
    for river in [*rivers, "ALL"]:
        for label in labels:
            rs = rows[(river, label)]
            ok = [x for x in rs if np.isfinite(x["nRMSE"])]
            nrmse = float(np.median([x["nRMSE"] for x in ok])) if ok else float("nan")
            r = float(np.median([x["r"] for x in ok if np.isfinite(x["r"])] or [np.nan]))
            cover = sum(x["n_obs"] for x in rs) / sum(x["nt"] for x in rs)
            empty = str(int(sum(x["empty"] for x in rs))) if label in RULES else ""
            lines.append(f"{river:<24} {label:<11} {len(rs):>7} {len(ok):>6} {nrmse:>7.3f} {r:>6.3f} "
                         f"{cover:>6.2f} {empty:>5}")
        lines.append("")
    lines.append("nRMSE, r: median over reaches with a score; cover: share of sampled times with an estimate;")
    lines.append("empty: reaches where the consensus gives nothing although an algorithm gives a value.")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--cache", type=Path, required=True, help="folder of the cached runs ({river}.npz)")
    parser.add_argument("--pepsi", type=Path, default=None, help="folder of the Pepsi-1 files (default: shared)")
    parser.add_argument("--every", type=int, default=10, help="sample every N-th day (as bench-accuracy)")
    parser.add_argument("--noise", action="store_true", help="SWOT-like noise (as bench-accuracy --noise)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("confluence-flpe", "confluence_flpe_neobam", "confluence-flpe.hivdi", "confluence-flpe.metroman"):
        logging.getLogger(name).setLevel(logging.WARNING)
    files = sorted((args.pepsi or default_pepsi_dir()).glob("*.nc"))
    if not files:
        print("no Pepsi-1 files found", file=sys.stderr)
        return 1
    settings = [args.every, int(args.noise), args.seed]
    for index, path in enumerate(files):  # the same river index (reach ids) as bench-accuracy
        dest = args.cache / f"{path.stem}.npz"
        if dest.exists():
            with np.load(dest) as cached:
                if cached["settings"].tolist() != settings:
                    print(f"{dest} was run with every, noise, seed = {cached['settings'].tolist()}, not "
                          f"{settings}: use another --cache", file=sys.stderr)
                    return 1
        else:
            cache_river(path, index, dest, args.every, args.noise, args.seed)
    print(score(args.cache, [p.stem for p in files]), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
