"""MetroMan's files in ``flpe/metroman/``: the set file and the per-reach files.

Set file ``{set}_metroman.nc`` (``set`` = the reach ids joined by ``-``, upstream to downstream),
the layout of the public workflow's file (``reference_outputs/flpe/metroman``)::

    global attributes: set_id = "{set}_metroman.nc" (str), valid = 1 | 0 (int64)
    dimensions: nr (reaches), nt (times of the set's axis, setfit.align_times)
    int32 nr(nr)            units "reach", 1 .. nr, no _FillValue
    int32 nt(nt)            units "time steps", 0 .. nt-1, no _FillValue
    int64 reach_id(nr)      no _FillValue
    float64 A0hat(nr)       m2, area at the lowest observed stage     _FillValue -999999999999
    float64 nahat(nr)       s m^-1/3, roughness at 1 m hydraulic depth
    float64 x1hat(nr)       roughness-depth exponent
    float64 Abar(nr)        m2, area where d_x_area = 0 (ours, beyond the reference layout: the
                            flow law's Abar, read by MOI and offline through the output contract)
    float64 allq(nr, nt)    m3/s, posterior mean discharge
    float64 q_u(nr, nt)     relative 1-sigma uncertainty of allq (dimensionless)

``valid`` of the set file is 1 when at least one reach has a result.

Per-reach file ``{reach_id}_metroman.nc``, one per reach of a set of two or more (a set of one
*is* its per-reach file): the same variables with ``nr = 1`` and ``nt`` the reach's own times
(the ``nt`` of its SWOT file), ``set_id`` naming the set file it comes from, ``valid`` that
reach's flag and, when flagged, ``reason``.  Downstream steps (consensus, MOI, offline) read a
reach's MetroMan discharge from it without knowing its set (:func:`read_reach_q`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import netCDF4
import numpy as np
from confluence_core import ncio
from confluence_flpe.interface import FlpeResult

#: Float variables per reach, in file order (FlpeResult.params keys).
PARAMS = ("A0hat", "nahat", "x1hat", "Abar")
PARAM_ATTRS = {
    "A0hat": {"units": "m2", "long_name": "flow area at the lowest observed stage (posterior mean)"},
    "Abar": {"units": "m2", "long_name": "flow area where d_x_area = 0 (A0hat - the lowest observed d_x_area): "
                                         "the Abar of the flow law A = Abar + d_x_area"},
    "nahat": {"units": "s m-1/3", "long_name": "Manning roughness at 1 m hydraulic depth (posterior mean)"},
    "x1hat": {"units": "1", "long_name": "exponent of n = na * (A/W)**x1 (posterior mean)"},
}


def set_name(reach_ids: Sequence[int]) -> str:
    """``{id1}-{id2}-..._metroman.nc``."""
    return "-".join(str(int(r)) for r in reach_ids) + "_metroman.nc"


def write_file(
    ds: netCDF4.Dataset,
    set_id: str,
    reach_ids: Sequence[int],
    q: np.ndarray,
    q_u: np.ndarray,
    params: dict[str, np.ndarray],
    valid: bool,
    reason: str = "",
) -> None:
    """Fill an open dataset with the MetroMan layout (see the module docstring).

    Parameters
    ----------
    ds : netCDF4.Dataset
        New, empty dataset.
    set_id : str
        Name of the set file.
    reach_ids : sequence of int
        ``[nr]`` reach ids.
    q, q_u : ndarray, shape (nr, nt)
        Discharge (m3/s) and its relative uncertainty, NaN where none.
    params : dict of ndarray
        ``A0hat``, ``nahat``, ``x1hat``, ``Abar``, each ``[nr]``.
    valid : bool
        The file's ``valid`` attribute.
    reason : str
        Written as the attribute ``reason`` when not empty.
    """
    nr, nt = np.shape(q)
    ds.setncattr("set_id", set_id)
    ds.setncattr("valid", np.int64(1 if valid else 0))
    if reason:
        ds.setncattr("reason", reason)
    ds.createDimension("nr", nr)
    ds.createDimension("nt", nt)
    ncio.write_var(ds, "nr", np.arange(1, nr + 1), ("nr",), dtype="i4", fill=None, attrs={"units": "reach"})
    ncio.write_var(ds, "nt", np.arange(nt), ("nt",), dtype="i4", fill=None, attrs={"units": "time steps"})
    ncio.write_var(ds, "reach_id", np.asarray(reach_ids, dtype=np.int64), ("nr",), dtype="i8", fill=None)
    for name in PARAMS:
        ncio.write_var(ds, name, params[name], ("nr",), attrs=PARAM_ATTRS[name])
    ncio.write_var(ds, "allq", q, ("nr", "nt"), attrs={"units": "m3/s"})
    ncio.write_var(ds, "q_u", q_u, ("nr", "nt"), attrs={"units": "1", "long_name": "relative uncertainty of allq"})


def param_array(results: Sequence[FlpeResult], name: str) -> np.ndarray:
    """``[nr]`` values of the parameter ``name`` (NaN for flagged reaches)."""
    return np.asarray([float(r.params.get(name, np.nan)) if r.valid else np.nan for r in results])


def series_or_nan(res: FlpeResult, nt: int, attr: str) -> np.ndarray:
    """``res.<attr>`` (``q`` or ``q_u``) as float64 ``[nt]``; all NaN when absent or flagged."""
    vals = getattr(res, attr)
    if vals is None or not res.valid:
        return np.full(nt, np.nan)
    return np.asarray(vals, dtype=np.float64)


def write_reach_file(path: Path, set_id: str, res: FlpeResult, nt: int) -> None:
    """Write the per-reach file of ``res`` (its own ``nt`` times) atomically at ``path``."""
    with ncio.create(path) as ds:
        write_file(
            ds,
            set_id,
            [res.reach_id],
            series_or_nan(res, nt, "q")[None, :],
            series_or_nan(res, nt, "q_u")[None, :],
            {name: param_array([res], name) for name in PARAMS},
            res.valid,
            res.reason,
        )
