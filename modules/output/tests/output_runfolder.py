"""A small North-America run folder: an SoS (per confluence_core.sos), SWOT files and module
results in the public workflow's layouts (the reference files of ../shared/data, copied
under the reach ids the file names need) plus a few written here (validation, a second
postdiagnostics reach, a corrupt file)."""

from __future__ import annotations

import shutil
from pathlib import Path

import netCDF4
import numpy as np
from confluence_core import jsonio, ncio

R71, R61, R51, R81 = 77449100071, 77449100061, 77449100051, 77449100081
R_GEOBAM = 74269800011
R_CONS1, R_CONS2 = 74223700011, 74223700021
#: SoS reach order (deliberately not sorted).
REACHES = [R81, R71, R_GEOBAM, R61, R_CONS1, R51, R_CONS2]
NT_71 = 25
SOS = "na_sword_v16_SOS_priors.nc"
RESULTS = "na_sword_v16_SOS_results_unconstrained.nc"
SET_FILE = "77449100091-77449100081-77449100071-77449100061-77449100051_metroman.nc"


def node_ids(rid: int, n: int) -> np.ndarray:
    text = str(rid)
    return np.array([int(f"{text[:10]}{k:03d}{text[-1]}") for k in range(1, n + 1)], dtype=np.int64)


def swot_nodes(ref: Path) -> np.ndarray:
    with netCDF4.Dataset(ref / "swot" / f"{R_GEOBAM}_SWOT.nc") as ds:
        return np.asarray(ds["node/node_id"][:], dtype=np.int64)


def write_sos(path: Path, nodes: list[tuple[int, int]]) -> None:
    """SoS with ``reaches`` and ``nodes`` groups; ``nodes``: (node_id, reach_id) in SoS order."""
    with ncio.create(path, product_version="0003", sword_version="16", continent="na", gauge_agency="") as ds:
        ds.createDimension("num_reaches", len(REACHES))
        ds.createDimension("num_nodes", len(nodes))
        g = ds.createGroup("reaches")
        ncio.write_var(g, "reach_id", REACHES, ("num_reaches",), "i8", fill=None,
                       attrs={"long_name": "reach ID from SWORD"})
        ncio.write_var(g, "x", -120.0 - np.arange(len(REACHES)) / 10, ("num_reaches",),
                       attrs={"units": "degrees_east", "long_name": "longitude"})
        ncio.write_var(g, "y", 40.0 + np.arange(len(REACHES)) / 10, ("num_reaches",),
                       attrs={"units": "degrees_north", "long_name": "latitude"})
        v = g.createVariable("river_name", str, ("num_reaches",))
        v[:] = np.array([f"river {i}" for i in range(len(REACHES))], dtype=object)
        g = ds.createGroup("nodes")
        ncio.write_var(g, "node_id", [n for n, _ in nodes], ("num_nodes",), "i8", fill=None)
        ncio.write_var(g, "reach_id", [r for _, r in nodes], ("num_nodes",), "i8", fill=None)
        ncio.write_var(g, "x", np.linspace(-121, -120, len(nodes)), ("num_nodes",), attrs={"units": "degrees_east"})
        m = ds.createGroup("model")  # not carried into the results
        ncio.write_var(m, "mean_q", np.full(len(REACHES), 100.0), ("num_reaches",))


def write_swot(path: Path, rid: int, nt: int, nodes: np.ndarray) -> None:
    """A minimal {reach_id}_SWOT.nc (contracts.md section 6) with pass times and node ids."""
    with ncio.create(path) as ds:
        ds.createDimension("nt", nt)
        ds.createDimension("nx", nodes.size)
        r = ds.createGroup("reach")
        ncio.write_var(r, "reach_id", rid, (), "i8", fill=None)
        time = 7.0e8 + 86400.0 * 21 * np.arange(nt)
        time[3] = np.nan  # a pass without time: fill
        ncio.write_var(r, "time", time, ("nt",), attrs={"units": "seconds since 2000-01-01 00:00:00.000",
                                                        "long_name": "time (UTC)", "calendar": "gregorian"})
        n = ds.createGroup("node")
        ncio.write_var(n, "node_id", nodes, ("nx",), "i8", fill=None)


def write_validation(path: Path, products: list[str], seed: int) -> None:
    """A validation file: dim num_products, product names, one variable per statistic."""
    rng = np.random.default_rng(seed)
    with ncio.create(path, reach_id=np.int64(int(path.name[:11]))) as ds:
        ds.createDimension("num_products", len(products))
        v = ds.createVariable("product_names", str, ("num_products",))
        v[:] = np.array(products, dtype=object)
        for stat in ("NSE", "R2", "KGE", "RMSE", "nRMSE", "nBIAS"):
            vals = rng.normal(size=len(products))
            vals[-1] = np.nan
            ncio.write_var(ds, stat, vals, ("num_products",), attrs={"units": "1" if stat != "RMSE" else "m^3/s"})


def write_flpe_diag(path: Path, algos: list[str], realism: list[int]) -> None:
    with ncio.create(path, reach_id=np.int64(int(path.name[:11]))) as ds:
        ds.createDimension("num_algos", len(algos))
        ncio.write_var(ds, "num_algos", np.arange(len(algos)), ("num_algos",), "i4", fill=None)
        v = ds.createVariable("algo_names", str, ("num_algos",))
        v[:] = np.array(algos, dtype=object)
        ncio.write_var(ds, "realism_flags", realism, ("num_algos",), "i4")
        ncio.write_var(ds, "stability_flags", np.zeros(len(algos)), ("num_algos",), "i4")


def build_run(mnt: Path, ref: Path) -> Path:
    """Fill the run folder ``mnt`` (see module docstring); returns the results path to expect."""
    ro = ref / "reference_outputs"
    geobam_nodes = swot_nodes(ro)
    n71 = node_ids(R71, 48)
    nodes: list[tuple[int, int]] = []
    # SoS node order: R81's nodes, then R71's nodes reversed and without its last node,
    # then the geobam reach's nodes, then three per other reach
    nodes += [(int(n), R81) for n in node_ids(R81, 3)]
    nodes += [(int(n), R71) for n in n71[:-1][::-1]]
    nodes += [(int(n), R_GEOBAM) for n in geobam_nodes]
    for r in (R61, R_CONS1, R51, R_CONS2):
        nodes += [(int(n), r) for n in node_ids(r, 3)]
    inp = mnt / "input"
    (inp / "sos").mkdir(parents=True, exist_ok=True)
    (inp / "swot").mkdir(parents=True, exist_ok=True)
    jsonio.write_json(inp / "continent.json", [{"af": [1]}, {"na": [7, 8, 9]}])
    write_sos(inp / "sos" / SOS, nodes)
    shutil.copy(ro / "swot" / f"{R_GEOBAM}_SWOT.nc", inp / "swot")
    write_swot(inp / "swot" / f"{R71}_SWOT.nc", R71, NT_71, n71)

    def put(src: Path, *dest: str) -> None:
        target = mnt.joinpath(*dest)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, target)

    put(ro / "prediags" / f"{R71}_prediagnostics.nc", "diagnostics", "prediagnostics", f"{R71}_prediagnostics.nc")
    put(ro / "flpe" / "geobam" / f"{R_GEOBAM}_geobam.nc", "flpe", "geobam", f"{R_GEOBAM}_geobam.nc")
    for algo in ("momma", "sad", "hivdi"):
        put(ro / "flpe" / algo / f"{R71}_{algo}.nc", "flpe", algo, f"{R71}_{algo}.nc")
    put(ro / "flpe" / "sic4dvar" / f"{R61}_sic4dvar.nc", "flpe", "sic4dvar", f"{R61}_sic4dvar.nc")
    for r in (R71, R61):  # the set file under each reach's name (flpe_outputs.toml pattern)
        put(ro / "flpe" / "metroman" / SET_FILE, "flpe", "metroman", f"{r}_metroman.nc")
    for r in (R_CONS1, R_CONS2):
        put(ro / "flpe" / "consensus" / f"{r}_consensus.nc", "flpe", "consensus", f"{r}_consensus.nc")
    put(ro / "moi" / f"{R71}_integrator.nc", "moi", f"{R71}_integrator.nc")
    put(ro / "postdiags" / "reach" / f"{R71}_flpe_diag.nc", "diagnostics", "postdiagnostics", f"{R71}_flpe_diag.nc")
    put(ro / "postdiags" / "basin" / f"{R71}_moi_diag.nc", "diagnostics", "postdiagnostics", f"{R71}_moi_diag.nc")
    put(ro / "offline" / f"{R71}_offline.nc", "offline", f"{R71}_offline.nc")
    write_flpe_diag(mnt / "diagnostics" / "postdiagnostics" / f"{R81}_flpe_diag.nc", ["momma", "newalgo"], [0, 1])
    (mnt / "validation").mkdir(exist_ok=True)
    write_validation(mnt / "validation" / f"{R71}_validation.nc", ["neobam", "metroman", "momma"], 1)
    write_validation(mnt / "validation" / f"{R61}_validation.nc", ["sad", "momma"], 2)
    # damaged files: not NetCDF at all, and a truncated copy
    (mnt / "flpe" / "sad" / f"{R61}_sad.nc").write_bytes(b"this is not a NetCDF file")
    data = (ro / "flpe" / "momma" / f"{R71}_momma.nc").read_bytes()
    (mnt / "flpe" / "momma" / f"{R61}_momma.nc").write_bytes(data[: len(data) // 3])
    # a file of a reach the SoS does not hold
    put(ro / "flpe" / "hivdi" / f"{R71}_hivdi.nc", "flpe", "hivdi", "11111111111_hivdi.nc")
    return mnt / "output" / RESULTS
