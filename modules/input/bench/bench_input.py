"""Benchmark: per-basin input (each granule read once) vs one reach per job.

Builds a world of ``--reaches`` reaches (10 nodes each, in basins of 100) seen on
``--passes`` passes: one Reach and one Node granule per pass, written with
pyogrio (or ``confluence_demo.generate(out, kind="bench")`` when that exists and
``--demo`` is given).  Then

- per basin: ``confluence_input.cli.run_basin`` for every basin, as the workflow
  runs input (each granule opened once per basin, for all its reaches);
- per reach: the same reader and writer run for one reach at a time, every job
  opening every granule of the continent (what the public workflow does), for a
  sample of ``--sample`` reaches, scaled to the whole world.

Prints reaches x passes per second for both and their ratio.  Run:
``python modules/input/bench/bench_input.py [--reaches 1000 --passes 50]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

NODES_PER_REACH = 10
REACHES_PER_BASIN = 100


def _points(n: int, rng: np.random.Generator) -> np.ndarray:
    """WKB points (little endian) as an object array, built without shapely."""
    rec = np.zeros(n, dtype=[("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])
    rec["order"], rec["type"] = 1, 1
    rec["x"], rec["y"] = rng.uniform(-100, -80, n), rng.uniform(30, 45, n)
    raw = rec.tobytes()
    size = rec.dtype.itemsize
    return np.array([raw[i * size:(i + 1) * size] for i in range(n)], dtype=object)


def _write_zip(folder: Path, stem: str, fields: dict[str, np.ndarray], rng: np.random.Generator) -> None:
    from pyogrio import raw

    work = folder / f".{stem}"
    work.mkdir()
    n = len(next(iter(fields.values())))
    raw.write(str(work / f"{stem}.shp"), _points(n, rng), list(fields.values()), list(fields.keys()),
              driver="ESRI Shapefile", geometry_type="Point", crs="EPSG:4326")
    with zipfile.ZipFile(folder / f"{stem}.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(work.iterdir()):
            zf.write(f, f.name)
    shutil.rmtree(work)


def generate(source: Path, n_reaches: int, n_passes: int, seed: int = 1) -> None:
    """Write one Reach and one Node granule per pass holding every reach (PGA2-like fields)."""
    rng = np.random.default_rng(seed)
    basins = 7400 + np.arange(n_reaches) // REACHES_PER_BASIN
    reach_ids = basins * 10**7 + (np.arange(n_reaches) % REACHES_PER_BASIN + 1) * 10 + 1
    node_rid = np.repeat(reach_ids, NODES_PER_REACH)
    node_ids = (node_rid // 10) * 10**4 + np.tile(np.arange(1, NODES_PER_REACH + 1), n_reaches) * 10 + 1
    t0 = 7.0e8
    for k in range(n_passes):
        cycle, pas = 1 + k // 10, 1 + (k % 10) * 37
        stamp = f"2024{1 + k // 28:02d}{1 + k % 28:02d}T120000"
        t = t0 + k * 86400.0 * 21
        nr, nn = reach_ids.size, node_ids.size
        reach = {
            "reach_id": reach_ids.astype(str).astype(object), "time": np.full(nr, t),
            "time_str": np.full(nr, "2024-01-01T12:00:00Z", dtype=object),
            "wse": rng.normal(100, 1, nr), "wse_u": np.full(nr, 0.1), "slope": rng.uniform(1e-5, 1e-4, nr),
            "slope_u": np.full(nr, 1e-5), "slope2": rng.uniform(1e-5, 1e-4, nr), "slope2_u": np.full(nr, 1e-5),
            "width": rng.normal(200, 10, nr), "width_u": np.full(nr, 10.0), "d_x_area": rng.normal(0, 50, nr),
            "d_x_area_u": np.full(nr, 10.0), "reach_q": np.zeros(nr, np.int32),
            "dark_frac": np.zeros(nr), "ice_clim_f": np.zeros(nr, np.int32), "ice_dyn_f": np.zeros(nr, np.int32),
            "partial_f": np.zeros(nr, np.int32), "n_good_nod": np.full(nr, NODES_PER_REACH, np.int32),
            "obs_frac_n": np.ones(nr), "xovr_cal_q": np.zeros(nr, np.int32), "xtrk_dist": np.full(nr, 3e4),
            "p_width": np.full(nr, 200.0), "p_length": np.full(nr, 1e4), "p_lat": np.full(nr, 40.0),
            "p_lon": np.full(nr, -90.0),
        }
        node = {
            "reach_id": node_rid.astype(str).astype(object), "node_id": node_ids.astype(str).astype(object),
            "time": np.full(nn, t), "time_str": np.full(nn, "2024-01-01T12:00:00Z", dtype=object),
            "wse": rng.normal(100, 1, nn), "wse_u": np.full(nn, 0.2), "width": rng.normal(200, 20, nn),
            "width_u": np.full(nn, 20.0), "node_q": np.zeros(nn, np.int32), "dark_frac": np.zeros(nn),
            "ice_clim_f": np.zeros(nn, np.int32), "ice_dyn_f": np.zeros(nn, np.int32),
            "partial_f": np.zeros(nn, np.int32), "n_good_pix": np.full(nn, 50, np.int32),
            "xovr_cal_q": np.zeros(nn, np.int32), "xtrk_dist": np.full(nn, 3e4), "p_width": np.full(nn, 200.0),
        }
        end = stamp[:-2] + "59"
        _write_zip(source, f"SWOT_L2_HR_RiverSP_Reach_{cycle}_{pas}_NA_{stamp}_{end}_PGA2_01", reach, rng)
        _write_zip(source, f"SWOT_L2_HR_RiverSP_Node_{cycle}_{pas}_NA_{stamp}_{end}_PGA2_01", node, rng)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reaches", type=int, default=1000)
    parser.add_argument("--passes", type=int, default=50)
    parser.add_argument("--sample", type=int, default=10, help="reaches timed one job each")
    parser.add_argument("--demo", action="store_true", help="use confluence_demo.generate(kind='bench')")
    parser.add_argument("--keep", type=Path, default=None, help="build the world here and keep it")
    args = parser.parse_args()

    import logging

    logging.basicConfig(level=logging.WARNING)
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-input-"))
    for sub in ("source", "input"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    os.environ["CONFLUENCE_MNT"] = str(root)

    from click.testing import CliRunner
    from confluence_combine_data.cli import main as combine_main
    from confluence_datagen.cli import main as datagen_main
    from confluence_input.cli import run_basin

    t = time.perf_counter()
    if args.demo:
        import confluence_demo

        confluence_demo.generate(root / "world", kind="bench")
        for z in (root / "world" / "granules").glob("*.zip"):
            shutil.copy(z, root / "source" / z.name)
    elif not any((root / "source").glob("*.zip")):
        generate(root / "source", args.reaches, args.passes)
    print(f"world: {len(list((root / 'source').glob('*.zip')))} granules in {time.perf_counter() - t:.1f} s")
    for cmd, cargs in ((datagen_main, ["--index", "3"]), (combine_main, [])):
        res = CliRunner().invoke(cmd, cargs)
        assert res.exit_code == 0, res.output
    basins = json.loads((root / "input" / "basin.json").read_text())
    n_reaches = sum(len(b["reach_id"]) for b in basins)
    n_passes = len(json.loads((root / "input" / "cycle_passes.json").read_text()))
    work = n_reaches * n_passes

    t = time.perf_counter()
    for b in basins:
        run_basin([int(r) for r in b["reach_id"]], 16)
    basin_s = time.perf_counter() - t

    # one reach per job, every job reading every granule of the continent
    s3_reach = json.loads((root / "input" / "s3_reach.json").read_text())
    all_granules = sorted(json.loads((root / "input" / "s3_list.json").read_text()))
    sample = [int(r) for r in np.random.default_rng(2).choice(list(s3_reach), size=args.sample, replace=False)]
    for r in sample:
        s3_reach[str(r)] = all_granules
    (root / "input" / "s3_reach.json").write_text(json.dumps(s3_reach))
    t = time.perf_counter()
    for r in sample:
        run_basin([r], 16)
    reach_s = (time.perf_counter() - t) / len(sample) * n_reaches

    basin_rate, reach_rate = work / basin_s, work / reach_s
    print(f"work: {n_reaches} reaches x {n_passes} passes = {work} reach-passes, {len(basins)} basins")
    print(f"per basin (each granule once per basin): {basin_s:8.1f} s  {basin_rate:10.1f} reach-passes/s")
    print(f"per reach (every granule in every job):  {reach_s:8.1f} s  {reach_rate:10.1f} reach-passes/s "
          f"(from {len(sample)} reaches)")
    print(f"ratio per basin / per reach: {basin_rate / reach_rate:.1f}x")
    if args.keep is None:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
