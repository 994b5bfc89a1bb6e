"""Build and write a demo world: :func:`generate`."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from confluence_core import jsonio, sos, sword
from confluence_core.errors import ConfluenceError

from . import granules as gr
from . import hydrology, network, observe, products, truth

KINDS = ("demo", "bench")
DEFAULT_SEED = 20240101
#: Default overpasses per reach of each kind.
DEFAULT_PASSES = {"demo": 51, "bench": 50}
DEFAULT_BENCH_REACHES = 1000
#: Node counts of type-1 reaches (>= 26 so that reaches are >= 5 km, the prediagnostics p_length floor).
NODE_RANGE = {"demo": (26, 60), "bench": (26, 34)}


@dataclass
class WorldInfo:
    """What :func:`generate` wrote.

    Attributes
    ----------
    out_dir : Path
    granules : list of (reach zip, node zip) paths, in time order
    sword, sos : dict continent -> Path
    truth, truth_readme, gauges, manifest : Path
    seed : int
    kind : str
    n_reaches, n_type1, n_nodes, n_basins : int
    n_passes : int
        Overpasses per reach.
    n_reach_obs, n_node_obs : int
    planted_bad_fraction : float
        Fraction of reach observations planted bad.
    seconds : float
        Wall time of the generation.
    """

    out_dir: Path
    seed: int
    kind: str
    granules: list[tuple[Path, Path]] = field(default_factory=list)
    sword: dict[str, Path] = field(default_factory=dict)
    sos: dict[str, Path] = field(default_factory=dict)
    truth: Path | None = None
    truth_readme: Path | None = None
    gauges: Path | None = None
    manifest: Path | None = None
    n_reaches: int = 0
    n_type1: int = 0
    n_nodes: int = 0
    n_basins: int = 0
    n_passes: int = 0
    n_reach_obs: int = 0
    n_node_obs: int = 0
    planted_bad_fraction: float = 0.0
    seconds: float = 0.0

    def summary(self) -> str:
        """A few lines saying what was written."""
        return "\n".join([
            f"demo world ({self.kind}, seed {self.seed}) in {self.out_dir} ({self.seconds:.1f} s)",
            f"  {self.n_basins} basins, {self.n_reaches} reaches ({self.n_type1} type 1), {self.n_nodes} nodes",
            f"  {len(self.granules)} granule pairs in granules/, {self.n_passes} overpasses per reach",
            f"  {self.n_reach_obs} reach and {self.n_node_obs} node observations, "
            f"{100 * self.planted_bad_fraction:.1f} % reach observations planted bad",
            "  sword/: " + ", ".join(p.name for p in self.sword.values()),
            "  sos/: " + ", ".join(p.name for p in self.sos.values()),
            "  gauges/gauges.csv, truth/truth.nc, truth/README.md, manifest.json",
        ])


def generate(out_dir: str | os.PathLike[str], *, seed: int = DEFAULT_SEED, n_reaches: int | None = None,
             n_passes: int | None = None, kind: str = "demo") -> WorldInfo:
    """Generate a deterministic synthetic SWOT world under ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Folder to write (created; existing files of the same names are replaced).
    seed : int
        Random seed: the same seed gives the same data.
    n_reaches : int, optional
        ``bench``: number of reaches (default 1000, basins of ~20 reaches).
        ``demo``: extra bench-like basins are added beyond the 39 built-in reaches.
    n_passes : int, optional
        Overpasses per reach over the simulated period (default 51 demo, 50 bench).
    kind : {"demo", "bench"}
        ``demo``: three basins on na and eu with a junction, a dam, a lake, an
        arctic basin with winter ice and ~7 % planted bad observations.
        ``bench``: many simple basins, fewer bad observations.

    Returns
    -------
    WorldInfo
    """
    t_start = time.perf_counter()
    if kind not in KINDS:
        raise ConfluenceError(f"unknown world kind {kind!r} (choose {', '.join(KINDS)})")
    n_passes = DEFAULT_PASSES[kind] if n_passes is None else int(n_passes)
    if n_passes < 3:
        raise ConfluenceError(f"n_passes must be at least 3, not {n_passes}")
    out = Path(out_dir)
    seq = np.random.SeedSequence(seed)
    rng_net, rng_q, rng_h, rng_s, rng_o, rng_p, rng_g, rng_m = (np.random.default_rng(s) for s in seq.spawn(8))

    if kind == "demo":
        specs = network.demo_specs()
        base = sum(s.n_reaches for s in specs)
        if n_reaches is not None and n_reaches < base:
            raise ConfluenceError(f"a demo world has at least {base} reaches, not {n_reaches}")
        if n_reaches is not None and n_reaches > base:
            extra = network.bench_specs(n_reaches - base, rng_net)
            specs += [_renumber(s, i) for i, s in enumerate(extra)]
        rates = observe.DEMO_RATES
    else:
        n = DEFAULT_BENCH_REACHES if n_reaches is None else int(n_reaches)
        if n < 3:
            raise ConfluenceError(f"a bench world needs at least 3 reaches, not {n}")
        specs = network.bench_specs(n, rng_net)
        rates = observe.BENCH_RATES
    net = network.build(specs, rng_net, NODE_RANGE[kind])
    sched = observe.make_schedule(net, n_passes, rng_s)
    dates = np.datetime64(observe.START.date()) + np.arange(sched.n_days).astype("timedelta64[D]")
    doy = (dates - dates.astype("datetime64[Y]")).astype(np.int64).astype(float)
    Q, lateral, facc = hydrology.discharge(net, doy, rng_q)
    hyd = hydrology.hydraulics(net, Q, lateral, rng_h)
    obs = observe.observe(net, hyd, sched, rng_o, rates)
    pri = products.sword_priors(net, hyd, facc, rng_p)

    continents = [c for c in ("na", "eu") if (net.continent == c).any()]
    sword_files = {c: sword.sword_name(c, products.SWORD_VERSION) for c in continents}
    info = WorldInfo(out_dir=out, seed=seed, kind=kind)

    # SWORD
    orbits = np.zeros((net.n_reaches, sword.N_ORBITS), dtype=np.int64)
    for b, passes in sched.passes_of_basin.items():
        orbits[net.basin_index == b, : len(passes)] = passes
    for c in continents:
        info.sword[c] = out / "sword" / sword_files[c]
        products.write_sword(info.sword[c], c, net, pri, orbits)

    # SoS and gauges
    stats, bias = products.model_priors(Q, dates, rng_m)
    gauges = []
    n_sos = {"na": 4, "eu": 3} if kind == "demo" else {"na": 10, "eu": 10}
    for c in continents:
        g = products.make_gauges(net, Q, c, n_sos[c], 2, rng_g)
        gauges.append(g)
        info.sos[c] = out / "sos" / sos.sos_name(c, products.SWORD_VERSION)
        products.write_sos(info.sos[c], c, net, stats, g, dates)
    info.gauges = out / "gauges" / "gauges.csv"
    products.write_gauge_csv(info.gauges, net, gauges, dates)

    # granules
    written = gr.write_granules(out / "granules", net, obs, pri, sword_files)
    info.granules = [(g.reach_path, g.node_path) for g in written]

    # truth
    info.truth = out / "truth" / "truth.nc"
    truth.write_truth(info.truth, net, hyd, obs, facc, bias, {"seed": seed, "kind": kind})
    info.truth_readme = out / "truth" / "README.md"
    truth.write_readme(info.truth_readme)

    info.n_reaches = net.n_reaches
    info.n_type1 = int((net.rtype == 1).sum())
    info.n_nodes = int(net.node_id.size)
    info.n_basins = len(specs)
    info.n_passes = n_passes
    info.n_reach_obs = int(obs.r.size)
    info.n_node_obs = int(obs.node.size)
    info.planted_bad_fraction = float((obs.bad_kind > 0).mean())
    info.manifest = out / "manifest.json"
    jsonio.write_json(info.manifest, _manifest(info, net, sched, written, gauges), indent=1)
    info.seconds = time.perf_counter() - t_start
    return info


def _renumber(spec: network.BasinSpec, i: int) -> network.BasinSpec:
    """Extra basins of a large demo world: codes that do not clash with the built-in basins."""
    from dataclasses import replace

    return replace(spec, code=600 + i // 2)


def _manifest(info: WorldInfo, net: network.Network, sched: observe.Schedule, written: list[gr.Granule],
              gauges: list[products.Gauges]) -> dict[str, Any]:
    rid = [str(v) for v in net.reach_id]
    conts: dict[str, dict[str, list[str]]] = {}
    for r, c in enumerate(net.continent):
        conts.setdefault(str(c), {}).setdefault(str(net.basin[r]), []).append(rid[r])
    junctions = [rid[r] for r in range(net.n_reaches) if (net.up[r] >= 0).sum() > 1]
    return {
        "seed": info.seed, "kind": info.kind, "start_date": observe.START.strftime("%Y-%m-%d"),
        "n_days": sched.n_days, "sword_version": products.SWORD_VERSION,
        "counts": {
            "basins": info.n_basins, "reaches": info.n_reaches, "type1_reaches": info.n_type1,
            "nodes": info.n_nodes, "passes_per_reach": info.n_passes, "granule_pairs": len(written),
            "reach_observations": info.n_reach_obs, "node_observations": info.n_node_obs,
            "planted_bad_fraction": round(info.planted_bad_fraction, 4),
        },
        "continents": conts,
        "type1_reach_ids": [rid[r] for r in np.flatnonzero(net.rtype == 1)],
        "dam_reach_ids": [rid[r] for r in np.flatnonzero(net.rtype == 4)],
        "lake_reach_ids": [rid[r] for r in np.flatnonzero(net.rtype == 3)],
        "junction_reach_ids": junctions,
        "pass_schedule": {
            str(net.specs[b].basin_id): {"passes": passes, "cycles": sorted({int(c) for c in
                                                                               sched.cycle[sched.basin == b]})}
            for b, passes in sched.passes_of_basin.items()
        },
        "granules": [
            {"cycle": g.cycle, "pass": g.pass_, "continent": g.continent, "version": g.version,
             "reach": f"granules/{g.reach_path.name}", "node": f"granules/{g.node_path.name}"}
            for g in written
        ],
        "gauges": [
            {"agency": g.agency, "site": g.site[i], "reach_id": rid[g.reach[i]], "cal": int(g.cal[i]),
             "in_sos": bool(g.in_sos[i])}
            for g in gauges for i in range(len(g.site))
        ],
        "files": {
            "sword": {c: f"sword/{p.name}" for c, p in info.sword.items()},
            "sos": {c: f"sos/{p.name}" for c, p in info.sos.items()},
            "gauges": "gauges/gauges.csv", "truth": "truth/truth.nc", "truth_readme": "truth/README.md",
        },
    }
