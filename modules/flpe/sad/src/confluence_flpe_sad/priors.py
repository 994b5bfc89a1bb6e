"""SAD's prior distributions from the SoS priors (:class:`confluence_flpe.interface.Priors`).

The unobserved inputs of the forward model (:mod:`.gvf`) are the discharge, Manning's n, the
channel shape exponent r and the bed elevation (Andreadis et al. 2020, section 2.3).  Each prior
below is the SoS / geoBAM value when the reach has one, else the documented default; the
paper's uninformative bounds (its Table 1) are the defaults and outer limits:

- **mean flow** ``Qbar`` (m3/s): lognormal with median ``mean_q`` and log standard deviation
  :data:`MEAN_Q_LOG_SD` (Sad.jl's ``q_cv``; the SoS's ``mean_q_sd_ln`` when larger),
  truncated to ``[mean_q / 10, 10 mean_q]`` (Table 1);
- **discharge of a time**: ``Q_t = Qbar s_t exp(sigma_d e - sigma_d^2 / 2)``, ``e`` standard
  normal, with the seasonal ratio ``s_t = monthly_q[month] / mean_q`` (1 without monthly flows;
  the current Sad.jl's monthly priors) and the day-to-day log spread ``sigma_d`` of the flow
  duration curve (:func:`daily_log_sd`), else geoBAM's ``logQ_sd``, else :data:`DAILY_LOG_SD`;
- **Manning's n**: geoBAM ``logn_hat``/``logn_sd`` truncated to its bounds, else uniform on
  :data:`N_BOUNDS` (Table 1);
- **shape exponent r**: geoBAM ``logr_hat``/``logr_sd`` truncated to its bounds, else the
  paper's generic lognormal fitted to HYDRoSWOT (:data:`R_GENERIC`, section 4.2); always within
  :data:`R_BOUNDS`;
- **bed elevation** at the downstream node: uniform depth below the lowest observed stage on
  ``[MIN_BED_DEPTH, max(20 m, 3 Yn)]`` (Table 1: ``[Hmin - 20, Hmin]``; ``Yn`` the normal depth
  of the mean flow, so that deep rivers are covered).

Draws are Latin-hypercube stratified (as Confluence's Sad.jl ``lhs_ensemble``) from a fixed seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from confluence_core import sos
from confluence_flpe.interface import Priors
from scipy.special import ndtr, ndtri

#: Log standard deviation of the mean-flow prior (Sad.jl ``q_cv``).
MEAN_Q_LOG_SD = 0.5
#: Day-to-day log standard deviation of discharge when the SoS gives no spread.
DAILY_LOG_SD = 0.8
#: Bounds of the day-to-day log spread taken from a flow duration curve.
DAILY_LOG_SD_BOUNDS = (0.1, 1.5)
#: Manning's n bounds of the uninformative prior (Andreadis et al. 2020, Table 1).
N_BOUNDS = (0.01, 0.07)
#: Generic shape-exponent prior: ln r ~ N(0.95, 1.02) (Andreadis et al. 2020, section 4.2).
R_GENERIC = (0.95, 1.02)
#: Outer limits of r (Sad.jl's braided class starts at 0.5; 50 is a practically rectangular channel).
R_BOUNDS = (0.5, 50.0)
#: Bed depth below the lowest stage (m): at least this, at most max(20 m, 3 normal depths).
MIN_BED_DEPTH = 0.1
MAX_BED_DEPTH = 20.0
BED_DEPTH_NORMALS = 3.0
#: Roughness of the normal-depth estimate that scales the bed-depth bound.
N_TYPICAL = 0.035


@dataclass(frozen=True)
class LogNormal:
    """``ln X ~ N(mu, sd)`` truncated to ``[lo, hi]`` (natural units)."""

    mu: float
    sd: float
    lo: float
    hi: float

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Quantiles for probabilities ``u`` in (0, 1)."""
        a, b = ndtr((np.log(self.lo) - self.mu) / self.sd), ndtr((np.log(self.hi) - self.mu) / self.sd)
        return np.asarray(np.exp(self.mu + self.sd * ndtri(a + np.asarray(u) * (b - a))))


@dataclass(frozen=True)
class Uniform:
    """Uniform on ``[lo, hi]``."""

    lo: float
    hi: float

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.asarray(self.lo + np.asarray(u) * (self.hi - self.lo))


Dist = LogNormal | Uniform


@dataclass(frozen=True)
class SadPriors:
    """The priors of one reach (see the module docstring)."""

    mean_q: float
    qbar: Dist
    n: Dist
    r: Dist
    depth: Uniform  # bed depth below the lowest downstream stage (m)
    daily_log_sd: float
    monthly_ratio: np.ndarray  # [12], 1 where unknown


def _gb(gb: dict[str, float], *names: str) -> float:
    """The first finite geoBAM value among ``names`` (old and new SoS spellings), else NaN."""
    for name in names:
        v = gb.get(name, np.nan)
        if np.isfinite(v):
            return float(v)
    return float("nan")


def _log_prior(gb: dict[str, float], var: str, default: Dist, limits: tuple[float, float]) -> Dist:
    """geoBAM's ``log{var}`` prior truncated to its bounds and ``limits``, else ``default``."""
    hat, sd = _gb(gb, f"log{var}_hat"), _gb(gb, f"log{var}_sd")
    if not (np.isfinite(hat) and np.isfinite(sd) and sd > 0):
        return default
    lo = _gb(gb, f"lower_log{var}", f"lowerbound_log{var}")
    hi = _gb(gb, f"upper_log{var}", f"upperbound_log{var}")
    lo = max(float(np.exp(lo)) if np.isfinite(lo) else limits[0], limits[0])
    hi = min(float(np.exp(hi)) if np.isfinite(hi) else limits[1], limits[1])
    if not lo < np.exp(hat) < hi:
        return default
    return LogNormal(hat, sd, lo, hi)


def daily_log_sd(pri: Priors) -> float:
    """Day-to-day log standard deviation of discharge from the SoS.

    From the flow duration curve: ``(ln Q10 - ln Q90) / (2 z90)`` with ``Q10``/``Q90`` the flows
    exceeded 10 % / 90 % of the time and ``z90`` the standard normal 90 % quantile (a lognormal
    flow distribution); else geoBAM's ``logQ_sd``; else :data:`DAILY_LOG_SD`.  Held within
    :data:`DAILY_LOG_SD_BOUNDS`.
    """
    fdc = np.asarray(pri.flow_duration_q, dtype=np.float64)
    exc = np.asarray(sos.EXCEEDANCE, dtype=np.float64)
    ok = np.isfinite(fdc) & (fdc > 0)
    sd = float("nan")
    if ok.sum() >= 2 and exc[ok].min() <= 10 and exc[ok].max() >= 90:
        lnq = np.interp([10.0, 90.0], exc[ok], np.log(fdc[ok]))
        sd = float((lnq[0] - lnq[1]) / (2.0 * ndtri(0.9)))
    if not (np.isfinite(sd) and sd > 0):
        sd = _gb(pri.gb, "logQ_sd")
    if not (np.isfinite(sd) and sd > 0):
        sd = DAILY_LOG_SD
    return float(np.clip(sd, *DAILY_LOG_SD_BOUNDS))


def sad_priors(pri: Priors, width: float, slope: float) -> SadPriors:
    """The reach's priors from its SoS priors, median width (m) and bed slope (m/m).

    Raises
    ------
    ValueError
        When there is no positive mean-flow prior (``mean_q``): SAD cannot run.
    """
    qm = float(pri.mean_q)
    if not (np.isfinite(qm) and qm > 0):
        raise ValueError("no positive mean-flow prior (mean_q)")
    monthly = np.asarray(pri.monthly_q, dtype=np.float64)
    ratio = np.where(np.isfinite(monthly) & (monthly > 0), monthly / qm, 1.0) if monthly.size == 12 else np.ones(12)
    yn = (N_TYPICAL * qm / (width * np.sqrt(slope))) ** 0.6 if width > 0 and slope > 0 else MAX_BED_DEPTH
    return SadPriors(
        mean_q=qm,
        qbar=LogNormal(float(np.log(qm)), pri.mean_q_log_sd(MEAN_Q_LOG_SD), qm / 10.0, qm * 10.0),
        n=_log_prior(pri.gb, "n", Uniform(*N_BOUNDS), N_BOUNDS),
        r=_log_prior(pri.gb, "r", LogNormal(*R_GENERIC, *R_BOUNDS), R_BOUNDS),
        depth=Uniform(MIN_BED_DEPTH, max(MAX_BED_DEPTH, BED_DEPTH_NORMALS * float(yn))),
        daily_log_sd=daily_log_sd(pri),
        monthly_ratio=ratio,
    )


def latin_hypercube(rng: np.random.Generator, n: int, dims: int) -> np.ndarray:
    """``[dims, n]`` stratified probabilities: each row has one value in each of ``n`` equal bins."""
    u = (np.arange(n)[None, :] + rng.random((dims, n))) / n
    return np.asarray(rng.permuted(u, axis=1))
