"""A tiny basin in a run folder: SWORD topology, SoS priors, SWOT observations, FLPE results, basin.json.

Basin 7426, SWORD ids growing upstream::

    74260000041 (trib A, momma)   74260000051 (trib B, momma + metroman)
                  \\                 /
                   74260000034  (dam, type 4: no FLPE result)
                          |
                   74260000021  (momma + metroman)
                          |
                   74260000011  (outlet, momma)

A twin experiment: the true mean flows (:data:`TRUTH`) conserve mass; every reach has
observations (width, stage, slope, area change) and each algorithm's result is its own flow law
with parameters whose mean flow is the truth times a known per-reach bias (:data:`MOMMA_BIAS`,
:data:`METRO_BIAS`), so the raw reach means break mass balance on purpose (the tributaries carry
more than the outlet).  The SoS priors are the truth times :data:`PRIOR_BIAS`.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from click.testing import CliRunner, Result
from confluence_core import jsonio, ncio
from confluence_flpe import flowlaws
from confluence_flpe.flowlaws import FlowObs

BASIN = 7426
OUTLET, MID, DAM, TRIB_A, TRIB_B = 74260000011, 74260000021, 74260000034, 74260000041, 74260000051
REACHES = [OUTLET, MID, DAM, TRIB_A, TRIB_B]
DOWN = {TRIB_A: DAM, TRIB_B: DAM, DAM: MID, MID: OUTLET}
FACC = {OUTLET: 1100.0, MID: 1050.0, DAM: 1000.0, TRIB_A: 600.0, TRIB_B: 390.0}
#: True mean flows (m3/s): 60 + 40 through the dam, 5 and 5 more laterally downstream.
TRUTH = {OUTLET: 110.0, MID: 105.0, DAM: 100.0, TRIB_A: 60.0, TRIB_B: 40.0}
PRIOR_BIAS = {OUTLET: 1.1, MID: 0.9, DAM: 1.0, TRIB_A: 1.2, TRIB_B: 0.8}
PRIOR = {r: TRUTH[r] * PRIOR_BIAS[r] for r in REACHES}
#: Per-reach bias of the FLPE-like results (raw momma means 70, 100, 75, 40: 115 upstream of 70).
MOMMA_BIAS = {OUTLET: 70 / 110, MID: 100 / 105, TRIB_A: 75 / 60, TRIB_B: 1.0}
MOMMA_MEAN = {r: TRUTH[r] * b for r, b in MOMMA_BIAS.items()}
METRO_BIAS = {MID: 90 / 105, TRIB_B: 45 / 40}
NT = 12


def observations(reach_id: int, nt: int = NT) -> FlowObs:
    """A reach's observations: a parabolic channel (bed 8 m) seen at ``nt`` stages, slope about 1e-4."""
    rng = np.random.default_rng(reach_id % 1000)
    depth = rng.uniform(2.0, 4.0, nt)
    width = 40.0 * np.sqrt(depth)
    wse = 8.0 + depth
    area = 2.0 / 3.0 * width * depth
    return FlowObs(width=width, wse=wse, slope=rng.uniform(0.8e-4, 1.2e-4, nt),
                   d_x_area=area - np.median(area))


def momma_params(reach_id: int, mean: float) -> dict[str, float]:
    """MOMMA flow-law parameters of a reach whose mean flow is ``mean``."""
    o = observations(reach_id)
    start = {"B": 7.5, "H": float(o.wse.max()), "nb": 0.03, "x": 0.5}
    return flowlaws.get("momma").with_mean(start, o, mean)


def metroman_params(reach_id: int, mean: float) -> dict[str, float]:
    """MetroMan flow-law parameters of a reach whose mean flow is ``mean``."""
    o = observations(reach_id)
    return flowlaws.get("metroman").with_mean({"Abar": 150.0, "na": 0.03, "x1": -0.2}, o, mean)


def write_sword(path: Path, reaches: list[int], down: dict[int, int], facc: dict[int, float]) -> None:
    """A SWORD file with only what the MOI reads (reaches group, topology stored [4, num_reaches])."""
    n = len(reaches)
    up = np.zeros((4, n), dtype=np.int64)
    dn = np.zeros((4, n), dtype=np.int64)
    for i, r in enumerate(reaches):
        if r in down:
            dn[0, i] = down[r]
        ups = [u for u, d in down.items() if d == r]
        up[: len(ups), i] = ups
    with ncio.create(path) as ds:
        ds.createDimension("num_reaches", n)
        ds.createDimension("num_domains", 4)
        g = ds.createGroup("reaches")
        ncio.write_var(g, "reach_id", np.asarray(reaches, dtype=np.int64), ("num_reaches",), "i8")
        ncio.write_var(g, "rch_id_up", up, ("num_domains", "num_reaches"), "i8")
        ncio.write_var(g, "rch_id_dn", dn, ("num_domains", "num_reaches"), "i8")
        ncio.write_var(g, "facc", [facc[r] for r in reaches], ("num_reaches",))
        ncio.write_var(g, "dist_out", np.arange(n, dtype=float) * 1e4, ("num_reaches",))


def write_sos(path: Path, prior: dict[int, float], gauged: tuple[int, ...] = ()) -> None:
    """A SoS file with reaches/reach_id, model/mean_q and model/overwritten_indexes."""
    ids = list(prior)
    with ncio.create(path) as ds:
        ds.createDimension("num_reaches", len(ids))
        ncio.write_var(ds.createGroup("reaches"), "reach_id", np.asarray(ids, np.int64), ("num_reaches",), "i8")
        m = ds.createGroup("model")
        ncio.write_var(m, "mean_q", [prior[r] for r in ids], ("num_reaches",))
        ncio.write_var(m, "overwritten_indexes", [int(r in gauged) for r in ids], ("num_reaches",), "i4")


def write_momma(folder: Path, reach_id: int, q: np.ndarray, valid: int = 1, **params: float) -> Path:
    """``{reach}_momma.nc`` as the contract reads it: ``Q`` on ``nt``, the flow-law scalars, ``valid``.

    ``params`` are the flow law's (B, H, nb, x), written under the file's names.
    """
    names = {"B": "zero_flow_stage", "H": "stage_max_obs", "nb": "n_bkfl_final_used", "x": "x_final_used"}
    path = folder / "momma" / f"{reach_id}_momma.nc"
    with ncio.create(path, valid=np.int32(valid)) as ds:
        ds.createDimension("nt", q.size)
        ncio.write_var(ds, "nt", np.arange(q.size, dtype=np.int32), ("nt",), "i4", fill=None)
        ncio.write_var(ds, "Q", q, ("nt",))
        for name, value in params.items():
            ncio.write_var(ds, names.get(name, name), value, ())
    return path


def write_metroman(folder: Path, reach_id: int, q: np.ndarray, q_u: np.ndarray, Abar: float, na: float,
                   x1: float) -> Path:
    """``{reach}_metroman.nc`` for a one-reach set: ``allq``/``q_u`` [nr, nt], Abar, nahat, x1hat [nr]."""
    path = folder / "metroman" / f"{reach_id}_metroman.nc"
    with ncio.create(path, valid=np.int32(1)) as ds:
        ds.createDimension("nr", 1)
        ds.createDimension("nt", q.size)
        ncio.write_var(ds, "reach_id", [reach_id], ("nr",), "i8")
        ncio.write_var(ds, "allq", q[None, :], ("nr", "nt"))
        ncio.write_var(ds, "q_u", q_u[None, :], ("nr", "nt"))
        for name, value in (("Abar", Abar), ("nahat", na), ("x1hat", x1)):
            ncio.write_var(ds, name, [value], ("nr",))
    return path


def write_swot(path: Path, reach_id: int, obs: FlowObs) -> None:
    """A SWOT reach file with the reach group's observations (what MOI reads)."""
    nt = obs.nt
    with ncio.create(path) as ds:
        ds.createDimension("nt", nt)
        ncio.write_var(ds, "nt", np.arange(nt, dtype=np.int32), ("nt",), "i4", fill=None)
        g = ds.createGroup("reach")
        ncio.write_var(g, "reach_id", np.full(nt, reach_id, np.int64), ("nt",), "i8")
        for name in ("width", "wse", "slope", "d_x_area"):
            ncio.write_var(g, name, getattr(obs, name), ("nt",))
        ncio.write_var(g, "time", np.arange(nt) * 86400.0 * 10, ("nt",))


def series(mean: float, nt: int = NT, seed: int = 0) -> np.ndarray:
    """A positive series with the given mean (m3/s)."""
    rng = np.random.default_rng(seed)
    q = np.exp(rng.normal(0.0, 0.3, nt))
    return q / q.mean() * mean


@pytest.fixture()
def tiny_run(mnt: Path) -> Path:
    """The tiny basin written into the run folder ``mnt``; returns ``mnt``."""
    write_sword(mnt / "input" / "sword" / "na_sword_v16.nc", REACHES, DOWN, FACC)
    write_sos(mnt / "input" / "sos" / "na_sword_v16_SOS_priors.nc", PRIOR)
    flpe = mnt / "flpe"
    law = {"momma": flowlaws.get("momma"), "metroman": flowlaws.get("metroman")}
    for r, m in MOMMA_MEAN.items():
        p = momma_params(r, m)
        write_momma(flpe, r, law["momma"].q(p, observations(r)), **p)
    for r, b in METRO_BIAS.items():
        p = metroman_params(r, TRUTH[r] * b)
        q = law["metroman"].q(p, observations(r))
        write_metroman(flpe, r, q, np.full_like(q, 0.3), **p)  # MetroMan q_u is relative (q_u_relative)
    for r in REACHES:
        write_swot(mnt / "input" / "swot" / f"{r}_SWOT.nc", r, observations(r))
    entry = {"basin_id": BASIN, "reach_id": [str(r) for r in REACHES], "sword": "na_sword_v16.nc",
             "sos": "na_sword_v16_SOS_priors.nc", "swot": [f"{r}_SWOT.nc" for r in REACHES]}
    jsonio.write_json(mnt / "input" / "basin.json", [entry])
    return mnt


@pytest.fixture()
def run_cli() -> Callable[..., Result]:
    """Run ``confluence-moi`` in-process with the given arguments (default ``--index 0``)."""
    from confluence_moi.cli import main

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args) or ["--index", "0"], catch_exceptions=False)

    return run


@pytest.fixture(scope="session")
def demo_script() -> ModuleType:
    """``scripts/demo_massbalance.py`` as a module (its setup and evaluation helpers)."""
    path = Path(__file__).resolve().parents[1] / "scripts" / "demo_massbalance.py"
    spec = importlib.util.spec_from_file_location("moi_demo_massbalance", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
