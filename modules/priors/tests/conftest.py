"""Small SoS and SWOT fixtures written per confluence_core.sos / contracts.md section 6."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from confluence_core import jsonio, ncio
from confluence_core.sos import EXCEEDANCE, date_to_qt, sos_name

REACHES = [74269800011, 74269800021, 74269800031]
NODES_PER_REACH = 3


def node_ids(rid: int) -> list[int]:
    text = str(rid)
    return [int(f"{text[:10]}{k:03d}{text[-1]}") for k in range(1, NODES_PER_REACH + 1)]


def model_values(n: int) -> dict[str, np.ndarray]:
    """Recognisable model values: reach i has mean 100 (i + 1) m3/s."""
    base = 100.0 * (np.arange(n) + 1)
    return {
        "mean_q": base, "min_q": base / 10, "max_q": base * 10,
        "monthly_q": base[:, None] * np.linspace(0.5, 1.5, 12)[None, :],
        "flow_duration_q": base[:, None] * np.linspace(5, 0.1, len(EXCEEDANCE))[None, :],
        "two_year_return_q": base * 5,
    }


def write_sos(path: Path, gauges: list[dict] | None = None, skip_group: str | None = None,
              version: str = "0001") -> Path:
    """Write a minimal SoS with three na reaches, three nodes each and an optional USGS group.

    ``gauges``: dicts with site, reach_id, cal, start (date), q (list of m3/s).
    """
    n = len(REACHES)
    nodes = [nid for r in REACHES for nid in node_ids(r)]
    with ncio.create(path, product_version=version, sword_version="16", continent="na",
                     gauge_agency="USGS" if gauges else "") as ds:
        ds.createDimension("num_reaches", n)
        ds.createDimension("num_nodes", len(nodes))
        ds.createDimension("num_months", 12)
        ds.createDimension("probability", len(EXCEEDANCE))
        groups = {"reaches", "nodes", "model"} - {skip_group}
        if "reaches" in groups:
            g = ds.createGroup("reaches")
            ncio.write_var(g, "reach_id", REACHES, ("num_reaches",), "i8", fill=None)
            ncio.write_var(g, "x", [-120.0, -120.1, -120.2], ("num_reaches",))
            ncio.write_var(g, "y", [45.0, 45.1, 45.2], ("num_reaches",))
            v = g.createVariable("river_name", str, ("num_reaches",))
            v[:] = np.array(["A river", "A river", "B river"], dtype=object)
        if "nodes" in groups:
            g = ds.createGroup("nodes")
            ncio.write_var(g, "node_id", nodes, ("num_nodes",), "i8", fill=None)
            ncio.write_var(g, "reach_id", [r for r in REACHES for _ in range(NODES_PER_REACH)],
                           ("num_nodes",), "i8", fill=None)
        if "model" in groups:
            g = ds.createGroup("model")
            for name, arr in model_values(n).items():
                dims = {"monthly_q": ("num_reaches", "num_months"),
                        "flow_duration_q": ("num_reaches", "probability")}.get(name, ("num_reaches",))
                ncio.write_var(g, name, arr, dims, attrs={"units": "m^3/s"})
            ncio.write_var(g, "probability", EXCEEDANCE, ("probability",))
            ncio.write_var(g, "overwritten_indexes", np.zeros(n), ("num_reaches",), "i4")
            v = g.createVariable("overwritten_source", str, ("num_reaches",))
            v[:] = np.array([""] * n, dtype=object)
            ncio.write_var(g, "bad_priors", np.zeros(n), ("num_reaches",), "i4")
        if gauges:
            _usgs(ds, gauges)
    return path


def _usgs(ds: netCDF4.Dataset, gauges: list[dict]) -> None:
    days = max(len(g["q"]) for g in gauges)
    ds.createDimension("num_USGS_reaches", len(gauges))
    ds.createDimension("USGS_num_days", days)
    g = ds.createGroup("USGS")
    q = np.full((len(gauges), days), np.nan)
    qt = np.full((len(gauges), days), np.nan)
    for i, gauge in enumerate(gauges):
        q[i, :len(gauge["q"])] = gauge["q"]
        qt[i, :len(gauge["q"])] = date_to_qt(gauge["start"]) + np.arange(len(gauge["q"]))
    ncio.write_var(g, "USGS_reach_id", [x["reach_id"] for x in gauges], ("num_USGS_reaches",), "i8", fill=None)
    v = g.createVariable("USGS_id", str, ("num_USGS_reaches",))
    v[:] = np.array([x["site"] for x in gauges], dtype=object)
    ncio.write_var(g, "USGS_q", q, ("num_USGS_reaches", "USGS_num_days"))
    ncio.write_var(g, "USGS_qt", qt, ("num_USGS_reaches", "USGS_num_days"))
    ncio.write_var(g, "USGS_CAL", [x["cal"] for x in gauges], ("num_USGS_reaches",), "i4")


def write_swot(path: Path, rid: int, width: np.ndarray, slope: np.ndarray) -> Path:
    """A SWOT file per contracts.md section 6 (reach widths/slope2, node widths)."""
    nt = len(width)
    nodes = node_ids(rid)
    with ncio.create(path) as ds:
        ds.createDimension("nt", nt)
        ds.createDimension("nx", len(nodes))
        r = ds.createGroup("reach")
        ncio.write_var(r, "reach_id", rid, (), "i8", fill=None)
        ncio.write_var(r, "width", width, ("nt",))
        ncio.write_var(r, "slope2", slope, ("nt",))
        n = ds.createGroup("node")
        ncio.write_var(n, "node_id", nodes, ("nx",), "i8", fill=None)
        node_w = np.asarray(width)[None, :] * np.array([0.9, 1.0, 1.1])[:, None]
        node_w[0, :] = np.nan  # an unobserved node
        ncio.write_var(n, "width", node_w, ("nx", "nt"))
    return path


@pytest.fixture()
def gauge_a() -> dict:
    """A two-year calibration gauge on the first reach (flows 10 ... 739 m3/s)."""
    return {"site": "01000001", "reach_id": REACHES[0], "cal": 1, "start": dt.date(2020, 1, 1),
            "q": list(10.0 + np.arange(731))}


@pytest.fixture()
def gauge_b() -> dict:
    """A validation gauge on the second reach."""
    return {"site": "01000002", "reach_id": REACHES[1], "cal": 0, "start": dt.date(2021, 1, 1),
            "q": [5.0] * 400}


@pytest.fixture()
def run_folder(mnt: Path, gauge_a: dict, gauge_b: dict) -> Callable[..., Path]:
    """Build a run folder: continent.json, reaches.json, SWOT files, SoS; returns the SoS path."""

    def build(gauges: list[dict] | None = None, **kwargs: object) -> Path:
        inp = mnt / "input"
        jsonio.write_json(inp / "continent.json", [{"af": [1]}, {"na": [7, 8, 9]}])
        jsonio.write_json(inp / "reaches.json", [
            {"reach_id": r, "sword": "na_sword_v16.nc", "swot": f"{r}_SWOT.nc",
             "sos": "na_sword_v16_SOS_priors.nc"} for r in [*REACHES, 11111100011]])
        rng = np.random.default_rng(1)
        widths = [80.0, 400.0, 30.0]
        slopes = [1e-4, 5e-5, 5e-3]
        for r, w, s in zip(REACHES[:2], widths, slopes, strict=False):  # third reach: no SWOT file
            write_swot(inp / "swot" / f"{r}_SWOT.nc", r, w * np.exp(rng.normal(0, 0.1, 30)),
                       s + rng.normal(0, s / 10, 30))
        return write_sos(inp / "sos" / sos_name("na"),
                         gauges if gauges is not None else [gauge_a, gauge_b], **kwargs)

    return build
