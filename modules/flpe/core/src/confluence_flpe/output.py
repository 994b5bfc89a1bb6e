"""Helpers that keep each plug-in's ``write`` short.

Every FLPE file has a root dimension ``nt`` (the reach's observation times,
``nx`` never), float variables with ``_FillValue`` -999999999999 where NaN,
and a root attribute ``valid`` (1 ran, 0 could not run) as in
``reference_outputs/flpe`` (contracts.md section 9).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import netCDF4
import numpy as np
from confluence_core import ncio
from confluence_core.fill import STR_FILL

Group = netCDF4.Dataset | netCDF4.Group


def set_valid(ds: Group, valid: bool) -> None:
    """Set the root attribute ``valid`` (int32 1 or 0)."""
    ds.setncattr("valid", np.int32(1 if valid else 0))


def time_dim(ds: Group, nt: int, name: str = "nt", coord: np.ndarray | None = None,
             units: str = "time") -> None:
    """Create dimension ``name`` of length ``nt`` and its int32 coordinate variable.

    ``coord`` defaults to ``0 .. nt-1``; the coordinate has no ``_FillValue``
    and ``units`` as the reference files have it.
    """
    ds.createDimension(name, nt)
    values = np.arange(nt, dtype=np.int32) if coord is None else np.asarray(coord, dtype=np.int32)
    ncio.write_var(ds, name, values, (name,), dtype="i4", fill=None, attrs={"units": units})


def series(ds: Group, name: str, values: Any, dim: str = "nt", attrs: Mapping[str, Any] | None = None) -> None:
    """Write a float64 time series on ``dim`` (NaN -> -999999999999)."""
    ncio.write_var(ds, name, np.asarray(values, dtype=np.float64), (dim,), attrs=attrs)


def scalar(ds: Group, name: str, value: float | None, attrs: Mapping[str, Any] | None = None) -> None:
    """Write a float64 scalar (None or NaN -> -999999999999)."""
    ncio.write_var(ds, name, np.float64(np.nan if value is None else value), (), attrs=attrs)


def scalars(ds: Group, values: Mapping[str, float | None]) -> None:
    """Write several float64 scalars, in the mapping's order."""
    for name, value in values.items():
        scalar(ds, name, value)


def time_str(ds: Group, values: Any, dim: str = "nt", name: str = "time_str") -> None:
    """Write UTC time strings as a variable-length string variable (fill ``"no_data"``).

    This is the layout of ``reference_outputs/flpe/consensus`` (``str`` on
    ``nt`` with ``_FillValue = "no_data"``).
    """
    var = ds.createVariable(name, str, (dim,), fill_value=STR_FILL)
    var.setncatts({
        "long_name": "time (UTC)", "standard_name": "time", "short_name": "time_string",
        "calendar": "gregorian", "tag_basic_expert": "Basic",
        "comment": "Time string giving UTC time. The format is YYYY-MM-DDThh:mm:ssZ, "
                   "where the Z suffix indicates UTC time.",
    })
    text = [str(v) if v not in (None, "") else STR_FILL for v in np.ravel(values)]
    if text:
        var[:] = np.asarray(text, dtype=object)


def yyyymmdd(time: np.ndarray) -> np.ndarray:
    """Dates ``YYYYMMDD`` (int32) of SWOT times (s since 2000-01-01), -999 where NaN."""
    t = np.asarray(time, dtype=np.float64)
    out = np.full(t.shape, -999, dtype=np.int32)
    ok = np.isfinite(t)
    if ok.any():
        days = (np.datetime64("2000-01-01") + (t[ok] // 86400).astype("timedelta64[D]")).astype("datetime64[D]")
        text = np.datetime_as_string(days, unit="D")
        out[ok] = np.asarray([int(s.replace("-", "")) for s in text], dtype=np.int32)
    return out
