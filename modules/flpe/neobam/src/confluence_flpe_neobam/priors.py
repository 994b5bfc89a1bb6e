"""neoBAM inputs from a reach's observations and SoS priors (pure numpy).

Priors used (SoS names, contracts.md section 8; defaults when absent)
-----------------------------------------------------------------------
Discharge, per observation time t (log m3/s):

- centre ``ln monthly_q[month(t)]``, else ``ln mean_q`` (no flow prior at
  all: the reach cannot run);
- ``level ~ Normal(0, logQ_sd)``: one error of the prior's flow level shared
  by every time (``gbpriors/reach/logQ_sd``, default 0.8326 =
  sqrt(ln 2), BAM's coefficient of variation 1, Hagemann et al. 2017,
  doi:10.1002/2017WR021626);
- ``sigma_q``: the spread of log Q about the monthly centre, prior median
  from the flow-duration curve, ``(ln Q15% - ln Q85%) / (2 * 1.0364)`` with the
  variance of the log monthly means removed (floor :data:`SIGMA_Q_MIN`),
  default :data:`SIGMA_Q_DEFAULT`; log-sd :data:`SIGMA_Q_LOGSD`;
- bounds ``ln min_q`` / ``ln max_q``, widened to at least 1 (a factor e)
  either side of the centre; +/- :data:`Q_BOUND_DEFAULT` when absent.

Flow-law parameters (``gbpriors/reach`` ``{p}_hat``, ``{p}_sd``,
``lower_{p}``, ``upper_{p}``, or the published ``lowerbound_{p}``, ``upperbound_{p}``)
when all four are finite with sd > 0 and lower <
upper; else the observation-derived defaults of :func:`default_param_priors`,
which follow the SoS priors module: Wb the 95th percentile of the widths,
Db from Moody & Troutman 2002, doi:10.1002/esp.403).

Errors: ``Werr_sd`` (m) when given (else 0: the learned ``sigma_w`` takes all
of it); ``sigma_w`` prior median ``sigma_amhg`` (else :data:`SIGMA_W_DEFAULT`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import PARAMS, ModelData, PriorSpec, pack

#: Default sd of the shared error of the flow prior (log m3/s): sqrt(ln 2), CV = 1 (BAM).
LOGQ_SD_DEFAULT = float(np.sqrt(np.log(2.0)))
#: Default prior median of the spread of log Q about the monthly centre (log m3/s).
SIGMA_Q_DEFAULT = 0.5
#: Smallest prior median of that spread (log m3/s).
SIGMA_Q_MIN = 0.1
#: sd of ln sigma_q (-).
SIGMA_Q_LOGSD = 0.5
#: Half-width of the log Q bounds when min_q / max_q are absent (log m3/s).
Q_BOUND_DEFAULT = 6.0
#: Default prior median of the structural width error sigma_w (log m).
SIGMA_W_DEFAULT = 0.1
#: Prior sd of the node offsets of log Wb (-).
NODE_SD = 0.3
#: Standard normal quantile at 0.85 (flow-duration spread).
Z85 = 1.0364
#: Default Manning's n prior (log s m^-1/3): BAM's hat, sd and bounds (Hagemann et al. 2017).
LOGN_DEFAULT = PriorSpec(hat=-3.5, sd=0.25, lower=-4.6, upper=-1.5)
#: Default channel-shape prior: r = 2 (parabola, Dingman 2007), bounds r in [0.5, 10].
LOGR_DEFAULT = PriorSpec(hat=float(np.log(2.0)), sd=0.5, lower=float(np.log(0.5)), upper=float(np.log(10.0)))
#: sd of the default log Wb and log Db priors (-).
LOGWB_SD, LOGDB_SD = 0.25, 0.5


@dataclass
class ReachInputs:
    """Everything :func:`confluence_flpe_neobam.model.sample` needs for one reach."""

    data: ModelData
    nt: int
    nx: int
    used_times: np.ndarray  # bool [nt]: times that enter the likelihood
    defaults: list[str]  # parameters that fell back to defaults


def month_of(time: np.ndarray) -> np.ndarray:
    """Month index 0-11 of SWOT times (s since 2000-01-01 UTC); -1 where NaN."""
    t = np.asarray(time, dtype=float)
    out = np.full(t.shape, -1, dtype=int)
    ok = np.isfinite(t)
    days = np.datetime64("2000-01-01", "D") + (t[ok] // 86400).astype("timedelta64[D]")
    out[ok] = days.astype("datetime64[M]").astype(int) % 12
    return out


def _pos_log(x: float | np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isfinite(x) & (x > 0), np.log(np.where(x > 0, x, 1.0)), np.nan)


def sigma_q_prior(flow_duration_q: np.ndarray, monthly_q: np.ndarray, exceedance: np.ndarray) -> float:
    """Prior median of the spread of log Q about the monthly mean (log m3/s).

    Parameters
    ----------
    flow_duration_q : ndarray [20]
        Flows (m3/s) exceeded ``exceedance`` percent of the time.
    monthly_q : ndarray [12]
        Monthly mean flows (m3/s).
    exceedance : ndarray [20]
        Exceedance levels (%).

    Returns
    -------
    float
        ``sqrt(max(s_fdc^2 - var(ln monthly_q), SIGMA_Q_MIN^2))`` with ``s_fdc =
        (ln Q15% - ln Q85%) / (2 z_0.85)`` (lognormal flows); :data:`SIGMA_Q_DEFAULT`
        when the curve lacks those levels.
    """
    lq = _pos_log(flow_duration_q)
    exc = np.asarray(exceedance, dtype=float)
    pick = [np.flatnonzero(exc == e) for e in (15.0, 85.0)]
    if any(p.size == 0 for p in pick) or not np.all(np.isfinite(lq[[pick[0][0], pick[1][0]]])):
        return SIGMA_Q_DEFAULT
    s_fdc = (lq[pick[0][0]] - lq[pick[1][0]]) / (2 * Z85)
    lm = _pos_log(monthly_q)
    var_m = float(np.nanvar(lm)) if np.count_nonzero(np.isfinite(lm)) > 1 else 0.0
    return float(np.sqrt(max(s_fdc**2 - var_m, SIGMA_Q_MIN**2)))


def default_param_priors(node_width: np.ndarray) -> dict[str, PriorSpec]:
    """Observation-derived priors of log n, log r, log Wb, log Db (used when the SoS has none).

    Parameters
    ----------
    node_width : ndarray
        Observed widths (m), NaN where missing.

    Returns
    -------
    dict of PriorSpec
        ``logn``: :data:`LOGN_DEFAULT`; ``logr``: :data:`LOGR_DEFAULT`;
        ``logWb``: ln of the 95th percentile width, sd 0.25, bounds
        [ln W50, ln(3 Wmax)]; ``logDb``: ``ln(0.27 (Wb / 7.2)^0.78)`` (Moody &
        Troutman 2002 W = 7.2 Q^0.5, D = 0.27 Q^0.39 with Q eliminated), sd 0.5,
        bounds hat +/- 3 sd.
    """
    w = np.asarray(node_width, dtype=float)
    w = w[np.isfinite(w) & (w > 0)]
    wb = float(np.percentile(w, 95))
    log_wb = np.log(wb)
    log_db = float(np.log(0.27 * (wb / 7.2) ** 0.78))
    return {
        "logn": LOGN_DEFAULT,
        "logr": LOGR_DEFAULT,
        "logWb": PriorSpec(log_wb, LOGWB_SD, float(np.log(np.median(w))) - 1e-3, float(np.log(3 * w.max()))),
        "logDb": PriorSpec(log_db, LOGDB_SD, log_db - 3 * LOGDB_SD, log_db + 3 * LOGDB_SD),
    }


def param_priors(gb: dict[str, float], node_width: np.ndarray) -> tuple[dict[str, PriorSpec], list[str]]:
    """SoS gbpriors where complete, defaults elsewhere; returns the priors and the defaulted names."""
    out = default_param_priors(node_width)
    defaulted = []
    for p in PARAMS:
        # bounds as this project writes them (lower_/upper_) or as the published SoS does (lowerbound_/upperbound_)
        lo_v = gb.get(f"lower_{p}", gb.get(f"lowerbound_{p}", np.nan))
        hi_v = gb.get(f"upper_{p}", gb.get(f"upperbound_{p}", np.nan))
        hat, sd, lo, hi = (float(v) for v in (gb.get(f"{p}_hat", np.nan), gb.get(f"{p}_sd", np.nan), lo_v, hi_v))
        if np.all(np.isfinite([hat, sd, lo, hi])) and sd > 0 and lo < hi:
            out[p] = PriorSpec(min(max(hat, lo), hi), sd, lo, hi)
        else:
            defaulted.append(p)
    return out, defaulted


def build_inputs(
    time: np.ndarray,
    width: np.ndarray,
    slope: np.ndarray,
    node_width: np.ndarray | None,
    mean_q: float,
    min_q: float,
    max_q: float,
    monthly_q: np.ndarray,
    flow_duration_q: np.ndarray,
    exceedance: np.ndarray,
    gb: dict[str, float],
) -> ReachInputs | str:
    """Model inputs for one reach, or the reason it cannot run.

    Parameters
    ----------
    time : ndarray [nt]
        s since 2000-01-01 UTC.
    width, slope : ndarray [nt]
        Reach width (m) and slope (m/m); a time is used when its slope is
        finite and > 0 and at least one node (or the reach) width is finite
        and > 0.
    node_width : ndarray [nx, nt] or None
        Node widths (m); None or all-NaN: the reach width is the only node.
    mean_q, min_q, max_q : float
        SoS model flows (m3/s).
    monthly_q, flow_duration_q, exceedance : ndarray
        SoS monthly means (12, m3/s), flow-duration curve (m3/s) and its levels (%).
    gb : dict
        gbpriors/reach values of the reach.

    Returns
    -------
    ReachInputs or str
    """
    width = np.asarray(width, dtype=float)
    nt = width.shape[0]
    nw = None if node_width is None else np.asarray(node_width, dtype=float).reshape(-1, nt)
    if nw is None or not np.any(np.isfinite(nw) & (nw > 0)):
        nw = width[None, :]
    nw = np.where(np.isfinite(nw) & (nw > 0), nw, np.nan)
    slope = np.asarray(slope, dtype=float)
    used = np.isfinite(slope) & (slope > 0) & np.any(np.isfinite(nw), axis=0)
    if not used.any():
        return "no time with a positive slope and a width"
    months = month_of(time)
    lm = _pos_log(monthly_q)
    lmean = float(_pos_log(mean_q))
    loc = np.where(months >= 0, lm[np.clip(months, 0, 11)], np.nan)
    loc = np.where(np.isfinite(loc), loc, lmean)
    if not np.all(np.isfinite(loc[used])):
        return "no discharge prior (monthly_q and mean_q missing)"
    loc = np.where(np.isfinite(loc), loc, np.nanmean(loc[used]))
    lo = np.full(nt, float(_pos_log(min_q)))
    hi = np.full(nt, float(_pos_log(max_q)))
    lo = np.where(np.isfinite(lo), np.minimum(lo, loc - 1.0), loc - Q_BOUND_DEFAULT)
    hi = np.where(np.isfinite(hi), np.maximum(hi, loc + 1.0), loc + Q_BOUND_DEFAULT)
    level_sd = float(gb.get("logQ_sd", np.nan))
    level_sd = level_sd if np.isfinite(level_sd) and level_sd > 0 else LOGQ_SD_DEFAULT
    sig_w = float(gb.get("sigma_amhg", np.nan))
    sig_w = sig_w if np.isfinite(sig_w) and sig_w > 0 else SIGMA_W_DEFAULT
    werr = float(gb.get("Werr_sd", np.nan))
    werr = werr if np.isfinite(werr) and werr > 0 else 0.0
    priors, defaulted = param_priors(gb, nw[:, used])
    logS = np.where(used, np.log(np.where(used, slope, 1.0)), np.nan)
    logW = np.log(nw)
    data = pack(
        logW, werr / nw, logS, loc, lo, hi, level_sd,
        sigma_q_prior(flow_duration_q, monthly_q, exceedance), SIGMA_Q_LOGSD,
        priors, sig_w, NODE_SD,
    )
    return ReachInputs(data=data, nt=nt, nx=nw.shape[0], used_times=used, defaults=defaulted)
