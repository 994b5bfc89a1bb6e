"""Hydrological goodness-of-fit scores of estimated against observed discharge.

One implementation for the whole workflow: validation scores every product
against its gauge with it, and the FLPE benchmark scores the algorithms
against the Pepsi truth with it.

Every function takes ``est`` (estimates, shape ``(..., n)``) and ``obs``
(observed or true values, shape broadcastable to ``est``), both in m3/s, NaN
where missing, and uses only the *pairs* where both are finite.  It works
row-wise over the last axis, so a ``(num_products, num_days)`` matrix of
estimates is scored against one gauge series in one call.  A score that is
undefined for the pairs of a row (no pair; zero observed variance for NSE;
zero variance of either series for r, R2 and KGE; zero mean observed flow for
the normalised ones) is NaN.

Notation: :math:`s_i` estimate, :math:`o_i` observation at matched time
:math:`i`, :math:`n` matched times, :math:`\\mu` mean, :math:`\\sigma`
population standard deviation (``ddof = 0``; KGE uses only the ratio of the
two, so the choice of ``ddof`` does not change it).

References
----------
Nash, J. E. and Sutcliffe, J. V. (1970). River flow forecasting through
conceptual models part I: a discussion of principles. Journal of Hydrology
10(3), 282-290. doi:10.1016/0022-1694(70)90255-6

Gupta, H. V., Kling, H., Yilmaz, K. K. and Martinez, G. F. (2009).
Decomposition of the mean squared error and NSE performance criteria:
implications for improving hydrological modelling. Journal of Hydrology
377(1-2), 80-91. doi:10.1016/j.jhydrol.2009.08.003
"""

from __future__ import annotations

import numpy as np

#: Scores of :func:`all_scores`, in output order (``n_matched`` is separate, an integer).
NAMES: tuple[str, ...] = ("nse", "r2", "kge", "rmse", "nrmse", "nbias", "r")

#: One-line definitions (validation writes them as variable attributes).
DEFINITIONS: dict[str, str] = {
    "nse": "Nash-Sutcliffe efficiency 1 - sum((s-o)^2) / sum((o-mean(o))^2) (Nash & Sutcliffe 1970, "
           "doi:10.1016/0022-1694(70)90255-6)",
    "r2": "coefficient of determination as the squared Pearson correlation r^2",
    "kge": "Kling-Gupta efficiency 1 - sqrt((r-1)^2 + (sigma_s/sigma_o-1)^2 + (mu_s/mu_o-1)^2) "
           "(Gupta et al. 2009, doi:10.1016/j.jhydrol.2009.08.003)",
    "rmse": "root mean square error sqrt(mean((s-o)^2))",
    "nrmse": "normalised RMSE: RMSE / mean(o) over the matched days",
    "nbias": "normalised bias: mean(s-o) / mean(o) over the matched days",
    "r": "Pearson correlation coefficient of s and o",
    "n_matched": "number of days with both a gauge value and an estimate",
}

#: Units of each score.
UNITS: dict[str, str] = {"nse": "1", "r2": "1", "kge": "1", "rmse": "m3/s", "nrmse": "1", "nbias": "1",
                         "r": "1", "n_matched": "1"}


def _pairs(est: np.ndarray, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Broadcast, mask the pairs where both are finite: (s, o with 0 off-pair, mask, n)."""
    s, o = np.broadcast_arrays(np.asarray(est, dtype=np.float64), np.asarray(obs, dtype=np.float64))
    mask = np.isfinite(s) & np.isfinite(o)
    n = mask.sum(axis=-1)
    return np.where(mask, s, 0.0), np.where(mask, o, 0.0), mask, n


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with NaN where ``den`` is 0 or not finite (no warnings)."""
    num, den = np.broadcast_arrays(np.asarray(num, dtype=np.float64), np.asarray(den, dtype=np.float64))
    ok = np.isfinite(den) & (den != 0)
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=ok)
    return out


def _moments(est: np.ndarray, obs: np.ndarray) -> dict[str, np.ndarray]:
    """Per-row count, means, centred sums of squares and cross products over the matched pairs."""
    s, o, mask, n = _pairs(est, obs)
    n_f = n.astype(np.float64)
    mu_s = _div(s.sum(axis=-1), n_f)
    mu_o = _div(o.sum(axis=-1), n_f)
    ds = np.where(mask, s - np.nan_to_num(mu_s)[..., None], 0.0)
    do = np.where(mask, o - np.nan_to_num(mu_o)[..., None], 0.0)
    err = np.where(mask, s - o, 0.0)
    # a constant series has exactly zero spread (its rounded mean may differ from it by an ulp)
    # (``initial`` lets a row of no time at all through: it is not constant, and has no pair anyway)
    const_s = np.where(mask, s, np.inf).min(axis=-1, initial=np.inf) == \
        np.where(mask, s, -np.inf).max(axis=-1, initial=-np.inf)
    const_o = np.where(mask, o, np.inf).min(axis=-1, initial=np.inf) == \
        np.where(mask, o, -np.inf).max(axis=-1, initial=-np.inf)
    ss_s = np.where(const_s, 0.0, (ds * ds).sum(axis=-1))
    ss_o = np.where(const_o, 0.0, (do * do).sum(axis=-1))
    return {
        "n": n, "mu_s": mu_s, "mu_o": mu_o,
        "ss_s": ss_s, "ss_o": ss_o, "sp": np.where(const_s | const_o, 0.0, (ds * do).sum(axis=-1)),
        "sse": (err * err).sum(axis=-1), "se": err.sum(axis=-1),
    }


def _r(m: dict[str, np.ndarray]) -> np.ndarray:
    r: np.ndarray = np.clip(_div(m["sp"], np.sqrt(m["ss_s"] * m["ss_o"])), -1.0, 1.0)  # numpy types ufuncs as Any
    return r


def _kge(m: dict[str, np.ndarray], r: np.ndarray) -> np.ndarray:
    alpha = np.sqrt(_div(m["ss_s"], m["ss_o"]))  # the 1/n of both variances cancels
    beta = _div(m["mu_s"], m["mu_o"])
    score: np.ndarray = 1.0 - np.sqrt((r - 1.0) ** 2 + (alpha - 1.0) ** 2 + (beta - 1.0) ** 2)
    return score


def nse(est: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """Nash-Sutcliffe efficiency (Nash & Sutcliffe 1970, doi:10.1016/0022-1694(70)90255-6).

    .. math:: NSE = 1 - \\frac{\\sum_i (s_i - o_i)^2}{\\sum_i (o_i - \\mu_o)^2}

    1 is a perfect fit, 0 is no better than the mean observed flow, and it is
    unbounded below.  NaN when the observed values of the pairs do not vary.
    """
    m = _moments(est, obs)
    return 1.0 - _div(m["sse"], m["ss_o"])


def pearson_r(est: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """Pearson correlation coefficient.

    .. math:: r = \\frac{\\sum_i (s_i-\\mu_s)(o_i-\\mu_o)}
              {\\sqrt{\\sum_i (s_i-\\mu_s)^2 \\sum_i (o_i-\\mu_o)^2}}
    """
    return _r(_moments(est, obs))


def r2(est: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """Coefficient of determination as the squared Pearson correlation, :math:`R^2 = r^2` (0 to 1)."""
    return pearson_r(est, obs) ** 2


def kge(est: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """Kling-Gupta efficiency, 2009 form (Gupta et al. 2009, eq. 9, doi:10.1016/j.jhydrol.2009.08.003).

    .. math:: KGE = 1 - \\sqrt{(r-1)^2 + (\\alpha-1)^2 + (\\beta-1)^2},
              \\quad \\alpha = \\sigma_s / \\sigma_o, \\quad \\beta = \\mu_s / \\mu_o

    1 is a perfect fit; 1 - sqrt(2) ~ -0.41 is the score of the mean observed flow.
    """
    m = _moments(est, obs)
    return _kge(m, _r(m))


def rmse(est: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """Root mean square error (m3/s): :math:`\\sqrt{\\frac{1}{n}\\sum_i (s_i - o_i)^2}`."""
    m = _moments(est, obs)
    out: np.ndarray = np.sqrt(_div(m["sse"], m["n"]))
    return out


def nrmse(est: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """RMSE normalised by the mean observed flow over the matched times: :math:`RMSE / \\mu_o`."""
    m = _moments(est, obs)
    return _div(np.sqrt(_div(m["sse"], m["n"])), m["mu_o"])


def nbias(est: np.ndarray, obs: np.ndarray) -> np.ndarray:
    """Bias normalised by the mean observed flow: :math:`\\frac{1}{n}\\sum_i (s_i - o_i) / \\mu_o`.

    Equal to the relative bias :math:`(\\mu_s - \\mu_o) / \\mu_o` over the matched times.
    """
    m = _moments(est, obs)
    return _div(_div(m["se"], m["n"]), m["mu_o"])


def all_scores(est: np.ndarray, obs: np.ndarray) -> dict[str, np.ndarray]:
    """Every score of :data:`NAMES` plus ``n_matched`` (int64), from one pass over the pairs.

    Parameters
    ----------
    est : ndarray, shape (..., n)
        Estimated discharge (m3/s), NaN where missing.
    obs : ndarray, broadcastable to ``est``
        Observed discharge (m3/s) at the same times, NaN where missing.

    Returns
    -------
    dict
        ``nse, r2, kge, rmse, nrmse, nbias, r`` (float, shape ``est.shape[:-1]``, NaN where
        undefined) and ``n_matched`` (int).  Same values as the single functions.
    """
    m = _moments(est, obs)
    r = _r(m)
    root_mse = np.sqrt(_div(m["sse"], m["n"]))
    return {
        "nse": 1.0 - _div(m["sse"], m["ss_o"]),
        "r2": r**2,
        "kge": _kge(m, r),
        "rmse": root_mse,
        "nrmse": _div(root_mse, m["mu_o"]),
        "nbias": _div(_div(m["se"], m["n"]), m["mu_o"]),
        "r": r,
        "n_matched": m["n"].astype(np.int64),
    }
