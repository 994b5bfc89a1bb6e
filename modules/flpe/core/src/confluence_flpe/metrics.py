"""Discharge error metrics of the Pepsi benchmark (estimated vs true, same times).

Definitions follow Durand et al. (2016), doi:10.1002/2015WR018434, and for
KGE Gupta et al. (2009), doi:10.1016/j.jhydrol.2009.08.003.  Every metric is
computed on the times where both series are finite; fewer than two such
times give NaN.
"""

from __future__ import annotations

import numpy as np

NAMES = ["nRMSE", "NSE", "KGE", "rBIAS", "r"]


def _pair(est: np.ndarray, true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    est, true = np.asarray(est, dtype=np.float64), np.asarray(true, dtype=np.float64)
    ok = np.isfinite(est) & np.isfinite(true)
    return est[ok], true[ok]


def scores(est: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """nRMSE, NSE, KGE, relative bias and Pearson r of ``est`` against ``true`` (both m3/s).

    - nRMSE = RMSE / mean(true) (dimensionless)
    - NSE = 1 - sum((est - true)^2) / sum((true - mean(true))^2)
    - KGE = 1 - sqrt((r - 1)^2 + (sd(est)/sd(true) - 1)^2 + (mean(est)/mean(true) - 1)^2)
    - rBIAS = (mean(est) - mean(true)) / mean(true)
    - r = Pearson correlation
    """
    e, t = _pair(est, true)
    out = dict.fromkeys(NAMES, float("nan"))
    if e.size < 2:
        return out
    mt, me = t.mean(), e.mean()
    st, se = t.std(), e.std()
    out["nRMSE"] = float(np.sqrt(np.mean((e - t) ** 2)) / mt)
    out["rBIAS"] = float((me - mt) / mt)
    if st > 0:
        out["NSE"] = float(1 - np.sum((e - t) ** 2) / np.sum((t - mt) ** 2))
        if se > 0:
            r = float(np.corrcoef(e, t)[0, 1])
            out["r"] = r
            out["KGE"] = float(1 - np.sqrt((r - 1) ** 2 + (se / st - 1) ** 2 + (me / mt - 1) ** 2))
    return out
