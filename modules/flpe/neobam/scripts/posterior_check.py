"""Posterior check: neoBAM's sampler (``log Q`` integrated out) against NUTS on every site.

Usage: ``python modules/flpe/neobam/scripts/posterior_check.py [--per-river 2]``

Both samplers target the same posterior (:func:`confluence_flpe_neobam.model.neobam_model`
and :func:`~confluence_flpe_neobam.model.neobam_model_full`).  For the first ``--per-river``
reaches of each Pepsi-1 river (``confluence_flpe.pepsi``, every 10th day) both are run with the
default settings and the script prints, per reach: the posterior mean of r and of the reach's
mean discharge under each, their difference in posterior sds, split R-hat, effective draws,
leapfrog steps per draw and CPU seconds (process time; the compile of each new shape is
included in the first reach of that shape).  Nothing here is fitted: it reads the data only to
compare two samplers of one model.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from confluence_core import sos
from confluence_flpe.bench import default_pepsi_dir
from confluence_flpe.pepsi import load_river
from confluence_flpe_neobam import model
from confluence_flpe_neobam.priors import build_inputs


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--per-river", type=int, default=2)
    a = p.parse_args()
    settings = {"collapsed": model.SamplerSettings(), "full": model.SamplerSettings(collapsed=False)}
    print(f"{'reach':>16s} {'sampler':>9s} {'r':>6s} {'meanQ':>9s} {'dQ/sd':>6s} {'rhat':>5s} {'ess':>5s} "
          f"{'steps':>6s} {'cpu s':>6s}")
    gaps = []
    for k, path in enumerate(sorted(default_pepsi_dir().glob("*.nc"))):
        for rr in load_river(path, k, every=10)[: a.per_river]:
            o, pr = rr.obs, rr.priors
            inp = build_inputs(o.time, o.width, o.slope, o.node_width, pr.mean_q, pr.min_q, pr.max_q,
                               pr.monthly_q, pr.flow_duration_q, np.asarray(sos.EXCEEDANCE, dtype=float), pr.gb)
            if isinstance(inp, str) or np.count_nonzero(inp.used_times) < 5:
                continue
            used = np.flatnonzero(inp.used_times)
            summary = {}
            for name, st in settings.items():
                t0 = time.process_time()
                d = model.sample(inp.data, st, seed=0)
                cpu = time.process_time() - t0
                mq = np.exp(d["logQ"][..., used]).mean(axis=-1).ravel()
                r = np.exp(d["logr"]).ravel()
                summary[name] = (mq.mean(), mq.std())
                gap = (mq.mean() - summary["collapsed"][0]) / summary["collapsed"][1] if name == "full" else 0.0
                if name == "full":
                    gaps.append(gap)
                print(f"{path.stem[:12]:>12s}/{o.reach_id % 1000:<3d} {name:>9s} {r.mean():6.2f} {mq.mean():9.1f} "
                      f"{gap:+6.2f} {float(d['rhat']):5.2f} {float(d['ess']):5.0f} {d['num_steps'].mean():6.1f} "
                      f"{cpu:6.1f}", flush=True)
    g = np.abs(np.asarray(gaps))
    print(f"|difference of mean discharge| in posterior sds: median {np.median(g):.2f}, max {g.max():.2f} "
          f"over {g.size} reaches")


if __name__ == "__main__":
    main()
