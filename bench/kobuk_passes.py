"""Where the Kobuk passes go: from Hydrocron's rows to each algorithm's valid estimates.

Usage (after the README's Kobuk run)::

    python bench/kobuk_passes.py kobuk-run [--data ../shared/data/real_swot_kobuk]

Per reach: Hydrocron rows (all, and with a time), passes in the workflow's input file with a
finite WSE and width (``original/reach``: what datagen and input kept, before prediagnostics), passes
prediagnostics kept (``reach``), each of our algorithms' passes with a valid discharge, and the
public Confluence's valid passes (``sos_*_q`` in the same Hydrocron rows).  Nothing is scored here.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np
from confluence_core import flpe, ncio

FILL = -999999999999.0
PUBLIC = ("sos_consensus_q", "sos_metroman_q", "sos_momma_q", "sos_sad_q", "sos_hivdi_q", "sos_sic4dvar_q")


def hydrocron_counts(path: Path) -> dict[str, int]:
    """Rows, rows with a time, and the public product's valid passes per ``sos_*_q``."""
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    timed = [r for r in rows if r["time_str"] != "no_data"]
    out = {"hydrocron rows": len(rows), "with a time": len(timed)}
    for col in PUBLIC:
        q = np.asarray([float(r.get(col) or FILL) for r in timed])
        out["public " + col[4:-2]] = int(np.count_nonzero(q > FILL / 10))
    return out


def input_counts(run: Path, reach_id: int) -> dict[str, int]:
    """Passes with finite WSE and width before (``original``) and after prediagnostics."""
    out = {}
    with ncio.open_dataset(run / "input" / "swot" / f"{reach_id}_SWOT.nc") as ds:
        for label, grp in (("input", "original/reach"), ("after prediagnostics", "reach")):
            if label == "input" and "original" not in ds.groups:
                grp = "reach"
            g = ds[grp]
            wse, width = ncio.read_float(g, "wse"), ncio.read_float(g, "width")
            out[label] = int(np.count_nonzero(np.isfinite(wse) & np.isfinite(width)))
    return out


def algorithm_counts(run: Path, reach_id: int) -> dict[str, int]:
    """Our algorithms' passes with a valid, positive discharge."""
    out = {}
    for name, spec in {**flpe.algorithms(), "consensus": flpe.consensus()}.items():
        res = flpe.read_result(spec, run / "flpe", reach_id)
        q = np.asarray(res.q, dtype=float) if res is not None and res.valid else np.array([])
        out[name] = int(np.count_nonzero(np.isfinite(q) & (q > 0)))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
                        / "real_swot_kobuk")
    args = parser.parse_args(argv)
    table = []
    for path in sorted((args.data / "reaches").glob("*.csv")):
        rid = int(path.stem)
        counts = hydrocron_counts(path)
        table.append((rid, {**{k: v for k, v in counts.items() if not k.startswith("public")},
                            **input_counts(args.run, rid), **algorithm_counts(args.run, rid),
                            **{k: v for k, v in counts.items() if k.startswith("public")}}))
    cols = list(table[0][1])
    print("| reach | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for rid, counts in table:
        print(f"| {rid} | " + " | ".join(str(counts[c]) for c in cols) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
