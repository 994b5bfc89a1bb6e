"""Coverage of prediagnostics' outlier test on the Pepsi-1 rivers: how much clean data it keeps.

Usage: ``python bench/prediag_coverage.py [--noise] [--every N] [--data DIR]``

Every Pepsi-1 river (``/work/shared/data/pepsi1/*.nc``) is loaded with
``confluence_flpe.pepsi.load_river`` (``every=10`` days, SWOT-like noise only
with ``--noise``) and its reach and node width / WSE / slope go through
``confluence_prediagnostics.checks.prediagnose`` with the default
thresholds.  Pepsi has no quality fields, so the quality checks are skipped and
what is measured is the outlier test alone.  Coverage is the share of
observations kept:

- reach: passes whose width, WSE and slope all survive (what a flow law needs);
- node: node observations whose width and WSE both survive.

For comparison the public workflow's Tukey 1.5 IQR fences
(``confluence_prediagnostics.outliers.tukey_outliers`` on width, WSE and
slope, as the step did before) are scored the same way.  On noise-free data
every observation is true, so anything removed is a false removal.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from confluence_flpe.interface import ReachObs
from confluence_flpe.pepsi import load_river
from confluence_prediagnostics.checks import prediagnose
from confluence_prediagnostics.config import Thresholds
from confluence_prediagnostics.outliers import tukey_outliers

DATA = Path("/work/shared/data/pepsi1")


def _fields(obs: ReachObs) -> tuple[dict[str, np.ndarray | None], dict[str, np.ndarray | None]]:
    reach = {name: getattr(obs, name) for name in ("width", "wse", "slope", "width_u", "wse_u", "slope_u")}
    node = {"width": obs.node_width, "wse": obs.node_wse}
    return reach, node


def _score(reach: dict[str, np.ndarray | None], node: dict[str, np.ndarray | None],
           cfg: Thresholds) -> tuple[int, int, int, int, int, int]:
    """(reach observed, kept by the step, kept by Tukey, node observed, kept by the step, kept by Tukey)."""
    nt = int(np.asarray(reach["width"]).shape[0])
    nx = 0 if node["width"] is None else int(np.shape(node["width"])[0])
    node_in = {k: v for k, v in node.items() if v is not None}
    out = prediagnose(reach, node_in, cfg, nt=nt, nx=nx)
    need = ("width", "wse", "slope")
    r_obs = np.logical_and.reduce([np.isfinite(np.asarray(reach[v])) for v in need])
    r_ours = r_obs & ~np.logical_or.reduce([out.reach_removed[v] for v in need])
    r_tukey = r_obs & ~np.logical_or.reduce([tukey_outliers(np.asarray(reach[v])) for v in need])
    if nx == 0:
        return int(r_obs.sum()), int(r_ours.sum()), int(r_tukey.sum()), 0, 0, 0
    nw, nh = np.asarray(node["width"]), np.asarray(node["wse"])
    n_obs = np.isfinite(nw) & np.isfinite(nh)
    n_ours = n_obs & ~out.node_removed["width"] & ~out.node_removed["wse"]
    n_tukey = n_obs & ~tukey_outliers(nw) & ~tukey_outliers(nh)
    return (int(r_obs.sum()), int(r_ours.sum()), int(r_tukey.sum()),
            int(n_obs.sum()), int(n_ours.sum()), int(n_tukey.sum()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--noise", action="store_true", help="add Pepsi's SWOT-like noise (seed 0)")
    parser.add_argument("--every", type=int, default=10, help="sampling interval, days (default 10)")
    parser.add_argument("--data", type=Path, default=DATA, help="folder of Pepsi-1 *.nc files")
    args = parser.parse_args()
    cfg = Thresholds()
    files = sorted(args.data.glob("*.nc"))
    if not files:
        raise SystemExit(f"no Pepsi-1 files in {args.data}")
    print(f"prediagnostics outlier test on Pepsi-1, every {args.every} days, noise {'on' if args.noise else 'off'}")
    print(f"{'river':<24} {'reaches':>7} {'passes':>7} {'reach cov':>9} {'Tukey':>7} "
          f"{'node obs':>9} {'node cov':>9} {'Tukey':>7}")
    total = np.zeros(6, dtype=np.int64)
    for i, path in enumerate(files):
        tally = np.zeros(6, dtype=np.int64)
        reaches = load_river(path, river_index=i, every=args.every, noise=args.noise)
        for pr in reaches:
            tally += np.array(_score(*_fields(pr.obs), cfg))
        total += tally
        print(_row(path.stem, len(reaches), tally))
    print(_row("all rivers", -1, total))


def _row(name: str, n_reaches: int, t: np.ndarray) -> str:
    def share(kept: int, seen: int) -> str:
        return f"{kept / seen:.4f}" if seen else "-"

    reaches = "" if n_reaches < 0 else str(n_reaches)
    return (f"{name:<24} {reaches:>7} {t[0]:>7} {share(t[1], t[0]):>9} {share(t[2], t[0]):>7} "
            f"{t[3]:>9} {share(t[4], t[3]):>9} {share(t[5], t[3]):>7}")


if __name__ == "__main__":
    main()
