r"""geoBAM priors from SWOT widths and slopes (pure functions).

geoBAM (Brinkerhoff, C. B., Gleason, C. J., Feng, D. and Lin, P. (2020),
Constraining remote river discharge estimation using reach-scale
geomorphology, Water Resources Research, 56, e2020WR027949,
doi:10.1029/2020WR027949) improves the priors of BAM (Hagemann, M. W.,
Gleason, C. J. and Durand, M. T. (2017), BAM: Bayesian AMHG-Manning inference
of discharge using remotely sensed stream width, slope, and height, Water
Resources Research, 53, 9692-9707, doi:10.1002/2017WR021626) by first
assigning each river a *type* from what a satellite sees, then giving each
type its own priors. Its "expert" framework bins rivers by a characteristic
width (15 width-defined types, trained on US field hydraulics) and then
separates rivers whose geomorphology departs from their width class.

What this module does, and where each number comes from
---------------------------------------------------------
The published per-type hyperparameter tables are not reproduced here (we do
not have them to hand and will not guess them digit by digit). The
*structure* follows geoBAM; the numbers are derived transparently from the
hydraulic-geometry literature cited below, and the hats are computed from
each reach's (or node's) own observations.

Classification (``river_type``)
    * types 1-15: the median observed width :math:`W_{50}` binned on 15
      log-spaced width classes, five per decade, edges
      :math:`10^{1.2}, 10^{1.4}, \dots, 10^{3.8}` m (15.8 m ... 6.3 km): type 1
      below 15.8 m, type k (2-14) from :math:`10^{0.8+0.2k}` to
      :math:`10^{1.0+0.2k}` m (type 7: 158-251 m), type 15 above 6.3 km. The
      edges are ours (geoBAM's 15 width types, equal widths in log space).
    * type 16, "steep": median slope :math:`\ge 0.002` (the lower limit of
      the high-gradient streams of Jarrett, R. D. (1984), Hydraulics of
      high-gradient streams, J. Hydraul. Eng., 110(11), 1519-1539,
      doi:10.1061/(ASCE)0733-9429(1984)110:11(1519), whose roughness is well
      above that of lowland channels). It takes precedence over width.

Manning's n by type (``logn``)
    From the natural-channel ranges of Chow, V. T. (1959), Open-Channel
    Hydraulics, McGraw-Hill, table 5-6: minor streams (types 1-3, under
    about 40 m; Chow's limit is 30 m) n = 0.035 within [0.025, 0.080]; major
    streams (types 4-15) n = 0.030 within [0.020, 0.060] (Chow's
    0.025-0.060 for regular sections, lower bound widened to 0.020 for large
    sand-bed rivers); steep mountain streams (type 16) n = 0.045 within
    [0.030, 0.070]. ``logn_sd`` = (ln upper - ln lower) / 4 (bounds at
    about two standard deviations).

AHG width exponent ``b`` and channel shape ``logr``
    If :math:`W = aQ^b` then :math:`\mathrm{sd}(\ln W) = b\,\mathrm{sd}(\ln Q)`,
    so :math:`\hat b = \sigma_{\ln W} / \sigma_{\ln Q}`, with the width
    measurement error removed from :math:`\sigma_{\ln W}` (relative error
    :math:`W_{err}/W_{50}`) and :math:`\sigma_{\ln Q}` = ``logQ_sd`` below;
    clipped to [0.05, 0.5]; 0.26 (the mean at-a-station b of Leopold, L. B.
    and Maddock, T. (1953), USGS Prof. Paper 252) when fewer than
    :data:`MIN_WIDTHS_FOR_B` widths; ``b_sd`` = 0.1, bounds [0.01, 0.8]
    (the worldwide range of Park, C. C. (1977), J. Hydrol., 33, 133-146,
    doi:10.1016/0022-1694(77)90103-2). With Dingman's power-law section
    (Dingman, S. L. (2007), Analytical derivation of at-a-station
    hydraulic-geometry relations, J. Hydrol., 334, 17-27,
    doi:10.1016/j.jhydrol.2006.09.021), width grows as
    :math:`Y^{1/r}` and, with Manning and :math:`R \approx d`,
    :math:`b = 3/(5r + 3)`, hence :math:`r = 3(1 - b)/(5b)`; ``logr_sd``
    is ``b_sd`` propagated, the bounds are those of b mapped through r(b).

Bankfull width and depth (``logWb``, ``logDb``)
    :math:`\hat W_b` = 95th percentile of the observed widths, sd 0.25,
    bounds [ln W50, ln(3 W_max)]. Depth from the mean-flow downstream
    hydraulic geometry of US rivers, :math:`W = 7.2Q^{0.50}`,
    :math:`D = 0.27Q^{0.39}` (Moody, J. A. and Troutman, B. M. (2002),
    Characterization of the spatial variability of channel morphology,
    Earth Surf. Process. Landforms, 27, 1251-1266, doi:10.1002/esp.403),
    eliminating Q: :math:`D_b = 0.27 (W_b/7.2)^{0.78}`; sd 0.5 (our
    allowance for the scatter about that fit), bounds hat +/- 3 sd.

Unobserved area ``logA0`` (below the lowest observed state)
    Dingman's section gives mean depth :math:`d = D_b (W/W_b)^r`, so
    :math:`A_0 = W_{min} D_b (W_{min}/W_b)^r`; sd by first-order
    propagation of the Wb, Db and r sds; bounds hat +/- 3 sd.

``logWc``, ``logQc`` (the AMHG congruent point)
    ln of the mean observed width (sd: the observed sd of ln W, at least
    0.01; bounds ln W_min, ln W_max) and ln of the model mean flow
    ``model/mean_q`` (sd :data:`LOGQC_SD` = 1, a nominal factor-of-e
    uncertainty of a hydrological model's mean flow; bounds ln min_q,
    ln max_q of the model, else hat +/- 3 sd).

``logQ_sd``
    From the model flow-duration curve: for log-normal flows
    :math:`\sigma = (\ln Q_{15\%} - \ln Q_{85\%}) / (2 z_{0.85})` with
    :math:`z_{0.85} = 1.0364`; when unavailable 0.83 (= sqrt(ln 2), a
    log-normal with coefficient of variation 1; nominal).

Measurement and model errors
    ``Werr_sd`` (m), ``Serr_sd`` (m/m) and ``dAerr_sd`` (m2): the median
    reported uncertainty ``width_u``, ``slope_u`` (or ``slope2_u``) and
    ``d_x_area_u`` of the observations; without them 10 % of W50,
    1.7e-5 (SWOT's 1.7 cm/km slope accuracy requirement) and
    W50 x 0.1 m (a 10 cm height error over the width).
    ``sigma_man`` and ``sigma_amhg`` (log-space structural errors of the
    Manning and AMHG relations): nominal 0.25 each.

Rows with fewer than :data:`MIN_WIDTHS` valid widths or no finite slope get
NaN (written as fill) everywhere; the caller logs them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from confluence_core.sos import EXCEEDANCE, GB_EXTRA, GB_PARAMS

#: Width class edges (m): 15 log-spaced types, five per decade.
WIDTH_EDGES = 10.0 ** np.round(np.arange(1.2, 3.81, 0.2), 1)
#: River type of steep (high-gradient) reaches.
STEEP_TYPE = 16
#: Slope (m/m) at or above which a reach is "steep" (Jarrett 1984).
STEEP_SLOPE = 0.002
#: Smallest slope used (m/m): SWOT slopes below its precision are noise.
SLOPE_FLOOR = 1.7e-5
#: Valid widths a reach or node needs for any prior.
MIN_WIDTHS = 3
#: Valid widths needed to estimate b from the width variability.
MIN_WIDTHS_FOR_B = 10


@dataclass(frozen=True)
class ManningClass:
    """Manning's n prior of a group of river types (s m^-1/3)."""

    hat: float
    lower: float
    upper: float


#: Manning's n by river type (Chow 1959 natural-channel ranges, see module docstring).
MANNING_N: dict[int, ManningClass] = {
    **{t: ManningClass(0.035, 0.025, 0.080) for t in (1, 2, 3)},
    **{t: ManningClass(0.030, 0.020, 0.060) for t in range(4, 16)},
    STEEP_TYPE: ManningClass(0.045, 0.030, 0.070),
}

B_DEFAULT, B_SD, B_LOWER, B_UPPER, B_CLIP = 0.26, 0.1, 0.01, 0.8, (0.05, 0.5)
LOGWB_SD = 0.25
LOGDB_SD = 0.5
#: Moody and Troutman (2002): W = 7.2 Q^0.50, D = 0.27 Q^0.39 (m, m3/s).
MT_W_COEF, MT_W_EXP, MT_D_COEF, MT_D_EXP = 7.2, 0.50, 0.27, 0.39
LOGQC_SD = 1.0
LOGQ_SD_DEFAULT = float(np.sqrt(np.log(2.0)))
Z_085 = 1.0364
SERR_DEFAULT = 1.7e-5
WERR_FRACTION = 0.10
HEIGHT_ERR = 0.1
SIGMA_MAN = 0.25
SIGMA_AMHG = 0.25
N_SD_BOUNDS = 3.0


def output_names() -> list[str]:
    """Every geoBAM prior variable name, as in :mod:`confluence_core.sos`."""
    names = [f"{p}_{s}" for p in GB_PARAMS for s in ("hat", "sd")]
    names += [f"{b}_{p}" for p in GB_PARAMS for b in ("lower", "upper")]
    return names + list(GB_EXTRA)


def classify(w50: np.ndarray, s50: np.ndarray) -> np.ndarray:
    """River type from the median width (m) and median slope (m/m).

    Parameters
    ----------
    w50 : numpy.ndarray
        Median observed width (m).
    s50 : numpy.ndarray
        Median observed slope (m/m).

    Returns
    -------
    numpy.ndarray of int
        1-15 by width class (:data:`WIDTH_EDGES`), 16 for steep reaches;
        0 where the width or slope is not finite.
    """
    w50 = np.asarray(w50, dtype=np.float64)
    s50 = np.asarray(s50, dtype=np.float64)
    rtype = np.digitize(w50, WIDTH_EDGES) + 1
    rtype = np.where(s50 >= STEEP_SLOPE, STEEP_TYPE, rtype)
    return np.where(np.isfinite(w50) & np.isfinite(s50), rtype, 0).astype(np.int64)


def r_of_b(b: npt.ArrayLike) -> np.ndarray:
    """Dingman (2007) channel-shape exponent r from the AHG width exponent b (Manning, R = d)."""
    b = np.asarray(b, dtype=np.float64)
    return 3.0 * (1.0 - b) / (5.0 * b)


def logq_sd_from_fdc(flow_duration_q: np.ndarray | None, n: int) -> np.ndarray:
    """sd of ln Q (-) from a flow-duration curve [n, 20] (m3/s), log-normal assumption."""
    if flow_duration_q is None:
        return np.full(n, LOGQ_SD_DEFAULT)
    fdc = np.asarray(flow_duration_q, dtype=np.float64).reshape(n, len(EXCEEDANCE))
    q15, q85 = fdc[:, EXCEEDANCE.index(15)], fdc[:, EXCEEDANCE.index(85)]
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = (np.log(q15) - np.log(q85)) / (2.0 * Z_085)
    return np.where(np.isfinite(sd) & (sd > 0), sd, LOGQ_SD_DEFAULT)


def _rowwise(func: Callable[..., npt.ArrayLike], values: np.ndarray | None, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(func(np.asarray(values, dtype=np.float64).reshape(n, -1), axis=1))  # [n]: already an array


def geobam_priors(
    width: np.ndarray,
    slope: np.ndarray,
    mean_q: np.ndarray,
    min_q: np.ndarray | None = None,
    max_q: np.ndarray | None = None,
    flow_duration_q: np.ndarray | None = None,
    width_u: np.ndarray | None = None,
    slope_u: np.ndarray | None = None,
    d_x_area_u: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """geoBAM priors for ``n`` reaches or nodes from their observations.

    Parameters
    ----------
    width : numpy.ndarray [n, t]
        Observed widths (m); NaN, zero or negative = not usable.
    slope : numpy.ndarray [n, t] or [n, 1]
        Observed water-surface slopes (m/m); NaN = missing. Node rows take
        their reach's slopes.
    mean_q, min_q, max_q : numpy.ndarray [n]
        Model mean / min / max flow (m3/s) for ``logQc``.
    flow_duration_q : numpy.ndarray [n, 20], optional
        Model flow-duration curve (m3/s) for ``logQ_sd``.
    width_u, slope_u, d_x_area_u : numpy.ndarray [n, t], optional
        Reported uncertainties (m, m/m, m2).

    Returns
    -------
    dict of str to numpy.ndarray [n]
        Keys :func:`output_names`; logs of quantities in m, m2, m3/s,
        s m^-1/3; ``river_type`` as float (0/NaN where unusable); NaN where a
        row has no usable observations.
    """
    width = np.atleast_2d(np.asarray(width, dtype=np.float64))
    n = width.shape[0]
    w = np.where(np.isfinite(width) & (width > 0), width, np.nan)
    n_w = np.count_nonzero(np.isfinite(w), axis=1)
    s50 = _rowwise(np.nanmedian, slope, n)
    usable = (n_w >= MIN_WIDTHS) & np.isfinite(s50)

    w50, wmin, wmax = (_rowwise(f, w, n) for f in (np.nanmedian, np.nanmin, np.nanmax))
    wmean = _rowwise(np.nanmean, w, n)
    w95 = _rowwise(lambda a, axis: np.nanpercentile(a, 95, axis=axis), w, n)
    sdlogw = _rowwise(lambda a, axis: np.nanstd(a, axis=axis, ddof=1), np.log(w), n)
    rtype = classify(w50, np.maximum(s50, SLOPE_FLOOR))

    werr = _rowwise(np.nanmedian, width_u, n)
    werr = np.where(np.isfinite(werr) & (werr > 0), werr, WERR_FRACTION * w50)
    serr = _rowwise(np.nanmedian, slope_u, n)
    serr = np.where(np.isfinite(serr) & (serr > 0), serr, SERR_DEFAULT)
    daerr = _rowwise(np.nanmedian, d_x_area_u, n)
    daerr = np.where(np.isfinite(daerr) & (daerr > 0), daerr, HEIGHT_ERR * w50)
    logq_sd = logq_sd_from_fdc(flow_duration_q, n)

    out: dict[str, np.ndarray] = {}
    _manning(out, rtype)
    _shape(out, sdlogw, w50, werr, logq_sd, n_w)
    _bankfull(out, w50, wmax, w95, wmin)
    _congruent(out, wmean, wmin, wmax, sdlogw, mean_q, min_q, max_q)
    out.update(
        river_type=rtype.astype(np.float64), logQ_sd=logq_sd, Werr_sd=werr, Serr_sd=serr,
        dAerr_sd=daerr, sigma_man=np.full(n, SIGMA_MAN), sigma_amhg=np.full(n, SIGMA_AMHG),
    )
    for key, value in out.items():
        out[key] = np.where(usable, np.broadcast_to(value, (n,)), np.nan)
    return out


def _set(out: dict[str, np.ndarray], p: str, hat: np.ndarray, sd: np.ndarray,
         lower: np.ndarray, upper: np.ndarray) -> None:
    lower, upper = np.minimum(lower, upper), np.maximum(lower, upper)
    out[f"{p}_hat"] = np.clip(hat, lower, upper)
    out[f"{p}_sd"] = np.asarray(sd, dtype=np.float64)
    out[f"lower_{p}"] = np.asarray(lower, dtype=np.float64)
    out[f"upper_{p}"] = np.asarray(upper, dtype=np.float64)


def _manning(out: dict[str, np.ndarray], rtype: np.ndarray) -> None:
    table = np.full((STEEP_TYPE + 1, 3), np.nan)
    for t, c in MANNING_N.items():
        table[t] = np.log([c.hat, c.lower, c.upper])
    hat, lo, hi = table[rtype].T
    _set(out, "logn", hat, (hi - lo) / 4.0, lo, hi)


def _shape(out: dict[str, np.ndarray], sdlogw: np.ndarray, w50: np.ndarray, werr: np.ndarray,
           logq_sd: np.ndarray, n_w: np.ndarray) -> None:
    with np.errstate(invalid="ignore", divide="ignore"):
        sd_true = np.sqrt(np.maximum(sdlogw**2 - (werr / w50) ** 2, 0.0))
        b = np.clip(sd_true / logq_sd, *B_CLIP)
    b = np.where((n_w >= MIN_WIDTHS_FOR_B) & np.isfinite(b), b, B_DEFAULT)
    _set(out, "b", b, np.full_like(b, B_SD), np.full_like(b, B_LOWER), np.full_like(b, B_UPPER))
    logr_sd = B_SD * (1.0 / b + 1.0 / (1.0 - b))
    _set(out, "logr", np.log(r_of_b(b)), logr_sd,
         np.full_like(b, np.log(r_of_b(B_UPPER))), np.full_like(b, np.log(r_of_b(B_LOWER))))


def _bankfull(out: dict[str, np.ndarray], w50: np.ndarray, wmax: np.ndarray, w95: np.ndarray,
              wmin: np.ndarray) -> None:
    with np.errstate(invalid="ignore", divide="ignore"):
        log_wb = np.log(w95)
        _set(out, "logWb", log_wb, np.full_like(log_wb, LOGWB_SD), np.log(w50), np.log(3.0 * wmax))
        log_db = np.log(MT_D_COEF) + (MT_D_EXP / MT_W_EXP) * (log_wb - np.log(MT_W_COEF))
        _set(out, "logDb", log_db, np.full_like(log_db, LOGDB_SD),
             log_db - N_SD_BOUNDS * LOGDB_SD, log_db + N_SD_BOUNDS * LOGDB_SD)
        r = np.exp(out["logr_hat"])
        ratio = np.log(wmin) - log_wb  # ln(Wmin / Wb) <= 0
        log_a0 = np.log(wmin) + log_db + r * ratio
        a0_sd = np.sqrt(LOGDB_SD**2 + (r * LOGWB_SD) ** 2 + (r * ratio * out["logr_sd"]) ** 2)
        _set(out, "logA0", log_a0, a0_sd, log_a0 - N_SD_BOUNDS * a0_sd, log_a0 + N_SD_BOUNDS * a0_sd)


def _congruent(out: dict[str, np.ndarray], wmean: np.ndarray, wmin: np.ndarray, wmax: np.ndarray,
               sdlogw: np.ndarray, mean_q: np.ndarray, min_q: np.ndarray | None,
               max_q: np.ndarray | None) -> None:
    n = wmean.size
    with np.errstate(invalid="ignore", divide="ignore"):
        wc_sd = np.where(np.isfinite(sdlogw), np.maximum(sdlogw, 0.01), 0.01)
        _set(out, "logWc", np.log(wmean), wc_sd, np.log(wmin), np.log(wmax))
        log_qc = np.log(np.where(np.asarray(mean_q, dtype=np.float64) > 0, mean_q, np.nan))
        lo = np.log(np.asarray(min_q if min_q is not None else np.full(n, np.nan), dtype=np.float64))
        hi = np.log(np.asarray(max_q if max_q is not None else np.full(n, np.nan), dtype=np.float64))
    ok = np.isfinite(lo) & np.isfinite(hi) & (lo <= log_qc) & (log_qc <= hi)
    lo = np.where(ok, lo, log_qc - N_SD_BOUNDS * LOGQC_SD)
    hi = np.where(ok, hi, log_qc + N_SD_BOUNDS * LOGQC_SD)
    _set(out, "logQc", log_qc, np.full(n, LOGQC_SD), lo, hi)
