"""Pure functions of the offline product: arrays in, arrays out."""

from __future__ import annotations

import numpy as np


def median_series(series: list[np.ndarray], nt: int) -> np.ndarray:
    """Per-time median of several discharge series (m3/s), negatives as missing; NaN where none has a value.

    The consensus rule's combination step (contracts.md section 9) applied to the recomputed
    series of the algorithms (the RiverSP product's ``dschg_c`` is the same median).
    """
    if not series:
        return np.full(nt, np.nan)
    stack = np.vstack([np.asarray(s, dtype=np.float64) for s in series])
    stack = np.where(stack >= 0, stack, np.nan)
    out = np.full(nt, np.nan)
    have = np.isfinite(stack).any(axis=0)
    if have.any():
        out[have] = np.nanmedian(stack[:, have], axis=0)
    return out
