"""Pepsi-1 accuracy benchmark of the installed FLPE plug-ins (``bench-accuracy``).

Each Pepsi-1 river (Durand et al. 2016, doi:10.1002/2015WR018434) becomes the
workflow's own inputs in memory (:mod:`.pepsi`); every installed algorithm
plug-in runs on them through the registry, exactly as ``confluence-flpe``
would run it (same ``min_obs`` rule, same ``run``), and then every combiner
(consensus) on their series.  Nothing is tuned to these rivers: the
algorithms see only W, H, S, dA and priors derived from QWBM.

Scores per reach (:mod:`.metrics`: nRMSE, NSE, KGE, rBIAS, r against the true
Q on the sampled days); per river the median over its reaches; ``ALL`` is the
median over every reach of every river.  Writes to ``--out``:
``accuracy.txt`` (the table), ``accuracy.csv`` (per river),
``accuracy_reaches.csv`` (per reach) and ``hydrographs_{river}.png``.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import click
import numpy as np
from confluence_core import flpe as flpe_contract
from confluence_core import log as clog
from confluence_core.atomic import atomic_path, write_text
from confluence_core.errors import ConfluenceError

from . import metrics, registry
from .interface import Algorithm, Combiner, is_combiner
from .pepsi import PepsiReach, load_river
from .runner import ReachInput, check_obs, run_algorithm

#: One row of the score tables: names (river, algo) and numbers (counts, scores).
Row = dict[str, str | int | float]

log = logging.getLogger("confluence-flpe.bench")

#: Where the reference data live relative to this file (repo/../shared/data/pepsi1).
_REPO = Path(__file__).resolve().parents[5]


def default_pepsi_dir() -> Path:
    """``$CONFLUENCE_SHARED_DATA/pepsi1``, else ``<repo>/../shared/data/pepsi1``."""
    root = os.environ.get("CONFLUENCE_SHARED_DATA")
    return Path(root) / "pepsi1" if root else _REPO.parent / "shared" / "data" / "pepsi1"


@dataclass
class RiverRun:
    """Estimates of every algorithm on one river's reaches."""

    river: str
    reaches: list[PepsiReach]
    q: dict[str, list[np.ndarray]] = field(default_factory=dict)  # algo -> per reach q[nt]
    q_u: dict[str, list[np.ndarray | None]] = field(default_factory=dict)  # algo -> per reach q_u[nt] (m3/s)
    seconds: dict[str, float] = field(default_factory=dict)


def _run_algo(algo: Algorithm, reaches: Sequence[PepsiReach]) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
    """Run one plug-in on a river's reaches with the framework's rules (:func:`.runner.run_algorithm`:
    ``min_obs``, a reach-set algorithm gets the river's reaches in order as one set); NaN where it cannot."""
    items = [ReachInput(r.obs, r.priors) for r in reaches]
    for item in items:
        check_obs(algo, item)
    results = run_algorithm(algo, registry.fanout(algo), items)
    for r, res in zip(reaches, results, strict=True):
        if not res.valid:
            log.info("%s reach %d: %s: %s", r.river, r.reach, algo.name, res.reason)
    q = [np.where(res.valid, np.asarray(res.q, dtype=np.float64), np.nan) for res in results]
    spec = flpe_contract.algorithms().get(algo.name)  # relative q_u -> m3/s, as readers of the files get it
    q_u = [None if res.q_u is None or not res.valid else res.q_u if spec is None
           else flpe_contract.q_u_in_m3s(spec, qq, np.asarray(res.q_u, dtype=np.float64))
           for res, qq in zip(results, q, strict=True)]
    return q, q_u


def run_river(path: Path, river_index: int, algos: Sequence[Algorithm], combiners: Sequence[Combiner],
              every: int, noise: bool, seed: int, subsets: Sequence[Sequence[str]] = ()) -> RiverRun:
    """Load one Pepsi river and run the algorithms, then the combiners, on it.

    Each of ``subsets`` (algorithm names) also gets every combiner over only those algorithms,
    named ``{combiner}[a+b+c]``, so that, e.g., a three- and a six-algorithm consensus are scored
    on the same runs.
    """
    reaches = load_river(path, river_index, every=every, noise=noise, seed=seed)
    run = RiverRun(path.stem, reaches)
    for algo in algos:
        t0 = time.perf_counter()
        run.q[algo.name], run.q_u[algo.name] = _run_algo(algo, reaches)
        run.seconds[algo.name] = time.perf_counter() - t0
    names = [a.name for a in algos]
    for comb in combiners:
        for members in [names, *subsets]:
            label = comb.name if list(members) == names else f"{comb.name}[{'+'.join(members)}]"
            t0 = time.perf_counter()
            run.q[label] = [
                np.asarray(comb.combine(r.obs.reach_id, r.obs.nt, {a: run.q[a][k] for a in members},
                                        q_u={a: u for a in members if (u := run.q_u[a][k]) is not None},
                                        obs=r.obs, priors=r.priors).q, dtype=np.float64)
                for k, r in enumerate(reaches)
            ]
            run.seconds[label] = time.perf_counter() - t0
    return run


def score_rows(runs: Sequence[RiverRun]) -> tuple[list[Row], list[Row]]:
    """Per-reach rows and per-river median rows (plus ``ALL``: the median over every reach)."""
    reach_rows: list[Row] = []
    for run in runs:
        for algo, qs in run.q.items():
            for r, q in zip(run.reaches, qs, strict=True):
                reach_rows.append({"river": run.river, "reach": r.reach, "algo": algo, "nt": int(q.size),
                                   "n_obs": int(np.count_nonzero(np.isfinite(q))),
                                   **metrics.scores(q, r.q_true)})
    river_rows: list[Row] = []
    algos = list(dict.fromkeys(str(row["algo"]) for row in reach_rows))
    for river in [*(run.river for run in runs), "ALL"]:
        for algo in algos:
            rows = [x for x in reach_rows if x["algo"] == algo and river in ("ALL", x["river"])]
            scored = [x for x in rows if np.isfinite(float(x["nRMSE"]))]
            med = {k: float(np.median([float(x[k]) for x in scored])) if scored else float("nan")
                   for k in metrics.NAMES}
            times = sum(int(x["nt"]) for x in rows)
            coverage = sum(int(x["n_obs"]) for x in rows) / times if times else float("nan")
            river_rows.append({"river": river, "algo": algo, "n_reaches": len(rows),
                               "n_scored": len(scored), "coverage": coverage, **med})
    return reach_rows, river_rows


def format_table(rows: Sequence[Row], title: str) -> str:
    """A fixed-width text table of the per-river rows."""
    width = max([10, *(len(str(row["algo"])) for row in rows)])
    head = (f"{'river':<26} {'algo':<{width}} {'reaches':>7} {'scored':>6} {'cover':>6} "
            + " ".join(f"{k:>7}" for k in metrics.NAMES))
    lines = [title, head, "-" * len(head)]
    for row in rows:
        vals = " ".join(f"{float(row[k]):>7.3f}" for k in metrics.NAMES)
        lines.append(f"{row['river']!s:<26} {row['algo']!s:<{width}} {row['n_reaches']!s:>7} "
                     f"{row['n_scored']!s:>6} {float(row['coverage']):>6.2f} {vals}")
    lines.append("cover: the share of sampled times with an estimate (valid reaches and times)")
    return "\n".join(lines) + "\n"


def _csv(rows: Sequence[Row]) -> str:
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    return buf.getvalue()


def plot_river(run: RiverRun, dest: Path, title: str) -> None:
    """PNG of estimated vs true hydrographs, one panel per reach (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(run.reaches)
    ncol = min(4, n)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol, 2.4 * nrow), squeeze=False, sharex=True)
    for k, r in enumerate(run.reaches):
        ax = axes.flat[k]
        days = (r.obs.time - r.obs.time[0]) / 86400.0
        ax.plot(days, r.q_true, "k-", lw=1.5, label="true")
        for algo, qs in run.q.items():
            ax.plot(days, qs[k], ".-", lw=0.8, ms=3, label=algo)
        ax.set_title(f"reach {r.reach}", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=6)
    fig.supxlabel("day", fontsize=8)
    fig.supylabel("Q (m3/s)", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(dest) as tmp:
        fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)


def benchmark(files: Sequence[Path], every: int = 10, noise: bool = False, seed: int = 0,
              algos: Sequence[str] = (), out: Path | None = None,
              plots: bool = True, subsets: Sequence[Sequence[str]] = ()) -> tuple[str, list[Row]]:
    """Run the benchmark; return the text table and the per-river rows (and write ``out``).

    ``subsets``: algorithm-name lists whose combiner rows are added (see :func:`run_river`).
    """
    chosen = [registry.get(a) for a in algos] if algos else registry.algorithms()
    plugins = [a for a in chosen if not is_combiner(a)]
    combs = [a for a in chosen if is_combiner(a)] if algos else registry.combiners()
    if not plugins:
        raise ConfluenceError("no FLPE algorithm to benchmark (install a plug-in or give --algos)")
    for members in subsets:
        unknown = sorted(set(members) - {p.name for p in plugins})
        if unknown:
            raise ConfluenceError(f"--consensus-of names algorithms that are not benchmarked: {', '.join(unknown)}")
    runs = [run_river(Path(f), i, plugins, combs, every, noise, seed, subsets) for i, f in enumerate(files)]
    reach_rows, river_rows = score_rows(runs)
    noise_text = f"SWOT-like noise (seed {seed})" if noise else "no noise"
    title = f"Pepsi-1 accuracy: every {every} day(s), {noise_text}; median over reaches"
    table = format_table(river_rows, title)
    secs = {a: sum(r.seconds.get(a, 0.0) for r in runs) for a in runs[0].seconds} if runs else {}
    nreach = sum(len(r.reaches) for r in runs)
    table += "run time: " + ", ".join(f"{a} {s / max(nreach, 1) * 1000:.1f} ms/reach" for a, s in secs.items()) + "\n"
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_text(out / "accuracy.txt", table)
        write_text(out / "accuracy.csv", _csv(river_rows))
        write_text(out / "accuracy_reaches.csv", _csv(reach_rows))
        if plots:
            for run in runs:
                plot_river(run, out / f"hydrographs_{run.river}.png", f"{run.river}: {title}")
    return table, river_rows


@click.command("bench-accuracy", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("pepsi_files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--every", type=click.IntRange(min=1), default=10, show_default=True,
              help="Sample every N-th day of the daily truth (1 daily, 10 SWOT-like).")
@click.option("--noise/--no-noise", default=False, show_default=True, help="Add SWOT-like errors to W, H, S.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the noise.")
@click.option("--algos", default="", help="Comma-separated plug-ins (default: every installed one).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("bench-accuracy"),
              show_default=True, help="Folder for the table, CSVs and plots.")
@click.option("--no-plots", is_flag=True, help="Skip the PNG hydrographs.")
@click.option("--consensus-of", "consensus_of", multiple=True, metavar="A,B,C",
              help="Also score the consensus of only these algorithms (repeatable), e.g. momma,metroman,neobam.")
@click.option("--verbose", "-v", is_flag=True, help="Debug logging.")
def bench_accuracy(pepsi_files: tuple[Path, ...], every: int, noise: bool, seed: int, algos: str,
                   out: Path, no_plots: bool, consensus_of: tuple[str, ...], verbose: bool) -> None:
    """Score the installed FLPE algorithms (and consensus) on Pepsi-1 rivers (default: all)."""
    clog.setup("confluence-flpe.bench", verbose)
    try:
        files = list(pepsi_files) or sorted(default_pepsi_dir().glob("*.nc"))
        if not files:
            raise ConfluenceError("no Pepsi-1 files given and none found", default_pepsi_dir())
        names = [a.strip() for a in algos.split(",") if a.strip()]
        subsets = [[a.strip() for a in spec.split(",") if a.strip()] for spec in consensus_of]
        table, _ = benchmark(files, every, noise, seed, names, out, plots=not no_plots, subsets=subsets)
    except ConfluenceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(table, nl=False)
    click.echo(f"written: {out}/accuracy.txt, accuracy.csv, accuracy_reaches.csv"
               + ("" if no_plots else ", hydrographs_*.png"))


if __name__ == "__main__":
    bench_accuracy()
