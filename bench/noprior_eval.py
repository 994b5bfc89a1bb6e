"""Mean-flow priors without a model or a gauge: every candidate on Pepsi-1, the demo world and the Kobuk.

For a run with no SoS (``confluence run --source hydrocron`` or a folder of
Hydrocron answers) datagen's stand-in SoS takes its mean flow from the SWOT
observations alone (:mod:`confluence_datagen.hydrocron.prior`).  This script
scores each candidate, all published relations with no parameter fitted here
(formulas and citations in that module's docstring), on three data sets:

* **pepsi**: the eight Pepsi-1 rivers (Durand et al. 2016, doi:10.1002/2015WR018434),
  each reach fit for use (``gdrch``): daily ``W``, ``S`` (no quality flag), true
  ``Q``; the chain is the river's good reaches in order.
* **demo**: the demo world (``confluence demo DIR``; generated into a temporary
  folder unless a folder is given): the Reach granules' ``width``, ``slope2``,
  ``reach_q`` per river reach (type 1), SWORD ``n_chan_mod``, true mean flow
  from ``truth/truth.nc``; chain from the id order, as a run without SWORD assumes.
* **kobuk**: the five real Kobuk reaches (Hydrocron answers, read by datagen's
  own checker); truth = the mean of USGS 15744500 (Kobuk R nr Kiana) daily flow
  over the SWOT period (first to last observed day); chain from the id order.

Candidates (``+chain``: the median over the river reaches within 2 reaches
along a junction-free chain, continuity):

* ``width_w50``: ``(W50 / 7.2)^2``, Moody & Troutman (2002) at the median width
  of the good passes: the former prior.
* ``width_w25``, ``width_w10``: the same at the 25th / 10th percentile width
  (per channel when SWORD gives ``n_chan_mod``).
* ``manning_mtD``, ``manning_solved``, ``manning_mtV``: Manning's equation with
  Chow's n and the Moody & Troutman depth / velocity (at the 10th percentile width).

Score: ``|ln(prior / true mean flow)|`` per reach; per data set the median and
the worst; the pick is the candidate with the smallest worst case over the three
data sets (then the smallest median).  ``sd_ln`` (the stated uncertainty, the
spread of the candidates) is checked for coverage: the share of reaches with
``|ln ratio| <= sd_ln`` and ``<= 2 sd_ln``.  Nothing here is fitted: the
Kobuk gauge and the Pepsi truth only score.

    .venv/bin/python bench/noprior_eval.py [--pepsi DIR] [--demo DIR] [--kobuk DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
from confluence_core import ids, ncio, riversp
from confluence_core.network import RiverNetwork
from confluence_datagen.hydrocron import collect, folder_reaches
from confluence_datagen.hydrocron import prior as hp

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
BASE = ("width_w50", "width_w25", "width_w10", "manning_mtD", "manning_solved", "manning_mtV")
CHAINED = ("width_w50", "width_w25", "width_w10")
PICKED = f"{hp.PRIOR}+chain"


@dataclass
class DataSet:
    """Reaches of one data set: inputs, truth, chain windows, which reaches are scored."""

    name: str
    group: list[str]
    reach_id: list[int]
    candidates: list[dict[str, float]]
    true_q: np.ndarray
    windows: list[list[int]]
    river: np.ndarray  # type-1 reaches: scored and lending their estimate to neighbours


def _line_windows(groups: list[str]) -> list[list[int]]:
    """Windows of chains made of consecutive entries of the same group."""
    n = len(groups)
    up = np.array([[i + 1] if i + 1 < n and groups[i + 1] == groups[i] else [-1] for i in range(n)])
    dn = np.array([[i - 1] if i > 0 and groups[i - 1] == groups[i] else [-1] for i in range(n)])
    return hp.chain_windows(up, dn)


def pepsi(folder: Path) -> DataSet:
    groups, rids, cands, truth = [], [], [], []
    for path in sorted(folder.glob("*.nc")):
        with netCDF4.Dataset(path) as ds:
            ds.set_auto_mask(False)
            rt = ds["Reach_Timeseries"]
            w, s, q = (np.asarray(rt[v][:], dtype=np.float64) for v in ("W", "S", "Q"))
            good = np.asarray(ds["River_Info/gdrch"][:]).astype(int).ravel() - 1
        for j in good:
            groups.append(path.stem)
            rids.append(int(j) + 1)
            cands.append(hp.candidate_priors(w[:, j], s[:, j]))
            truth.append(float(np.nanmean(q[:, j])))
    if not groups:
        raise SystemExit(f"no Pepsi-1 files in {folder}")
    return DataSet("pepsi", groups, rids, cands, np.array(truth), _line_windows(groups),
                   np.ones(len(groups), bool))


def demo(folder: Path | None) -> DataSet:
    if folder is None:
        from confluence_demo import generate

        with tempfile.TemporaryDirectory(prefix="noprior-demo-") as tmp:
            generate(Path(tmp), kind="demo")
            return demo(Path(tmp))
    with netCDF4.Dataset(folder / "truth" / "truth.nc") as ds:
        rid = np.asarray(ds["reaches/reach_id"][:], dtype=np.int64)
        mean_q = np.asarray(ds["reaches/mean_q"][:], dtype=np.float64)
    cols = ("reach_id", "width", "slope2", "reach_q")
    frames = []
    for z in sorted((folder / "granules").glob("*_Reach_*.zip")):
        data, _ = riversp.read_granule(z, columns=list(cols))
        frames.append(pd.DataFrame({c: np.asarray(data[c]) for c in cols}))
    obs = pd.concat(frames, ignore_index=True)
    obs = obs.mask(obs <= -1e11)
    n_chan: dict[int, float] = {}
    for sw in sorted((folder / "sword").glob("*_sword_v*.nc")):
        with ncio.open_dataset(sw) as ds:
            r = np.asarray(ds["reaches/reach_id"][:], dtype=np.int64)
            nc = ncio.read_float(ds["reaches"], "n_chan_mod")
            n_chan.update(zip(r.tolist(), (np.ones(r.size) if nc is None else nc).tolist(), strict=True))
    net = RiverNetwork.from_id_order(rid)
    order = {int(r): i for i, r in enumerate(net.reach_id)}
    cands: list[dict[str, float]] = [{}] * net.n
    for r in rid.tolist():
        o = obs[obs.reach_id == r]
        cands[order[r]] = hp.candidate_priors(o.width.to_numpy(float), o.slope2.to_numpy(float),
                                              o.reach_q.to_numpy(float), n_chan.get(r, 1.0))
    truth = np.array([mean_q[rid == r][0] for r in net.reach_id])
    river = np.array([ids.is_river(int(r)) for r in net.reach_id])
    return DataSet("demo", [str(r)[:6] for r in net.reach_id], net.reach_id.tolist(), cands, truth,
                   hp.chain_windows(net.up_index(), net.dn_index()), river)


def kobuk(folder: Path) -> DataSet:
    saved = folder_reaches(folder / "reaches")
    records, failed = collect(sorted(saved), folder / "reaches", None, "", "")
    if failed or not records:
        raise SystemExit(f"Kobuk answers unusable: {failed or 'none found'}")
    net = RiverNetwork.from_id_order(records)
    cands = []
    days = []
    for r in net.reach_id.tolist():
        rec = records[r]
        slope = rec.columns.get("slope2", rec.columns.get("slope"))
        cands.append(hp.candidate_priors(rec.width, slope, rec.reach_q))
        days.append(rec.time[np.isfinite(rec.time)])
    t = np.concatenate(days)
    first, last = (pd.Timestamp("2000-01-01") + pd.to_timedelta(x, unit="s") for x in (t.min(), t.max()))
    gauge = pd.read_csv(folder / "usgs_15744500_daily.csv", dtype={"time_local": str})
    day = pd.to_datetime(gauge.time_local)
    # the gauge days are Alaska local days (UTC-9)
    sel = (day >= (first - pd.Timedelta(hours=9)).normalize()) & (day <= (last - pd.Timedelta(hours=9)).normalize())
    q = float(gauge.q_cms[sel].mean())
    print(f"Kobuk truth: USGS 15744500 mean {q:.0f} m3/s over {int(sel.sum())} days "
          f"{day[sel].min():%Y-%m-%d} .. {day[sel].max():%Y-%m-%d} (whole file: {gauge.q_cms.mean():.0f})")
    return DataSet("kobuk", ["Kobuk"] * net.n, net.reach_id.tolist(), cands, np.full(net.n, q),
                   hp.chain_windows(net.up_index(), net.dn_index()), np.ones(net.n, bool))


def estimates(ds: DataSet) -> dict[str, np.ndarray]:
    """Every candidate's prior per reach, with and without the chain median; and the picked prior's sd."""
    out = {k: np.array([c[k] for c in ds.candidates]) for k in BASE}
    for k in CHAINED:
        out[f"{k}+chain"] = hp.chain_median(out[k], ds.windows, ds.river)
    q, sd = hp.mean_flow_priors(ds.candidates, ds.windows, ds.river)
    assert np.allclose(q, out[PICKED], equal_nan=True)  # the script scores datagen's own function
    out["sd_ln"] = sd
    return out


def score(ds: DataSet, est: dict[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    out = {}
    for k, v in est.items():
        if k == "sd_ln":
            continue
        err = np.abs(np.log(v[ds.river] / ds.true_q[ds.river]))
        out[k] = (float(np.nanmedian(err)), float(np.nanmax(err)) if np.isfinite(err).all() else float("inf"))
    return out


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pepsi", type=Path, default=SHARED / "pepsi1")
    ap.add_argument("--demo", type=Path, default=None, help="a demo world folder (default: generate one)")
    ap.add_argument("--kobuk", type=Path, default=SHARED / "real_swot_kobuk")
    args = ap.parse_args(argv)
    sets = [pepsi(args.pepsi), demo(args.demo), kobuk(args.kobuk)]
    ests = {ds.name: estimates(ds) for ds in sets}
    scores = {ds.name: score(ds, ests[ds.name]) for ds in sets}
    names = list(scores["pepsi"])
    lines = ["| candidate | " + " | ".join(f"{ds.name} ({int(ds.river.sum())}) median / worst" for ds in sets)
             + " | worst of all |", "|---|" + "---:|" * (len(sets) + 1)]
    worst = {k: max(scores[ds.name][k][1] for ds in sets) for k in names}
    for k in names:
        cells = " | ".join(f"{scores[ds.name][k][0]:.2f} / {scores[ds.name][k][1]:.2f}" for ds in sets)
        lines.append(f"| {k} | {cells} | {worst[k]:.2f} |")
    best = min(names, key=lambda k: (round(worst[k], 2), np.median([scores[d.name][k][0] for d in sets])))
    lines.append(f"\n|ln(prior / true mean flow)| per river reach (type 1); (n) reaches scored. "
                 f"Pick by the worst case over the data sets: {best} (implemented: {PICKED})")
    lines.append("\nStated uncertainty sd_ln of the implemented prior (sqrt(ln 2) and the spread of the candidates):")
    lines.append("| data set | median sd_ln | share with abs(ln ratio) <= sd_ln | <= 2 sd_ln |")
    lines.append("|---|---:|---:|---:|")
    for ds in sets:
        e = ests[ds.name]
        err = np.abs(np.log(e[PICKED] / ds.true_q))[ds.river]
        sd = e["sd_ln"][ds.river]
        share1, share2 = np.mean(err <= sd), np.mean(err <= 2 * sd)
        lines.append(f"| {ds.name} | {np.nanmedian(sd):.2f} | {share1:.2f} | {share2:.2f} |")
    lines.append("\nPer river / reach, prior / true (implemented prior; former prior width_w50; "
                 "Pepsi QWBM for reference):")
    lines.append(f"| data set | river | true mean Q | {PICKED} / true | sd_ln | width_w50 / true |")
    lines.append("|---|---|---:|---:|---:|---:|")
    for ds in sets:
        e = ests[ds.name]
        frame = pd.DataFrame({"g": ds.group, "r": ds.reach_id, "t": ds.true_q, "p": e[PICKED], "o": e["width_w50"],
                              "sd": e["sd_ln"], "river": ds.river})
        frame = frame[frame.river]
        key: Callable[[pd.DataFrame], object] = (lambda f: f.g) if ds.name != "kobuk" else (lambda f: f.r)
        for name, f in frame.groupby(key(frame), sort=False):
            gm = float(np.exp(np.mean(np.log(f.p / f.t))))
            go = float(np.exp(np.mean(np.log(f.o / f.t))))
            lines.append(f"| {ds.name} | {name} | {f.t.mean():.0f} | {gm:.2f} | {f.sd.median():.2f} | {go:.2f} |")
    lines.append(_qwbm(args.pepsi))
    return "\n".join(lines)


def _qwbm(folder: Path) -> str:
    ratios = []
    for path in sorted(folder.glob("*.nc")):
        with netCDF4.Dataset(path) as ds:
            ds.set_auto_mask(False)
            good = np.asarray(ds["River_Info/gdrch"][:]).astype(int).ravel() - 1
            q = np.asarray(ds["Reach_Timeseries/Q"][:], dtype=np.float64)[:, good]
            ratios.append(float(np.ravel(ds["River_Info/QWBM"][:])[0]) / float(np.nanmean(q)))
    err = np.abs(np.log(ratios))
    return (f"\nFor reference, the Pepsi-1 water-balance-model prior QWBM / true (per river): median |ln| "
            f"{np.median(err):.2f}, worst {np.max(err):.2f}.")


if __name__ == "__main__":
    print(main())
