"""Builders of the validation tests: SWOT time axes, SoS gauge groups and product files in a run folder.

Imported by the tests as ``validation_builders`` (``conftest.py`` puts this folder on ``sys.path``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import netCDF4
import numpy as np
from confluence_core import ncio, sos

EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def swot_seconds(stamp: str) -> float:
    """``YYYY-MM-DDThh:mm:ssZ`` -> s since 2000-01-01 UTC."""
    when = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    return (when - EPOCH).total_seconds()


def qt(day: str | dt.date) -> int:
    """Days since 0001-01-01 of an ISO date."""
    return sos.date_to_qt(dt.date.fromisoformat(day) if isinstance(day, str) else day)


def write_swot(path: Path, reach_id: int, times: Sequence[float]) -> Path:
    """A minimal ``{reach}_SWOT.nc``: dim nt, group reach with reach_id and time (NaN -> fill)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with ncio.create(path, reach_id=np.int64(reach_id)) as ds:
        ds.createDimension("nt", len(times))
        ncio.write_var(ds, "nt", np.arange(len(times)), ("nt",), "i4", fill=None)
        g = ds.createGroup("reach")
        ncio.write_var(g, "reach_id", np.int64(reach_id), (), "i8", fill=None)
        ncio.write_var(g, "time", np.asarray(times, dtype=float), ("nt",),
                       attrs={"units": "seconds since 2000-01-01 00:00:00.000"})
    return path


def write_sos(path: Path, agencies: Mapping[str, Sequence[Mapping]], gauge_agency: str | None = None) -> Path:
    """An SoS with only the gauge groups: agency -> gauges {reach_id, id, cal, qt[days], q[days]}.

    Rows of unequal length are padded with fill, as in real SoS files.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    attrs = {"gauge_agency": gauge_agency if gauge_agency is not None else ";".join(agencies)}
    with ncio.create(path, **attrs) as ds:
        for agency, gauges in agencies.items():
            nd = max([1, *(len(g["q"]) for g in gauges)])
            ds.createDimension(sos.agency_dim(agency), len(gauges))
            ds.createDimension(sos.agency_days_dim(agency), nd)
            grp = ds.createGroup(agency)
            dims = (sos.agency_dim(agency), sos.agency_days_dim(agency))
            q = np.full((len(gauges), nd), np.nan)
            t = np.full((len(gauges), nd), np.nan)
            for i, g in enumerate(gauges):
                q[i, : len(g["q"])] = g["q"]
                t[i, : len(g["qt"])] = g["qt"]
            ncio.write_var(grp, f"{agency}_reach_id", [g["reach_id"] for g in gauges], dims[:1], "i8")
            grp.createVariable(f"{agency}_id", str, dims[:1])[:] = np.array([g["id"] for g in gauges], dtype=object)
            ncio.write_var(grp, f"{agency}_q", q, dims)
            ncio.write_var(grp, f"{agency}_qt", t, dims, attrs={"units": "days since 0001-01-01"})
            ncio.write_var(grp, f"{agency}_CAL", [g["cal"] for g in gauges], dims[:1], "i4")
    return path


def write_nt_file(path: Path, variables: Mapping[str, Sequence[float]], **attrs: object) -> Path:
    """A NetCDF with dim nt and float variables on it; ``group/var`` names create groups."""
    path.parent.mkdir(parents=True, exist_ok=True)
    nt = len(next(iter(variables.values())))
    with ncio.create(path, **attrs) as ds:
        ds.createDimension("nt", nt)
        for name, values in variables.items():
            group_name, _, var = name.rpartition("/")
            grp = ds
            if group_name:
                grp = ds.groups.get(group_name) or ds.createGroup(group_name)
            ncio.write_var(grp, var, np.asarray(values, dtype=float), ("nt",))
    return path


def write_reaches(mnt: Path, entries: Sequence[Mapping]) -> Path:
    """``input/reaches.json``."""
    path = mnt / "input" / "reaches.json"
    path.write_text(json.dumps(list(entries)))
    return path


def entry(reach_id: int, sos_file: str = "na_sword_v16_SOS_priors.nc") -> dict:
    """A ``reaches.json`` entry."""
    return {"reach_id": reach_id, "sword": "na_sword_v16.nc", "swot": f"{reach_id}_SWOT.nc", "sos": sos_file}


# --- a small run: one reach with a USGS validation gauge and products of every family --------------

RID = 74269800011
SOS = "na_sword_v16_SOS_priors.nc"
#: Observations: 6 passes at 05:00Z, one with a fill time.
OBS_DAYS = ["2024-07-01", "2024-07-03", "2024-07-05", "2024-07-08", "2024-07-10", "2024-07-12"]


def gauge_series(start: str = "2024-06-25", n: int = 25) -> tuple[list[int], list[float]]:
    """A daily gauge: Q = 100 + 10 * day index."""
    d0 = dt.date.fromisoformat(start)
    return [qt(d0 + dt.timedelta(days=i)) for i in range(n)], [100.0 + 10 * i for i in range(n)]


def gauge_q(day: str, start: str = "2024-06-25") -> float:
    return 100.0 + 10 * (dt.date.fromisoformat(day) - dt.date.fromisoformat(start)).days


def make_run(mnt: Path, gauges: dict | None = None, times: list[float] | None = None,
             est: np.ndarray | None = None) -> np.ndarray:
    """SoS, SWOT file and products (momma = 1.1 gauge, consensus, MOI, offline) for reach RID."""
    days, q = gauge_series()
    if gauges is None:
        gauges = {"USGS": [{"reach_id": RID, "id": "15744500", "cal": 0, "qt": days, "q": q},
                           {"reach_id": 74269800021, "id": "00000001", "cal": 0, "qt": days, "q": q}]}
    write_sos(mnt / "input" / "sos" / SOS, gauges)
    if times is None:
        times = [swot_seconds(f"{d}T05:00:00Z") for d in OBS_DAYS] + [float("nan")]
    write_swot(mnt / "input" / "swot" / f"{RID}_SWOT.nc", RID, times)
    if est is None:
        est = np.array([1.1 * gauge_q(d) for d in OBS_DAYS] + [555.0])
    write_nt_file(mnt / "flpe" / "momma" / f"{RID}_momma.nc", {"Q": est}, valid=np.int32(1))
    write_nt_file(mnt / "flpe" / "consensus" / f"{RID}_consensus.nc", {"consensus_q": est - 20.0})
    write_nt_file(mnt / "moi" / f"{RID}_integrator.nc", {"momma/q": est * 0.5, "sad/q": np.full(est.size, np.nan)})
    off = write_nt_file(mnt / "offline" / f"{RID}_offline.nc", {"momma_q_c": est, "momma_q_uc": est})
    with netCDF4.Dataset(off, "a") as ds:  # a series of the wrong length: skipped with a warning
        ds.createDimension("short", 3)
        ds.createVariable("sads_q_c", "f8", ("short",))[:] = est[:3]
    write_reaches(mnt, [entry(RID, SOS), entry(74269800099, SOS)])
    return est
