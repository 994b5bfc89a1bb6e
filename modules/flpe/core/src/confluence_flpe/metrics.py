"""Discharge error metrics of the Pepsi benchmark (estimated vs true, same times).

The scores are :mod:`confluence_core.scores` (NSE: Nash & Sutcliffe 1970,
doi:10.1016/0022-1694(70)90255-6; KGE: Gupta et al. 2009,
doi:10.1016/j.jhydrol.2009.08.003), under the names of the Pepsi benchmark
(Durand et al. 2016, doi:10.1002/2015WR018434).  Every metric is computed on
the times where both series are finite; fewer than two such times give NaN.
"""

from __future__ import annotations

import numpy as np
from confluence_core import scores as core_scores

#: Benchmark name -> score of :mod:`confluence_core.scores`.
SCORES: dict[str, str] = {"nRMSE": "nrmse", "NSE": "nse", "KGE": "kge", "rBIAS": "nbias", "r": "r"}
NAMES = list(SCORES)


def scores(est: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """nRMSE, NSE, KGE, relative bias and Pearson r of ``est`` against ``true`` (both m3/s).

    - nRMSE = RMSE / mean(true) (dimensionless)
    - NSE = 1 - sum((est - true)^2) / sum((true - mean(true))^2)
    - KGE = 1 - sqrt((r - 1)^2 + (sd(est)/sd(true) - 1)^2 + (mean(est)/mean(true) - 1)^2)
    - rBIAS = (mean(est) - mean(true)) / mean(true)
    - r = Pearson correlation
    """
    all_ = core_scores.all_scores(np.ravel(est), np.ravel(true))
    if all_["n_matched"] < 2:
        return dict.fromkeys(NAMES, float("nan"))
    return {name: float(all_[score]) for name, score in SCORES.items()}
