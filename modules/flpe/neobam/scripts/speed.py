"""CPU seconds per reach of neoBAM in a grouped job, compile included, and the job's peak RSS.

Usage::

    python modules/flpe/neobam/scripts/speed.py --reaches 20 [--cache DIR | --no-cache] [--pepsi]

One process = one grouped job: ``NeoBAM().run`` gets every reach in one call (as the FLPE
runner hands a batched algorithm a job's reaches).  Reaches are synthetic (``--nx`` nodes,
``--nt`` times, one padded shape, generated from the neoBAM flow law with random parameters
near typical values) or, with ``--pepsi``, the first ``--reaches`` Pepsi-1 reaches (several
shapes).  With ``--cache DIR`` the persistent compile cache in DIR is used (empty DIR: a cold
job that fills it; filled: a warm job).  Printed: process CPU time (user + system of every
thread, from ``resource.getrusage``) for the whole job including imports and compile, per
reach, and ``ru_maxrss`` (peak RSS).  A numpy peer (the same reaches' log-width means) is
timed beside it for scale, as ``bench/flpe_speed.py`` does.
"""

from __future__ import annotations

import argparse
import os
import resource
import time


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--reaches", type=int, default=20)
    p.add_argument("--nx", type=int, default=20)
    p.add_argument("--nt", type=int, default=40)
    p.add_argument("--cache", default=None, help="persistent compile cache folder")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("--pepsi", action="store_true", help="Pepsi-1 reaches instead of synthetic ones")
    a = p.parse_args()
    os.environ["CONFLUENCE_JAX_CACHE"] = "off" if a.no_cache or not a.cache else a.cache
    cpu0, wall0 = _cpu(), time.perf_counter()

    import numpy as np
    from confluence_flpe.interface import Priors, ReachObs
    from confluence_flpe_neobam import NeoBAM

    reaches: list[tuple[ReachObs, Priors]] = []
    if a.pepsi:
        from confluence_flpe.bench import default_pepsi_dir
        from confluence_flpe.pepsi import load_river

        for k, path in enumerate(sorted(default_pepsi_dir().glob("*.nc"))):
            reaches += [(r.obs, r.priors) for r in load_river(path, k, every=10)]
        reaches = reaches[: a.reaches]
    else:
        rng = np.random.default_rng(0)
        for k in range(a.reaches):
            reaches.append(_synthetic(rng, 1000 + k, a.nx, a.nt))
    cpu_imp = _cpu()
    algo = NeoBAM()
    results = algo.run(reaches)
    cpu_run = _cpu()
    t_np = time.process_time()
    for obs, _ in reaches:  # numpy peer: a trivial per-reach reduction, for scale
        np.nanmean(np.log(obs.node_width if obs.node_width is not None else obs.width[None, :]), axis=0)
    t_np = time.process_time() - t_np
    n = len(reaches)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    valid = sum(r.valid for r in results)
    div = sum(float(r.extra.get("divergences", 0.0)) for r in results)
    print(f"reaches {n} ({valid} valid, {div:.0f} divergences) cache {os.environ['CONFLUENCE_JAX_CACHE']}")
    print(f"CPU s: imports+data {cpu_imp - cpu0:.1f}, neoBAM run {cpu_run - cpu_imp:.1f}, "
          f"per reach {(cpu_run - cpu0) / n:.2f} (incl. imports, compile) / {(cpu_run - cpu_imp) / n:.2f} (run)")
    print(f"wall s {time.perf_counter() - wall0:.1f}; peak RSS {rss:.0f} MiB; numpy peer {t_np / n * 1e3:.3f} ms/reach")


def _synthetic(rng, rid: int, nx: int, nt: int):  # type: ignore[no-untyped-def]
    """A reach obeying the neoBAM flow law with random, typical parameters (no Pepsi data)."""
    import numpy as np
    from confluence_flpe.interface import Priors, ReachObs

    n, r, wb, db = np.exp(rng.normal(np.log([0.03, 2.0, 100.0, 3.0]), [0.2, 0.3, 0.5, 0.4]))
    logQ = np.log(rng.uniform(50, 2000)) + 0.7 * rng.standard_normal(nt)
    logS = np.log(1e-4) + 0.1 * (logQ - logQ.mean()) + 0.05 * rng.standard_normal(nt)
    b = 1.0 / (1.0 + 5.0 * r / 3.0)
    drive = logQ + np.log(n) - 0.5 * logS - 5.0 / 3.0 * np.log(db)
    delta = 0.1 * rng.standard_normal(nx)
    logW = b * drive[None, :] + (1 - b) * (np.log(wb) + delta)[:, None] + 0.03 * rng.standard_normal((nx, nt))
    node_w = np.exp(logW)
    node_w[rng.random((nx, nt)) < 0.2] = np.nan
    time_s = (np.arange(nt) * 10.0 + 8000.0) * 86400.0
    obs = ReachObs(reach_id=rid, time=time_s, time_str=np.full(nt, "2022-01-01T00:00:00Z", dtype=object),
                   width=np.nanmedian(node_w, axis=0), wse=np.full(nt, 10.0), slope=np.exp(logS),
                   d_x_area=np.zeros(nt), node_width=node_w)
    q = 1.3 * float(np.exp(logQ).mean())
    pri = Priors(reach_id=rid, mean_q=q, min_q=q / 100, max_q=q * 100, monthly_q=np.full(12, q), gb={})
    return obs, pri


if __name__ == "__main__":
    main()
