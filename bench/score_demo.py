"""Score a finished demo-world run against the world's truth.

Usage: ``python bench/score_demo.py RUN_DIR`` (a run folder of
``confluence run --local`` on the built-in demo world; the world is in
``RUN_DIR/demo``).  Prints (1) prediagnostics precision / recall of the
planted bad reach observations and the share of good observations kept, and
(2) per FLPE algorithm and consensus, nRMSE / r / bias against the true
discharge at the observation times, as medians over type-1 reaches, for the
FLPE product, its MOI product (``moi/{reach}_integrator.nc``, group ``q``) and
its offline product (``offline/{reach}_offline.nc``, ``{prefix}_q_uc`` or
``_q_c``, the run's branch), each over the reaches where that product has a
result.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import netCDF4
import numpy as np
from confluence_core import flpe, integrator, ncio, scores


def truth_obs(world: Path) -> dict[int, dict[str, np.ndarray]]:
    with netCDF4.Dataset(world / "truth" / "truth.nc") as ds:
        g = ds["reach_obs"]
        rid = np.asarray(g["reach_id"][:], dtype=np.int64)
        data = {k: np.ma.filled(g[k][:], np.nan) for k in ("time", "true_q", "planted_bad", "xtrk_outside")}
    out = {}
    for r in np.unique(rid):
        sel = rid == r
        out[int(r)] = {k: np.asarray(v[sel], dtype=float) for k, v in data.items()}
    return out


def match(times: np.ndarray, truth_times: np.ndarray) -> np.ndarray:
    """Index into the truth for every time (-1 where none within 2 s)."""
    idx = np.searchsorted(truth_times, times).clip(1, len(truth_times) - 1)
    near = np.where(np.abs(truth_times[idx - 1] - times) < np.abs(truth_times[idx] - times), idx - 1, idx)
    ok = np.isfinite(times) & (np.abs(truth_times[near] - times) <= 2)
    return np.where(ok, near, -1)


def main(run: Path) -> None:
    world = run / "demo"
    truth = truth_obs(world)
    manifest = json.loads((world / "manifest.json").read_text())
    rivers = [int(r) for r in manifest.get("type1_reach_ids", [])] or [r for r in truth if r % 10 == 1]
    tp = fp = fn = kept_good = good = 0
    series: dict[str, list[tuple[float, float, float]]] = {}
    specs = {**flpe.algorithms(), "consensus": flpe.consensus()}
    for rid in sorted(truth):
        path = run / "input" / "swot" / f"{rid}_SWOT.nc"
        if not path.exists() or rid not in rivers:
            # dam and lake reaches are short by design: the p_length check rightly removes them
            continue
        with ncio.open_dataset(path) as ds:
            t = ncio.read_float(ds["reach"], "time")
            now = np.isfinite(ncio.read_float(ds["reach"], "wse")) & np.isfinite(ncio.read_float(ds["reach"], "width"))
            orig_grp = ncio.get_group(ds, "original/reach")
            if orig_grp is None:
                orig = now
            else:
                orig = np.isfinite(ncio.read_float(orig_grp, "wse")) & np.isfinite(ncio.read_float(orig_grp, "width"))
        tt = truth[rid]
        order = np.argsort(tt["time"])
        m = match(t, tt["time"][order])
        sel = (m >= 0) & orig
        bad = tt["planted_bad"][order][m[sel]] > 0
        removed = ~now[sel]
        tp += int((removed & bad).sum())
        fp += int((removed & ~bad).sum())
        fn += int((~removed & bad).sum())
        good_mask = ~bad & (tt["xtrk_outside"][order][m[sel]] == 0)
        good += int(good_mask.sum())
        kept_good += int((~removed & good_mask).sum())
        true_q = np.where(m >= 0, tt["true_q"][order][m.clip(0)], np.nan)
        for (name, product), q in products(run, rid, specs).items():
            if q.shape != true_q.shape:
                continue
            ok = np.isfinite(q) & np.isfinite(true_q)
            if ok.sum() < 3:
                continue
            got = scores.all_scores(q[ok], true_q[ok])
            series.setdefault(f"{name} {product}", []).append((float(got["nrmse"]), float(got["r"]),
                                                               float(got["nbias"])))
    print("prediagnostics on planted bad reach observations of type-1 reaches:")
    print(f"  precision {tp / max(tp + fp, 1):.3f}  recall {tp / max(tp + fn, 1):.3f}  "
          f"good kept {kept_good / max(good, 1):.3f}  (removed {tp + fp}, planted {tp + fn})")
    print(f"FLPE vs truth on {len(rivers)} type-1 reaches (medians over reaches with a result):")
    print(f"  {'algorithm product':<20} {'reaches':>7} {'nRMSE':>7} {'r':>6} {'bias':>7}")
    for name, rows in sorted(series.items()):
        arr = np.array(rows)
        print(f"  {name:<20} {len(rows):>7} {np.median(arr[:, 0]):>7.3f} {np.nanmedian(arr[:, 1]):>6.3f} "
              f"{np.median(arr[:, 2]):>7.3f}")


def products(run: Path, rid: int, specs: dict[str, flpe.FlpeOutput]) -> dict[tuple[str, str], np.ndarray]:
    """Every product of a reach: (algorithm, "flpe" | "moi" | "offline") -> discharge (m3/s)."""
    out: dict[tuple[str, str], np.ndarray] = {}
    groups = integrator.read_integrator(run / "moi" / f"{rid}_integrator.nc") or {}
    off = run / "offline" / f"{rid}_offline.nc"
    offline: dict[str, np.ndarray] = {}
    if off.exists():
        with ncio.open_dataset(off) as ds:
            # the run's branch; a file from before branches holds the MOI-scaled series in _q_c
            branch = ds.getncattr("branch") if "branch" in ds.ncattrs() else "constrained"
            kind = "c" if branch == "constrained" else "uc"
            offline = {v.removesuffix(f"_q_{kind}"): ncio.read_float(ds, v) for v in ds.variables
                       if v.endswith(f"_q_{kind}")}
    for name, spec in specs.items():
        res = flpe.read_result(spec, run / "flpe", rid)
        if res is not None and res.valid:
            out[(name, "flpe")] = res.q
        if spec.moi and spec.moi in groups and groups[spec.moi].valid:
            out[(name, "moi")] = groups[spec.moi].q
        if spec.offline and spec.offline in offline:
            out[(name, "offline")] = offline[spec.offline]
    return out


if __name__ == "__main__":
    main(Path(sys.argv[1]))
