"""The must-show test: on the demo world, the module's statistics equal an independent computation.

The demo world (``confluence_demo.generate``) has validation gauges (CAL 0) in its SoS files and
its truth: every reach observation's time and true discharge (``truth/truth.nc``, group
``reach_obs``).  From the truth we build the SWOT time axis and product files with known errors
(momma = 1.15 x truth with gaps, consensus = truth x a wave, MOI = 0.8 x truth, offline constrained
= truth), run ``confluence-validation`` on every reach, and recompute every statistic here another
way: gauge values from the world's gauge archive ``gauges/gauges.csv`` (text dates), observation
dates from ``time_str`` with ``datetime``, a dictionary merge on dates, and the textbook formulas
with the standard library's ``statistics``.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import shutil
import statistics as st
from collections import defaultdict
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from validation_builders import write_nt_file, write_reaches, write_swot

#: Known multiplicative errors of the products built from the truth, per product name.
ERRORS = {"momma": 1.15, "moi_momma": 0.8, "offline_momma_c": 1.0}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from confluence_demo import generate

    out = tmp_path_factory.mktemp("world")
    generate(out)
    return out


def _truth(world: Path) -> dict[int, dict[str, np.ndarray]]:
    with netCDF4.Dataset(world / "truth" / "truth.nc") as ds:
        g = ds["reach_obs"]
        rid, time, q = g["reach_id"][:], np.ma.filled(g["time"][:], np.nan), np.ma.filled(g["true_q"][:], np.nan)
        stamps = np.asarray(g["time_str"][:], dtype=object)
    return {int(r): {"time": time[rid == r], "q": q[rid == r], "time_str": stamps[rid == r]} for r in np.unique(rid)}


def _estimates(q: np.ndarray) -> dict[str, np.ndarray]:
    """The product series made from the truth at the observations (same recipe as the files)."""
    i = np.arange(q.size)
    momma = np.where(i % 7 == 3, np.nan, ERRORS["momma"] * q)  # gaps
    return {"momma": momma, "consensus": q * (1.0 + 0.25 * np.sin(i)),
            "moi_momma": ERRORS["moi_momma"] * q, "offline_momma_c": q}


def _build_run(world: Path, mnt: Path) -> list[dict]:
    manifest = json.loads((world / "manifest.json").read_text())
    (mnt / "input" / "sos").mkdir(parents=True, exist_ok=True)
    for p in (world / "sos").iterdir():
        shutil.copyfile(p, mnt / "input" / "sos" / p.name)
    truth = _truth(world)
    gauges = [g for g in manifest["gauges"] if g["in_sos"]]
    entries = []
    for g in gauges:
        rid = int(g["reach_id"])
        cont = "na" if str(rid)[0] in "789" else "eu"
        entries.append({"reach_id": rid, "sword": f"{cont}_sword_v16.nc", "swot": f"{rid}_SWOT.nc",
                        "sos": f"{cont}_sword_v16_SOS_priors.nc", "cal": g["cal"], "site": g["site"]})
        t = truth[rid]["time"].copy()
        t[5] = np.nan  # one observation without a time: it matches no day
        write_swot(mnt / "input" / "swot" / f"{rid}_SWOT.nc", rid, t)
        est = _estimates(truth[rid]["q"])
        write_nt_file(mnt / "flpe" / "momma" / f"{rid}_momma.nc", {"Q": est["momma"]}, valid=np.int32(1))
        write_nt_file(mnt / "flpe" / "consensus" / f"{rid}_consensus.nc", {"consensus_q": est["consensus"]})
        write_nt_file(mnt / "moi" / f"{rid}_integrator.nc", {"momma/q": est["moi_momma"]})
        write_nt_file(mnt / "offline" / f"{rid}_offline.nc", {"momma_q_c": est["offline_momma_c"]})
    write_reaches(mnt, [{k: e[k] for k in ("reach_id", "sword", "swot", "sos")} for e in entries])
    return entries


def _independent(world: Path, site: str, stamps: np.ndarray, est: np.ndarray, offset_h: float) -> dict:
    """Statistics by dictionary merge on ISO dates and textbook formulas (standard library only)."""
    gauge: dict[str, float] = {}
    with (world / "gauges" / "gauges.csv").open() as fh:
        for row in csv.DictReader(fh):
            if row["site"] == site:
                gauge[row["date"]] = float(row["discharge_cms"])
    per_day: dict[str, list[float]] = defaultdict(list)
    for i, stamp in enumerate(stamps):
        if i == 5 or not math.isfinite(est[i]):
            continue
        utc = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")
        per_day[(utc + dt.timedelta(hours=offset_h)).date().isoformat()].append(float(est[i]))
    pairs = [(st.fmean(v), gauge[d]) for d, v in sorted(per_day.items()) if d in gauge]
    s, o = [p[0] for p in pairs], [p[1] for p in pairs]
    n, mo, ms = len(pairs), st.fmean(o), st.fmean(s)
    r = st.correlation(s, o)
    sse = sum((a - b) ** 2 for a, b in pairs)
    rmse = math.sqrt(sse / n)
    return {
        "n_matched": n,
        "nse": 1 - sse / sum((b - mo) ** 2 for b in o),
        "r": r, "r2": r * r,
        "kge": 1 - math.sqrt((r - 1) ** 2 + (st.pstdev(s) / st.pstdev(o) - 1) ** 2 + (ms / mo - 1) ** 2),
        "rmse": rmse, "nrmse": rmse / mo, "nbias": sum(a - b for a, b in pairs) / n / mo,
    }


@pytest.mark.parametrize("offset", [0.0, -9.0])
def test_demo_world_statistics_match_an_independent_computation(world: Path, mnt: Path, run_cli,
                                                                offset: float) -> None:
    entries = _build_run(world, mnt)
    truth = _truth(world)
    validation = [e for e in entries if e["cal"] == 0]
    assert len(validation) >= 3 and len(validation) < len(entries)  # demo world: 3 CAL-0 gauges in the SoS
    for i, e in enumerate(entries):
        res = run_cli("--index", str(i), "--utc-offset", str(offset))
        assert res.exit_code == 0, res.output
        path = mnt / "validation" / f"{e['reach_id']}_validation.nc"
        assert path.exists() == (e["cal"] == 0), e

    for e in validation:
        with netCDF4.Dataset(mnt / "validation" / f"{e['reach_id']}_validation.nc") as ds:
            names = list(netCDF4.chartostring(ds["products"][:]))
            got = {s: np.ma.filled(ds[s][:], np.nan) for s in ("n_matched", "nse", "r2", "kge", "rmse", "nrmse",
                                                                   "nbias", "r")}
            assert ds.gauge_id == e["site"] and ds.gauge_utc_offset_hours == offset
        assert names == ["momma", "consensus", "moi_momma", "offline_momma_c"]
        est = _estimates(truth[e["reach_id"]]["q"])
        for j, name in enumerate(names):
            want = _independent(world, e["site"], truth[e["reach_id"]]["time_str"], est[name], offset)
            assert got["n_matched"][j] == want["n_matched"] > 30, (e["reach_id"], name)
            for stat in ("nse", "r2", "kge", "rmse", "nrmse", "nbias", "r"):
                assert got[stat][j] == pytest.approx(want[stat], rel=1e-9, abs=1e-12), (e["reach_id"], name, stat)
        if offset != 0.0:  # the demo gauges are UTC days: only offset 0 pairs each estimate with its own day
            continue
        # and the numbers make sense against the truth: the gauge is the truth with 3 % noise
        for j, name in enumerate(names):
            if name in ERRORS:
                assert got["nbias"][j] == pytest.approx(ERRORS[name] - 1.0, abs=0.02), (e["reach_id"], name)
        assert got["nse"][names.index("offline_momma_c")] > 0.95

    res = run_cli("summary")
    assert res.exit_code == 0, res.output
    with (mnt / "validation" / "summary.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == 4 * len(validation)
