"""Mean-flow prior without a model or a gauge, from the SWOT observations of the reaches themselves.

For a run with no SoS (e.g. ``confluence run --source hydrocron`` or a
folder of Hydrocron answers) the stand-in SoS needs a mean flow.  It comes from
published downstream hydraulic geometry, no parameter fitted here:

- **width** (the prior): Moody & Troutman (2002), *Characterization of the
  spatial variability of channel morphology*, Earth Surf. Process. Landforms
  27:1251-1266, doi:10.1002/esp.403: ``W = 7.2 Q^0.50`` at mean flow (m,
  m3/s), inverted per channel: with ``n`` channels (SWORD ``n_chan_mod``) each
  of width ``W / n`` carrying ``Q / n``, ``Q = n (W / (7.2 n))^2``.
- **width and slope** (for the spread only): Manning's equation
  ``Q = W D^(5/3) S^(1/2) / n_m`` for a wide channel with Chow's (1959,
  *Open-Channel Hydraulics*, table 5-6) ``n_m`` (0.030 over 30 m wide, else
  0.035) and the Moody & Troutman mean depth ``D = 0.27 Q^0.39`` at the width
  flow (``manning_mtD``), the same solved for ``Q`` (``manning_solved``), or
  the Moody & Troutman velocity ``V = 0.52 Q^0.12`` with the Manning depth for
  it (``manning_mtV``).

Which width.  The width of a SWOT reach is its water area over its length, so
everything the water mask joins to the channel (flooded floodplain, side
channels and sloughs, adjacent lakes, wet or snow-covered land classified as
water) adds to it: on the Kobuk's reach 81320300011 the median of the good
passes is 1,158 m for a channel of about 350-450 m.  Those errors are one-sided
and intermittent, while the channel's own width changes little with flow
(at-a-station width exponents of about 0.1-0.3, Leopold & Maddock 1953, USGS
Prof. Paper 252).  So the width taken is a low percentile
(:data:`WIDTH_PERCENTILE`, the 10th) of the passes with ``reach_q <= 1`` (of
all valid passes when fewer than 5): it is the channel whenever a tenth of the
passes see only the channel, where the median (the former choice) is
contaminated as soon as half of them do not.  The price is a low-flow width on
clean rivers (a factor of about 0.6-0.9 in flow for those exponents).

Continuity.  Where the topology is a chain without junctions (the stand-in's
assumed chain: reaches numbered in order within a basin, no tributary between
them), consecutive reaches carry the same mean flow, so a reach's prior is the
median of the estimates of the river reaches (type 1) within
:data:`CHAIN_HALF_WINDOW` reaches of it along the chain.  A reach whose water
mask swallows its floodplain then cannot claim several times its neighbours'
flow.  Walks stop at junctions (a reach with several upstream or downstream
neighbours in the network).

Uncertainty.  ``sd_ln`` (log-space sd of the prior) adds in quadrature
BAM's sd of a mean-flow prior, ``sqrt(ln 2)`` (a coefficient of variation of 1;
Hagemann et al. 2017, doi:10.1002/2017WR021626, the ``logQc_sd`` the priors step
writes) and the spread of the candidate relations at the reach: the sample sd
of ``ln Q`` over the width relation at the 10th, 25th and 50th percentile widths
and the three width-and-slope relations, each smoothed along the chain like the
prior.  The spread alone is no honest sd: where every relation is wrong the
same way (the Kobuk is twice as wide as Moody & Troutman's width for its flow)
the candidates agree.

``bench/noprior_eval.py`` scores every candidate on the eight Pepsi-1 rivers,
the demo world and the real Kobuk reaches, and states why this one was kept.
"""

from __future__ import annotations

import numpy as np

#: Moody & Troutman (2002) at mean flow (m, m3/s, m/s): W = 7.2 Q^0.50, D = 0.27 Q^0.39, V = 0.52 Q^0.12.
MT_W_COEF, MT_W_EXP = 7.2, 0.50
MT_D_COEF, MT_D_EXP = 0.27, 0.39
MT_V_COEF, MT_V_EXP = 0.52, 0.12
#: Percentile of the good passes' widths taken as the channel width (see the module docstring).
WIDTH_PERCENTILE = 10.0
#: Reaches each way along a junction-free chain whose estimates are pooled (median).
CHAIN_HALF_WINDOW = 2
#: At least this many ``reach_q <= 1`` passes, else all valid passes are used.
MIN_GOOD_PASSES = 5
#: The candidate (of :func:`candidate_priors`) that is the prior.
PRIOR = "width_w10"
#: Names of the candidate relations whose spread enters ``sd_ln``.
SPREAD_CANDIDATES = ("width_w10", "width_w25", "width_w50", "manning_mtD", "manning_solved", "manning_mtV")
#: BAM's sd of ln(mean flow) for a coefficient of variation of 1, sqrt(ln 2) (Hagemann et al. 2017).
BASE_SD_LN = float(np.sqrt(np.log(2.0)))

MEAN_Q_SOURCE = (f"observations: mean_q = n_chan * (W{WIDTH_PERCENTILE:.0f} / (7.2 n_chan)) ** 2, the Moody & "
                 f"Troutman (2002) downstream hydraulic geometry W = 7.2 Q^0.5 inverted per channel at the "
                 f"{WIDTH_PERCENTILE:.0f}th percentile of the good passes' widths, median over the river reaches "
                 f"within {CHAIN_HALF_WINDOW} reaches along a junction-free chain; a rough estimate (often a "
                 f"factor 2-5, up to 10+ on impounded or lake-like reaches), not a model or gauge value")
SD_LN_SOURCE = ("sqrt(ln 2) (BAM's sd of a mean-flow prior, CV 1) and the sample sd of ln(mean flow) over the "
                "candidate no-gauge relations at the reach (Moody & Troutman width at W10, W25, W50; Manning with "
                "the Moody & Troutman depth, solved, and velocity at W10), added in quadrature")


def chow_n(width: np.ndarray) -> np.ndarray:
    """Typical Manning's n of a natural channel of top width ``width`` (m): Chow (1959) table 5-6."""
    return np.where(np.asarray(width) >= 30.0, 0.030, 0.035)


def good_mask(values: np.ndarray, reach_q: np.ndarray | None = None, positive: bool = True) -> np.ndarray:
    """Valid passes (finite, > 0 when ``positive``), those with ``reach_q <= 1`` when at least 5 are."""
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v) & (v > 0) if positive else np.isfinite(v)
    if reach_q is not None:
        good = ok & (np.asarray(reach_q, dtype=np.float64) <= 1)
        if np.count_nonzero(good) >= MIN_GOOD_PASSES:
            return good
    return ok


def width_stat(width: np.ndarray, reach_q: np.ndarray | None = None, percentile: float = WIDTH_PERCENTILE) -> float:
    """The ``percentile`` of a reach's valid widths (m), good passes only when 5 or more; NaN when none."""
    w = np.asarray(width, dtype=np.float64)
    ok = good_mask(w, reach_q)
    return float(np.percentile(w[ok], percentile)) if ok.any() else float("nan")


def width_flow(width: np.ndarray | float, n_chan: np.ndarray | float = 1.0) -> np.ndarray:
    """Mean flow (m3/s) of ``n_chan`` channels sharing the water width ``width`` (m): ``n (W / (7.2 n))^2``."""
    n = np.maximum(np.asarray(n_chan, dtype=np.float64), 1.0)
    return np.asarray(n * (np.asarray(width, dtype=np.float64) / (MT_W_COEF * n)) ** (1.0 / MT_W_EXP))


def manning_mt_depth(width: np.ndarray | float, slope: np.ndarray | float) -> np.ndarray:
    """Manning (wide channel) with the Moody & Troutman depth at the width flow (m3/s); ``slope`` in m/m."""
    w, s = np.asarray(width, dtype=np.float64), np.asarray(slope, dtype=np.float64)
    depth = MT_D_COEF * width_flow(w) ** MT_D_EXP
    with np.errstate(invalid="ignore"):
        return np.asarray(w * depth ** (5.0 / 3.0) * np.sqrt(s) / chow_n(w))


def manning_solved(width: np.ndarray | float, slope: np.ndarray | float) -> np.ndarray:
    """Manning with ``D = 0.27 Q^0.39`` solved for Q: ``(0.27^(5/3) W S^(1/2) / n)^(1 / (1 - 0.65))``."""
    w, s = np.asarray(width, dtype=np.float64), np.asarray(slope, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        k = MT_D_COEF ** (5.0 / 3.0) * w * np.sqrt(s) / chow_n(w)
        return np.asarray(k ** (1.0 / (1.0 - 5.0 / 3.0 * MT_D_EXP)))


def manning_mt_velocity(width: np.ndarray | float, slope: np.ndarray | float) -> np.ndarray:
    """Continuity with the Moody & Troutman velocity at the width flow and the Manning depth for it (m3/s)."""
    w, s = np.asarray(width, dtype=np.float64), np.asarray(slope, dtype=np.float64)
    v = MT_V_COEF * width_flow(w) ** MT_V_EXP
    with np.errstate(invalid="ignore", divide="ignore"):
        depth = (v * chow_n(w) / np.sqrt(s)) ** 1.5
    return np.asarray(w * depth * v)


def candidate_priors(width: np.ndarray, slope: np.ndarray | None = None, reach_q: np.ndarray | None = None,
                     n_chan: float = 1.0) -> dict[str, float]:
    """Every candidate no-gauge mean flow (m3/s) of one reach from its passes; NaN where not computable.

    Parameters
    ----------
    width : array
        Reach width of each pass (m).
    slope : array, optional
        Water-surface slope of each pass (m/m); the median of the good positive ones is used.
    reach_q : array, optional
        Summary quality flag of each pass (0 good ... 3 bad).
    n_chan : float
        Channel count (SWORD ``n_chan_mod``); 1 when unknown.

    Returns
    -------
    dict
        ``width_w10`` (the prior, :data:`PRIOR`: per channel at the 10th-percentile width),
        ``width_w25``, ``width_w50`` (the former prior: at the median width), and the
        width-and-slope relations ``manning_mtD``, ``manning_solved``, ``manning_mtV`` at the
        10th-percentile width per channel.
    """
    n = max(float(n_chan), 1.0) if np.isfinite(n_chan) else 1.0
    w10, w25, w50 = (width_stat(width, reach_q, p) for p in (WIDTH_PERCENTILE, 25.0, 50.0))
    s50 = float("nan")
    if slope is not None:
        s = np.asarray(slope, dtype=np.float64)
        ok = good_mask(s, reach_q)
        s50 = float(np.median(s[ok])) if ok.any() else float("nan")
    wc = w10 / n  # one channel
    return {
        "width_w10": float(width_flow(w10, n)),
        "width_w25": float(width_flow(w25, n)),
        "width_w50": float(width_flow(w50, n)),
        "manning_mtD": float(n * manning_mt_depth(wc, s50)),
        "manning_solved": float(n * manning_solved(wc, s50)),
        "manning_mtV": float(n * manning_mt_velocity(wc, s50)),
    }


def chain_windows(up_index: np.ndarray, dn_index: np.ndarray, half_window: int = CHAIN_HALF_WINDOW) -> list[list[int]]:
    """For each reach, itself and the reaches within ``half_window`` steps along a junction-free chain.

    Parameters
    ----------
    up_index, dn_index : ndarray of int, shape (n, k)
        Upstream / downstream neighbours as indices into the reaches, -1 where none
        (:meth:`confluence_core.network.RiverNetwork.up_index`).

    A step is taken only where the reach has exactly one neighbour that way in
    the network and that neighbour exactly one back (no junction crossed).
    """
    up = np.asarray(up_index).reshape(len(up_index), -1)
    dn = np.asarray(dn_index).reshape(len(dn_index), -1)
    n_up, n_dn = (up >= 0).sum(axis=1), (dn >= 0).sum(axis=1)

    def step(i: int, fwd: np.ndarray, n_fwd: np.ndarray, n_back: np.ndarray) -> int:
        if n_fwd[i] != 1:
            return -1
        j = int(fwd[i][fwd[i] >= 0][0])
        return j if n_back[j] == 1 else -1

    out = []
    for i in range(up.shape[0]):
        win = [i]
        for fwd, n_fwd, n_back in ((up, n_up, n_dn), (dn, n_dn, n_up)):
            j = i
            for _ in range(half_window):
                j = step(j, fwd, n_fwd, n_back)
                if j < 0 or j in win:
                    break
                win.append(j)
        out.append(sorted(win))
    return out


def chain_median(values: np.ndarray, windows: list[list[int]], donor: np.ndarray | None = None) -> np.ndarray:
    """Per reach, the median of the finite ``values`` of the donor reaches in its window (own value if none).

    Medians are taken of ``ln(values)`` (geometric), so an even count gives the geometric mean of the middle two.
    """
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v) & (v > 0)
    if donor is not None:
        ok &= np.asarray(donor, dtype=bool)
    out = v.copy()
    for i, win in enumerate(windows):
        idx = [j for j in win if ok[j]]
        if idx:
            out[i] = float(np.exp(np.median(np.log(v[idx]))))
    return out


def mean_flow_priors(candidates: list[dict[str, float]], windows: list[list[int]],
                     river: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The prior (m3/s) and its log-space sd for reaches aligned with ``candidates`` and ``windows``.

    Parameters
    ----------
    candidates : list of dict
        :func:`candidate_priors` of each reach.
    windows : list of list of int
        :func:`chain_windows` of the same reaches.
    river : array of bool, optional
        Reaches that may lend their estimate to neighbours (river reaches, type 1); default all.

    Returns
    -------
    mean_q, sd_ln : ndarray
        ``mean_q`` is the chain median of the :data:`PRIOR` candidate; ``sd_ln`` is
        ``hypot(BASE_SD_LN, spread)`` with ``spread`` the sample sd of ``ln`` over the finite
        :data:`SPREAD_CANDIDATES` after the same smoothing (0 when fewer than two); NaN where
        ``mean_q`` is.
    """
    smooth = {k: chain_median(np.array([c[k] for c in candidates], dtype=np.float64), windows, river)
              for k in dict.fromkeys((PRIOR, *SPREAD_CANDIDATES))}
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(np.stack([smooth[k] for k in SPREAD_CANDIDATES], axis=1))
    logs[~np.isfinite(logs)] = np.nan
    spread = np.zeros(len(candidates))
    many = np.isfinite(logs).sum(axis=1) >= 2
    if many.any():
        spread[many] = np.nanstd(logs[many], axis=1, ddof=1)
    mean_q = smooth[PRIOR]
    sd = np.where(np.isfinite(mean_q), np.hypot(BASE_SD_LN, spread), np.nan)
    return mean_q, sd
