"""Mean-flow priors without a model or a gauge, scored on the eight Pepsi-1 rivers.

For a run with no SoS model priors (e.g. ``confluence run --source hydrocron``)
datagen derives the mean-flow prior from the SWOT observations themselves
(:func:`confluence_datagen.hydrocron.mean_flow_prior`).  This script compares
the candidate relations, each a published one with no parameter fitted here:

* ``width``: ``Q = (W50 / 7.2)^2``, Moody & Troutman (2002) ``W = 7.2 Q^0.50``
  inverted (doi:10.1002/esp.403).
  This is what datagen implements (evaluated through its own function).
* ``manning_mtD``: Manning's equation ``Q = W D^(5/3) S^(1/2) / n`` (wide
  channel, hydraulic radius = mean depth D) with the Moody & Troutman mean
  depth ``D = 0.27 Q^0.39`` at the width-implied flow ``(W / 7.2)^2`` and
  ``n`` from Chow (1959, Open-Channel Hydraulics, table 5-6): 0.030 for
  natural streams over 30 m wide, else 0.035 (the hats of the priors step).
* ``manning_solved``: the same Manning equation solved for Q with
  ``D = 0.27 Q^0.39``: ``Q = (0.27^(5/3) W S^(1/2) / n)^(1 / 0.35)``.
* ``manning_mtV``: continuity ``Q = W D V`` with the Moody & Troutman mean
  velocity ``V = 0.52 Q^0.12`` at the width-implied flow and the depth that
  Manning gives for that velocity, ``D = (V n / S^(1/2))^(3/2)``.

Per Pepsi-1 river (Durand et al. 2016, doi:10.1002/2015WR018434), for each
reach fit for use (``gdrch``): ``W50``, ``S50`` = medians over the daily
``Reach_Timeseries``; ratio = prior / mean of the true ``Q`` of that reach;
the river's ratio is the geometric mean over its reaches.  ``QWBM`` (the
water-balance model prior of the challenge) is shown as QWBM / the mean true
Q of the good reaches.  The pick is the candidate with the smallest median
|ln ratio| over the rivers.  The Kobuk (or any gauge the workflow validates
against) plays no part in this choice.

    .venv/bin/python bench/noprior_eval.py [PEPSI1_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import netCDF4
import numpy as np
from confluence_datagen.hydrocron import mean_flow_prior

PEPSI = Path(__file__).resolve().parents[2] / "shared" / "data" / "pepsi1"
#: Moody & Troutman (2002) at mean flow: W = 7.2 Q^0.50, D = 0.27 Q^0.39, V = 0.52 Q^0.12 (m, m/s, m3/s).
MT_W, MT_WB, MT_D, MT_DF, MT_V, MT_VM = 7.2, 0.50, 0.27, 0.39, 0.52, 0.12


def chow_n(w: np.ndarray) -> np.ndarray:
    """Typical Manning's n of a natural channel of top width ``w`` (m): Chow (1959) table 5-6."""
    return np.where(w >= 30.0, 0.030, 0.035)


def width_only(w: np.ndarray, s: np.ndarray) -> np.ndarray:
    """The implemented prior, reach by reach."""
    return np.array([mean_flow_prior(np.array([x])) for x in np.ravel(w)])


def manning_mt_depth(w: np.ndarray, s: np.ndarray) -> np.ndarray:
    depth = MT_D * ((w / MT_W) ** (1.0 / MT_WB)) ** MT_DF
    return w * depth ** (5.0 / 3.0) * np.sqrt(s) / chow_n(w)


def manning_solved(w: np.ndarray, s: np.ndarray) -> np.ndarray:
    k = MT_D ** (5.0 / 3.0) * w * np.sqrt(s) / chow_n(w)
    return k ** (1.0 / (1.0 - 5.0 / 3.0 * MT_DF))


def manning_mt_velocity(w: np.ndarray, s: np.ndarray) -> np.ndarray:
    v = MT_V * ((w / MT_W) ** (1.0 / MT_WB)) ** MT_VM
    depth = (v * chow_n(w) / np.sqrt(s)) ** 1.5
    return w * depth * v


CANDIDATES = {
    "width": width_only,
    "manning_mtD": manning_mt_depth,
    "manning_solved": manning_solved,
    "manning_mtV": manning_mt_velocity,
}


def river_ratios(path: Path) -> dict[str, float]:
    """Prior / true mean Q for each candidate and for QWBM on one Pepsi-1 river."""
    with netCDF4.Dataset(path) as ds:
        ds.set_auto_mask(False)
        rt, info = ds["Reach_Timeseries"], ds["River_Info"]
        w, s, q = (np.asarray(rt[v][:], dtype=np.float64) for v in ("W", "S", "Q"))
        good = np.asarray(info["gdrch"][:]).astype(int).ravel() - 1
        qwbm = float(np.ravel(info["QWBM"][:])[0])
    w50 = np.nanmedian(w[:, good], axis=0)
    s50 = np.nanmedian(s[:, good], axis=0)
    qtrue = np.nanmean(q[:, good], axis=0)
    out = {name: float(np.exp(np.mean(np.log(f(w50, s50) / qtrue)))) for name, f in CANDIDATES.items()}
    out["QWBM"] = qwbm / float(np.mean(qtrue))
    out["true_Q"] = float(np.mean(qtrue))
    return out


def main(folder: Path = PEPSI) -> str:
    files = sorted(folder.glob("*.nc"))
    if not files:
        raise SystemExit(f"no Pepsi-1 files in {folder}")
    names = [*CANDIDATES, "QWBM"]
    rows = {f.stem: river_ratios(f) for f in files}
    lines = ["| river | true mean Q (m3/s) | " + " | ".join(f"{n} / true" for n in names) + " |",
             "|---|---:|" + "---:|" * len(names)]
    for river, r in rows.items():
        lines.append(f"| {river} | {r['true_Q']:.0f} | " + " | ".join(f"{r[n]:.2f}" for n in names) + " |")
    med = {n: float(np.median([abs(np.log(r[n])) for r in rows.values()])) for n in names}
    lines.append("| median abs(ln ratio) | | " + " | ".join(f"{med[n]:.2f}" for n in names) + " |")
    lines.append("| median ratio | | " + " | ".join(
        f"{np.exp(np.median([np.log(r[n]) for r in rows.values()])):.2f}" for n in names) + " |")
    best = min(CANDIDATES, key=med.get)
    lines.append(f"\npick (smallest median |ln ratio| among the candidates): {best}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else PEPSI))
