"""A tiny basin in a run folder: SWORD topology, SoS priors, FLPE results, SWOT time axes, basin.json.

Basin 7426, SWORD ids growing upstream::

    74260000041 (trib A, momma)   74260000051 (trib B, momma + metroman)
                  \\                 /
                   74260000034  (dam, type 4: no FLPE result)
                          |
                   74260000021  (momma + metroman)
                          |
                   74260000011  (outlet, momma)

The raw momma means break mass balance on purpose: the outlet's is smaller
than the sum of the tributaries'.
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

BASIN = 7426
OUTLET, MID, DAM, TRIB_A, TRIB_B = 74260000011, 74260000021, 74260000034, 74260000041, 74260000051
REACHES = [OUTLET, MID, DAM, TRIB_A, TRIB_B]
DOWN = {TRIB_A: DAM, TRIB_B: DAM, DAM: MID, MID: OUTLET}
FACC = {OUTLET: 1100.0, MID: 1050.0, DAM: 1000.0, TRIB_A: 600.0, TRIB_B: 390.0}
PRIOR = {OUTLET: 110.0, MID: 105.0, DAM: 100.0, TRIB_A: 60.0, TRIB_B: 40.0}
#: Raw momma reach means (m3/s): the tributaries sum to 115, the outlet says 70.
MOMMA_MEAN = {OUTLET: 70.0, MID: 100.0, TRIB_A: 75.0, TRIB_B: 40.0}
NT = 12


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
    """``{reach}_momma.nc``: ``Q`` on ``nt``, scalars, root attribute ``valid``."""
    path = folder / "momma" / f"{reach_id}_momma.nc"
    with ncio.create(path, valid=np.int32(valid)) as ds:
        ds.createDimension("nt", q.size)
        ncio.write_var(ds, "nt", np.arange(q.size, dtype=np.int32), ("nt",), "i4", fill=None)
        ncio.write_var(ds, "Q", q, ("nt",))
        for name, value in params.items():
            ncio.write_var(ds, name, value, ())
    return path


def write_metroman(folder: Path, reach_id: int, q: np.ndarray, q_u: np.ndarray, A0: float, na: float,
                   x1: float) -> Path:
    """``{reach}_metroman.nc`` for a one-reach set: ``allq``/``q_u`` [nr, nt], A0hat, nahat, x1hat [nr]."""
    path = folder / "metroman" / f"{reach_id}_metroman.nc"
    with ncio.create(path, valid=np.int32(1)) as ds:
        ds.createDimension("nr", 1)
        ds.createDimension("nt", q.size)
        ncio.write_var(ds, "reach_id", [reach_id], ("nr",), "i8")
        ncio.write_var(ds, "allq", q[None, :], ("nr", "nt"))
        ncio.write_var(ds, "q_u", q_u[None, :], ("nr", "nt"))
        for name, value in (("A0hat", A0), ("nahat", na), ("x1hat", x1)):
            ncio.write_var(ds, name, [value], ("nr",))
    return path


def write_swot(path: Path, nt: int) -> None:
    """A SWOT file stub: only the ``nt`` dimension matters to the MOI."""
    with ncio.create(path) as ds:
        ds.createDimension("nt", nt)
        ncio.write_var(ds, "nt", np.arange(nt, dtype=np.int32), ("nt",), "i4", fill=None)


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
    for i, (r, m) in enumerate(MOMMA_MEAN.items()):
        write_momma(flpe, r, series(m, seed=i), zero_flow_stage=10.0 + i, bankfull_stage=15.0 + i)
    for r, m in ((MID, 90.0), (TRIB_B, 45.0)):
        q = series(m, seed=7)
        write_metroman(flpe, r, q, 0.3 * q, A0=500.0, na=0.03, x1=-0.2)
    for r in REACHES:
        write_swot(mnt / "input" / "swot" / f"{r}_SWOT.nc", NT)
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
