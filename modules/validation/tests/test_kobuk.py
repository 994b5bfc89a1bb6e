"""Real data: SWOT/SoS discharge of Kobuk River reaches against USGS 15744500 (Alaska, UTC-9).

``real_swot_kobuk`` holds Hydrocron reach time series (with the public Confluence's own
``sos_*_q`` per pass) and the USGS daily discharge at Kobuk R nr Kiana
(local Alaska days).  We put the USGS record in an SoS as a validation gauge of each reach, the
pass times in SWOT files and the SoS discharge of MetroMan, SIC4DVar and consensus in their FLPE
files, run the module with ``--utc-offset -9`` and check every statistic against a computation
with the standard library on the CSV text dates.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import statistics as st
from collections import defaultdict
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from validation_builders import qt, swot_seconds, write_nt_file, write_reaches, write_sos, write_swot

REACHES = [81320300011, 81320300031, 81320300051]
FILL = -999999999999.0
#: SoS discharge column (``sos_{name}_q``) -> (flpe folder / file suffix, variable), in flpe_outputs.toml order.
PRODUCTS = {"metroman": ("metroman", "allq"), "sic4dvar": ("sic4dvar", "Qalgo31"),
            "consensus": ("consensus", "consensus_q")}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def _value(text: str) -> float:
    v = float(text)
    return math.nan if v == FILL else v


def _expected(passes: list[dict], usgs: dict[str, float], column: str) -> dict:
    per_day: dict[str, list[float]] = defaultdict(list)
    for row in passes:
        q = _value(row[column])
        if row["time_str"] == "no_data" or not math.isfinite(q):
            continue
        utc = dt.datetime.strptime(row["time_str"], "%Y-%m-%dT%H:%M:%SZ")
        per_day[(utc - dt.timedelta(hours=9)).date().isoformat()].append(q)
    pairs = [(st.fmean(v), usgs[d]) for d, v in sorted(per_day.items()) if d in usgs]
    s, o = [p[0] for p in pairs], [p[1] for p in pairs]
    r = st.correlation(s, o)
    mo = st.fmean(o)
    sse = sum((a - b) ** 2 for a, b in pairs)
    return {"n_matched": len(pairs), "r": r, "nse": 1 - sse / sum((b - mo) ** 2 for b in o),
            "kge": 1 - math.sqrt((r - 1) ** 2 + (st.pstdev(s) / st.pstdev(o) - 1) ** 2 + (st.fmean(s) / mo - 1) ** 2),
            "nrmse": math.sqrt(sse / len(pairs)) / mo, "nbias": (st.fmean(s) - mo) / mo}


def test_kobuk_sos_discharge_against_usgs(shared_data: Path, mnt: Path, run_cli) -> None:
    folder = shared_data / "real_swot_kobuk"
    usgs_rows = _rows(folder / "usgs_15744500_daily.csv")
    usgs = {r["time_local"]: float(r["q_cms"]) for r in usgs_rows}
    gauges = [{"reach_id": rid, "id": "15744500", "cal": 0, "qt": [qt(r["time_local"]) for r in usgs_rows],
               "q": [float(r["q_cms"]) for r in usgs_rows]} for rid in REACHES]
    write_sos(mnt / "input" / "sos" / "na_sword_v16_SOS_priors.nc", {"USGS": gauges})
    passes = {}
    for rid in REACHES:
        rows = passes[rid] = _rows(folder / "reaches" / f"{rid}.csv")
        times = [math.nan if r["time_str"] == "no_data" else swot_seconds(r["time_str"]) for r in rows]
        write_swot(mnt / "input" / "swot" / f"{rid}_SWOT.nc", rid, times)
        for name, (folder_name, var) in PRODUCTS.items():
            write_nt_file(mnt / "flpe" / folder_name / f"{rid}_{folder_name}.nc",
                          {var: [_value(r[f"sos_{name}_q"]) for r in rows]})
    write_reaches(mnt, [{"reach_id": rid, "sword": "na_sword_v16.nc", "swot": f"{rid}_SWOT.nc",
                         "sos": "na_sword_v16_SOS_priors.nc"} for rid in REACHES])
    for i in range(len(REACHES)):
        res = run_cli("--index", str(i), env={"CONFLUENCE_GAUGE_UTC_OFFSET": "-9"})
        assert res.exit_code == 0, res.output

    for rid in REACHES:
        with netCDF4.Dataset(mnt / "validation" / f"{rid}_validation.nc") as ds:
            names = list(netCDF4.chartostring(ds["products"][:]))
            assert names == list(PRODUCTS)
            for j, name in enumerate(names):
                want = _expected(passes[rid], usgs, f"sos_{name}_q")
                assert int(ds["n_matched"][j]) == want["n_matched"] >= 5
                for stat in ("r", "nse", "kge", "nrmse", "nbias"):
                    got = float(np.ma.filled(ds[stat][j], np.nan))
                    assert got == pytest.approx(want[stat], rel=1e-9), (rid, name, stat)
    res = run_cli("summary")
    assert res.exit_code == 0 and (mnt / "validation" / "summary.png").exists()
