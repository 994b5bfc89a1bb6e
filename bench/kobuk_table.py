"""Kobuk case: our discharge against USGS 15744500, side by side with the public Confluence's.

Usage (after the run of the README's second example)::

    python bench/kobuk_table.py kobuk-run [--data ../shared/data/real_swot_kobuk] [--utc-offset -9]

For each reach and product (ours: every ready FLPE algorithm of the workflow table and the
consensus; the public: ``sos_*_q``) it prints the passes with a valid estimate, nRMSE
(RMSE / mean gauge flow), nBIAS (mean(est - gauge) / mean gauge flow), Pearson r and the
number of matched days, computed on the same days for everything in a row:

- ``all``: every day the product has an estimate and the gauge a value;
- ``both``: only days where our consensus AND the public consensus
  (``sos_consensus_q`` of the same Hydrocron CSVs) both have an estimate.

Day matching is the validation module's: observation time (UTC) + the gauge's
UTC offset, floored to the day, equals the gauge's local day; several
estimates on one day are averaged.  Nothing here is fitted: it only scores.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from pathlib import Path

import numpy as np
from confluence_core import flpe, ncio
from confluence_core.scores import all_scores

#: The public Confluence's discharge columns in the Hydrocron CSVs (all six algorithms and the consensus).
PUBLIC = ("sos_consensus_q", "sos_metroman_q", "sos_momma_q", "sos_sad_q", "sos_hivdi_q", "sos_sic4dvar_q")
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
FILL = -999999999999.0


def gauge_days(path: Path) -> dict[dt.date, float]:
    """USGS table ``time_local, q_cms`` -> {local day: m3/s}."""
    with path.open(newline="") as fh:
        return {dt.date.fromisoformat(r["time_local"][:10]): float(r["q_cms"]) for r in csv.DictReader(fh)}


def local_days(seconds: np.ndarray, offset_h: float) -> list[dt.date | None]:
    """Observation times (s since 2000-01-01 UTC) -> gauge-local days."""
    return [None if not np.isfinite(s) else (EPOCH + dt.timedelta(seconds=float(s) + offset_h * 3600)).date()
            for s in seconds]


def daily(days: list[dt.date | None], q: np.ndarray) -> dict[dt.date, float]:
    """Average the finite, positive estimates of each day."""
    acc: dict[dt.date, list[float]] = {}
    for d, v in zip(days, q, strict=True):
        if d is not None and np.isfinite(v) and v > 0:
            acc.setdefault(d, []).append(float(v))
    return {d: float(np.mean(v)) for d, v in acc.items()}


def valid_passes(q: np.ndarray) -> int:
    """Passes with a finite, positive estimate."""
    q = np.asarray(q, dtype=float)
    return int(np.count_nonzero(np.isfinite(q) & (q > 0)))


def ours(run: Path, reach_id: int, offset_h: float) -> dict[str, tuple[int, dict[dt.date, float]]]:
    """Our products of one reach: (valid passes, estimates by local day)."""
    with ncio.open_dataset(run / "input" / "swot" / f"{reach_id}_SWOT.nc") as ds:
        t = ncio.read_float(ds["reach"], "time")
    days = local_days(t, offset_h)
    specs = {**flpe.algorithms(), "consensus": flpe.consensus()}
    out = {}
    for name, spec in specs.items():
        res = flpe.read_result(spec, run / "flpe", reach_id)
        if res is not None and res.q.size == len(days):
            out[name] = (valid_passes(res.q), daily(days, res.q))
    return out


def public(csv_path: Path, offset_h: float) -> dict[str, tuple[int, dict[dt.date, float]]]:
    """The public Confluence's discharge in a Hydrocron CSV (``sos_*_q``): (valid passes, by local day)."""
    with csv_path.open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["time_str"] != "no_data"]
    t = np.asarray([(dt.datetime.fromisoformat(r["time_str"].replace("Z", "+00:00")) - EPOCH).total_seconds()
                    for r in rows])
    days = local_days(t, offset_h)
    out = {}
    for col in PUBLIC:
        q = np.asarray([float(r.get(col) or FILL) for r in rows])
        q = np.where(q <= FILL / 10, np.nan, q)
        out["public_" + col[4:-2]] = (valid_passes(q), daily(days, q))
    return out


def scores(est: dict[dt.date, float], gauge: dict[dt.date, float], days: set[dt.date] | None = None
           ) -> tuple[float, float, float, int]:
    """(nRMSE, nBIAS, r, n) on the days both have (restricted to ``days`` when given)."""
    common = sorted(d for d in est if d in gauge and (days is None or d in days))
    if not common:
        return (np.nan, np.nan, np.nan, 0)
    got = all_scores(np.asarray([est[d] for d in common]), np.asarray([gauge[d] for d in common]))
    r = float(got["r"]) if len(common) > 2 else np.nan
    return float(got["nrmse"]), float(got["nbias"]), r, len(common)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="run folder of the Kobuk example")
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
                        / "real_swot_kobuk")
    parser.add_argument("--utc-offset", type=float, default=-9.0)
    parser.add_argument("--csv", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    gauge = gauge_days(args.data / "usgs_15744500_daily.csv")
    table = []
    for path in sorted((args.data / "reaches").glob("*.csv")):
        rid = int(path.stem)
        products = {**ours(args.run, rid, args.utc_offset), **public(path, args.utc_offset)}
        both = set(products.get("consensus", (0, {}))[1]) & set(products.get("public_consensus", (0, {}))[1])
        for name, (passes, est) in products.items():
            for subset, days in (("all", None), ("both", both)):
                table.append((rid, name, subset, passes, *scores(est, gauge, days)))
    print("| reach | product | days | valid passes | nRMSE | nBIAS | r | n days |")
    print("|---|---|---|---|---|---|---|---|")
    for rid, name, subset, passes, nrmse, nbias, r, n in table:
        print(f"| {rid} | {name} | {subset} | {passes} | {nrmse:.2f} | {nbias:+.2f} | {r:.2f} | {n} |")
    if args.csv:
        with args.csv.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["reach_id", "product", "days", "valid_passes", "nrmse", "nbias", "r", "n"])
            w.writerows(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
