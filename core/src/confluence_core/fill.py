"""SWOT fill values (contracts.md sections 5 and 6) and conversions to NaN."""

from __future__ import annotations

import numpy as np

#: Fill of float fields in RiverSP shapefiles and in every NetCDF we write.
FLOAT_FILL: float = -999999999999.0
#: Fill of small integer (flag) fields.
INT_FILL: int = -999
#: Fill of 4/8-byte integer fields in RiverSP shapefiles.
LONG_FILL: int = -99999999
#: Fill of text fields in RiverSP shapefiles (and Hydrocron CSV rows).
STR_FILL: str = "no_data"


def to_nan(values: np.ndarray | float, fill: float = FLOAT_FILL) -> np.ndarray:
    """Return ``values`` as float64 with the fill (and masked entries) as NaN."""
    arr: np.ndarray = np.ma.asarray(values)
    out = np.ma.filled(arr.astype(np.float64), np.nan)
    out[np.isclose(out, fill, rtol=0.0, atol=0.5)] = np.nan
    return out


def from_nan(values: np.ndarray, fill: float = FLOAT_FILL) -> np.ndarray:
    """Return ``values`` as float64 with NaN (and masked entries) replaced by ``fill``."""
    out = np.ma.filled(np.ma.asarray(values).astype(np.float64), np.nan)
    return np.where(np.isfinite(out), out, fill)
