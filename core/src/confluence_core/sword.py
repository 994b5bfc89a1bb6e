"""SWORD ``{c}_sword_v{N}.nc`` layout (contracts.md section 7) and a topology reader.

Groups ``centerlines``, ``nodes``, ``reaches``.  Dimension names follow the
published SWORD NetCDF product: ``num_reaches``, ``num_nodes``,
``num_points``, ``num_domains`` (4, for ``rch_id_up``/``rch_id_dn`` and
``cl_ids``-like variables) and ``orbits`` (75, for ``swot_orbits``).
Units: ``slope`` m/km, ``facc`` km2, lengths and widths m.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import netCDF4
import numpy as np

from . import ncio
from .errors import InputError

REACH_DIM = "num_reaches"
NODE_DIM = "num_nodes"
POINT_DIM = "num_points"
DOMAIN_DIM = "num_domains"
ORBIT_DIM = "orbits"
N_DOMAINS = 4
N_ORBITS = 75
DEFAULT_VERSION = 16


def sword_name(continent: str, version: int | str = DEFAULT_VERSION) -> str:
    """Return the SWORD file name of a continent, e.g. ``na_sword_v16.nc``."""
    return f"{continent}_sword_v{version}.nc"


@dataclass(frozen=True)
class Reaches:
    """The reach table of a SWORD file, one row per reach (arrays aligned)."""

    reach_id: np.ndarray  # int64
    reach_length: np.ndarray  # m
    width: np.ndarray  # m
    wse: np.ndarray  # m
    slope: np.ndarray  # m/km
    facc: np.ndarray  # km2
    n_nodes: np.ndarray
    rch_id_up: np.ndarray  # int64 [num_reaches, 4], 0 where none
    rch_id_dn: np.ndarray  # int64 [num_reaches, 4], 0 where none
    dist_out: np.ndarray  # m
    swot_orbits: np.ndarray | None  # int64 [num_reaches, 75], 0 where none

    def row(self, reach_id: int) -> int:
        """Return the row of ``reach_id`` (KeyError when absent)."""
        hits = np.flatnonzero(self.reach_id == int(reach_id))
        if hits.size == 0:
            raise KeyError(reach_id)
        return int(hits[0])

    def upstream(self, reach_id: int) -> list[int]:
        return [int(r) for r in self.rch_id_up[self.row(reach_id)] if r > 0]

    def downstream(self, reach_id: int) -> list[int]:
        return [int(r) for r in self.rch_id_dn[self.row(reach_id)] if r > 0]


def read_reaches(path: str | os.PathLike[str]) -> Reaches:
    """Read the ``reaches`` group of a SWORD file (missing optional fields -> NaN / None)."""
    path = Path(path)
    with ncio.open_dataset(path) as ds:
        grp = ncio.get_group(ds, "reaches")
        if grp is None or not ncio.has_var(grp, "reach_id"):
            raise InputError("no reaches/reach_id: not a SWORD file", path)
        rid = np.asarray(grp["reach_id"][:], dtype=np.int64)
        n = rid.size

        def f(name: str) -> np.ndarray:
            out = ncio.read_float(grp, name)
            return np.full(n, np.nan) if out is None else out

        def topo(name: str) -> np.ndarray:
            if not ncio.has_var(grp, name):
                return np.zeros((n, N_DOMAINS), dtype=np.int64)
            return _reach_major(grp[name], n)

        orbits = None
        if ncio.has_var(grp, "swot_orbits"):
            orbits = _reach_major(grp["swot_orbits"], n)
        n_nodes = ncio.read_int(grp, "n_nodes")
        return Reaches(
            reach_id=rid,
            reach_length=f("reach_length"),
            width=f("width"),
            wse=f("wse"),
            slope=f("slope"),
            facc=f("facc"),
            n_nodes=np.zeros(n, dtype=np.int64) if n_nodes is None else np.asarray(n_nodes),
            rch_id_up=topo("rch_id_up"),
            rch_id_dn=topo("rch_id_dn"),
            dist_out=f("dist_out"),
            swot_orbits=orbits,
        )


def _reach_major(var: netCDF4.Variable[Any], n: int) -> np.ndarray:
    """Return a 2-D id table as [num_reaches, k] whatever its stored order (by dimension name)."""
    arr = np.asarray(var[:], dtype=np.int64)
    dims = var.dimensions
    return arr.T if (dims and dims[-1] == REACH_DIM) or (arr.shape[0] != n and arr.shape[-1] == n) else arr


def read_nodes(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read the ``nodes`` group of a SWORD file as arrays (node_id, reach_id, width, wse, ...)."""
    path = Path(path)
    with ncio.open_dataset(path) as ds:
        grp = ncio.get_group(ds, "nodes")
        if grp is None or not ncio.has_var(grp, "node_id"):
            raise InputError("no nodes/node_id: not a SWORD file", path)
        out: dict[str, np.ndarray] = {
            "node_id": np.asarray(grp["node_id"][:], dtype=np.int64),
            "reach_id": np.asarray(grp["reach_id"][:], dtype=np.int64),
        }
        for name in ("x", "y", "wse", "width", "facc", "dist_out"):
            val = ncio.read_float(grp, name)
            if val is not None:
                out[name] = val
        return out
