"""Benchmark: seconds per reach of ``confluence-offline``.

Builds a run folder of ``--reaches`` reaches seen on ``--passes`` passes: a
SWOT file per reach (reach group; half of them without ``d_x_area`` so it is
computed from width and wse), the consensus' file (written by the output
contract) and an MOI ``{reach}_integrator.nc`` holding each algorithm's
flow-law parameters.  Then times, per reach,

- in-process: ``confluence_offline.cli.process_reach`` (read, compute, write);
- as the workflow runs it: the ``confluence-offline --index i`` console script
  in a fresh process, for ``--cli-sample`` reaches (interpreter start included).

Run: ``python modules/offline/bench/bench_offline.py [--reaches 200 --passes 60]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import netCDF4
import numpy as np

FILL = -999999999999.0
#: Integrated parameters of every MOI group, by flow law.
PARAMS = {
    "manning": {"n": 0.03, "a0": 400.0},
    "metroman": {"Abar": 400.0, "na": 0.03, "x1": 0.2},
    "hivdi": {"Abar": 400.0, "alpha": 30.0, "beta": -0.2},
    "momma": {"B": 6.0, "H": 12.0, "nb": 0.03, "x": 0.5},
    "bam": {"n": 0.03, "Wb": 130.0, "Db": 4.0, "r": 1.5},
}


def _put(ds: netCDF4.Dataset, path: str, values: np.ndarray | float) -> None:
    group_path, _, name = path.rpartition("/")
    grp = ds
    for part in [p for p in group_path.split("/") if p]:
        grp = grp.groups[part] if part in grp.groups else grp.createGroup(part)
    arr = np.asarray(values, dtype=np.float64)
    grp.createVariable(name, "f8", ("nt",) if arr.ndim else (), fill_value=FILL)[...] = np.where(
        np.isfinite(arr), arr, FILL)


def generate(root: Path, n_reaches: int, n_passes: int, seed: int = 1) -> list[int]:
    """Write the run folder; return the reach ids."""
    from confluence_core import flpe

    rng = np.random.default_rng(seed)
    ids = [74100000011 + 10 * i for i in range(n_reaches)]
    for sub in ("input/swot", "flpe", "moi", "offline"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "input" / "reaches.json").write_text(json.dumps(
        [{"reach_id": r, "swot": f"{r}_SWOT.nc", "sos": "na_sword_v16_SOS_priors.nc"} for r in ids]))
    specs = list(flpe.algorithms().values())
    for k, rid in enumerate(ids):
        t = np.arange(n_passes)
        wse = 10 + np.sin(t / 5) + rng.normal(0, 0.05, n_passes)
        width = 100 + 20 * np.sin(t / 5) + rng.normal(0, 2, n_passes)
        gone = rng.random(n_passes) < 0.1
        wse[gone], width[gone] = np.nan, np.nan
        with netCDF4.Dataset(root / "input" / "swot" / f"{rid}_SWOT.nc", "w") as ds:
            ds.createDimension("nt", n_passes)
            grp = ds.createGroup("reach")
            grp.createVariable("reach_id", "i8", ()).assignValue(rid)
            fields = {"time": 7.5e8 + 86400.0 * 21 * t, "width": width, "wse": wse,
                      "width_u": np.full(n_passes, 5.0), "wse_u": np.full(n_passes, 0.1),
                      "slope": np.full(n_passes, 1e-4), "slope_u": np.full(n_passes, 1e-5)}
            if k % 2 == 0:
                fields |= {"d_x_area": (wse - np.nanmedian(wse)) * 100, "d_x_area_u": np.full(n_passes, 10.0)}
            for name, values in fields.items():
                _put(grp, name, values)
        q = 50 * np.exp(wse - 10)
        cons = flpe.consensus()
        path = cons.path(root / "flpe", rid)
        path.parent.mkdir(parents=True, exist_ok=True)
        with netCDF4.Dataset(path, "w") as ds:
            ds.setncattr("valid", np.int32(1))
            ds.setncattr("contributing_algos", [s.name for s in specs[:3]])
            ds.createDimension("nt", n_passes)
            _put(ds, cons.q[0], q)
        with netCDF4.Dataset(root / "moi" / f"{rid}_integrator.nc", "w") as ds:
            ds.createDimension("nt", n_passes)
            for spec in specs:
                if spec.moi:
                    grp = ds.createGroup(spec.moi)
                    _put(grp, "q", q * rng.uniform(0.9, 1.1))
                    for p, value in {**PARAMS[spec.flowlaw], "qbar_reachScale": 1.0, "qbar_basinScale": 1.0}.items():
                        _put(grp, p, value)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reaches", type=int, default=200)
    parser.add_argument("--passes", type=int, default=60)
    parser.add_argument("--cli-sample", type=int, default=5)
    parser.add_argument("--keep", type=Path, default=None, help="Build the run folder here and keep it.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        t0 = time.perf_counter()
        ids = generate(root, args.reaches, args.passes)
        print(f"built {len(ids)} reaches x {args.passes} passes in {time.perf_counter() - t0:.1f} s ({root})")
        os.environ["CONFLUENCE_MNT"] = str(root)
        import logging

        from confluence_offline.cli import process_reach

        logging.disable(logging.INFO)
        process_reach({"reach_id": ids[0]})  # warm-up (imports, table parse)
        times = []
        for rid in ids:
            t = time.perf_counter()
            process_reach({"reach_id": rid, "swot": f"{rid}_SWOT.nc"})
            times.append(time.perf_counter() - t)
        print(f"in-process: {statistics.mean(times) * 1e3:.1f} ms per reach mean, "
              f"{statistics.median(times) * 1e3:.1f} ms median, {max(times) * 1e3:.1f} ms max "
              f"({len(times)} reaches, {sum(times):.2f} s total)")
        cli = []
        for i in range(min(args.cli_sample, len(ids))):
            t = time.perf_counter()
            subprocess.run(["confluence-offline", "--index", str(i)], check=True, capture_output=True,
                           env={**os.environ, "CONFLUENCE_LOG_LEVEL": "WARNING"})
            cli.append(time.perf_counter() - t)
        if cli:
            print(f"console script (fresh process): {statistics.mean(cli):.2f} s per reach mean "
                  f"over {len(cli)} reaches")


if __name__ == "__main__":
    main()
