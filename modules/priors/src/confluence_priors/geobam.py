r"""geoBAM priors from SWOT widths and slopes: the published expert classification (pure functions).

geoBAM (Brinkerhoff, C. B., Gleason, C. J., Feng, D. and Lin, P. (2020),
Constraining remote river discharge estimation using reach-scale
geomorphology, Water Resources Research, 56(11), e2020WR027949,
doi:10.1029/2020WR027949) replaces the global priors of BAM (Hagemann, M. W.,
Gleason, C. J. and Durand, M. T. (2017), BAM: Bayesian AMHG-Manning inference
of discharge using remotely sensed stream width, slope, and height, Water
Resources Research, 53, 9692-9707, doi:10.1002/2017WR021626) by priors per
*river type*, the type being read from the remotely sensed widths alone. Its
"expert" framework has 15 width-defined types, each with a characteristic
width, found from a principal-component analysis of US field hydraulics
(Brinkerhoff, Gleason and Ostendorf (2019), Geophys. Res. Lett., 46,
9637-9647, doi:10.1029/2019GL084529), plus "highly width-variable" rivers
(type 16) and "big" rivers (type 17), the latter too rare in the training
data for a type prior: they keep geoBAM's global (unclassified) prior.

Where the numbers come from
---------------------------
The paper's own tables were not available to us. Every number below is read
from geoBAM's reference implementation, the geoBAMr R package by the paper's
first author (github.com/craigbrinkerhoff/geoBAMr, whose README and vignette
``vignettes/geoBAMr.Rmd`` describe the framework above):

* ``R/utils.R``, function ``classify_func``: the 15 characteristic widths
  (:data:`TYPE_LOGW`), the big-river threshold (:data:`BIG_LOGW`) and the
  width-variability threshold (:data:`VARIABLE_LOGW_SD`);
* ``R/priorCalc.R``, functions ``estimate_{b,logA0,logWb,logDb,logr,logn}``,
  ``estimate_{b,A0,logWb,logDb,logr,logn}SD`` and
  ``estimate_{lower,upper}bound*`` of the expert framework (version with 16
  type rows and type 17 = big rivers): :data:`EXPERT` (per-type hat, sd and
  bounds, and the global values and regressions used for type 17);
* ``R/bam_settings.R`` (geoBAMr; the same values in BAM's bamr package,
  github.com/markwh/bamr, ``R/bam_settings.R``): :data:`SIGMA_MAN`,
  :data:`SIGMA_AMHG`, the CV = 1 flow sds :data:`LOGQ_SD_DEFAULT` and
  :data:`LOGQC_SD`, and the error defaults :data:`WERR_DEFAULT`,
  :data:`SERR_DEFAULT`, :data:`DAERR_DEFAULT`.

Classification (:func:`classify`)
    With :math:`\bar\ell` the mean and :math:`s_\ell` the sample standard
    deviation (n - 1) of the natural log of the valid widths (m): type 16 if
    :math:`s_\ell \ge 0.45`; else type 17 if :math:`\bar\ell > 6.5`
    (:math:`e^{6.5}` = 665 m); else the type 1-15 whose characteristic
    :math:`\ln W` is nearest :math:`\bar\ell` (a tie goes to the lower type,
    as R's ``which.min``), i.e. boundaries half-way between consecutive
    characteristic values. geoBAM sets no minimum number of widths; we
    classify rows with at least :data:`MIN_WIDTHS` valid widths (finite,
    > 0), so that :math:`s_\ell` means something.

Per-type priors (types 1-16)
    ``b`` (-), ``logA0`` (ln m2), ``logWb`` (ln m), ``logDb`` (ln m),
    ``logr`` (ln of Dingman's shape exponent, -) and ``logn`` (ln s m^-1/3):
    hat, sd, lower and upper bound straight from :data:`EXPERT`.

Global prior (type 17, and unclassified rows)
    geoBAM's global regressions on the width statistics (and, for n, on the
    mean log slope :math:`\bar\ell_S` of the positive slopes, m/m):
    :math:`b = 0.0569 + 0.3822 s_\ell`,
    :math:`\ln A_0 = -0.2918 + 1.6930\bar\ell - 0.1887 s_\ell`,
    :math:`\ln W_b = 0.0037 + 1.0028\bar\ell`,
    :math:`\ln D_b = -2.6189 + 0.6854\bar\ell - 0.2436 s_\ell`,
    :math:`\ln r = 1.4241 + 0.0420\bar\ell - 1.9097 s_\ell`,
    :math:`\ln n = -0.1636 + 0.4077\bar\ell_S`, with the global sds and bounds
    of the type-17 column of :data:`EXPERT`. Rows with 1 or 2 valid widths
    are unclassified (``river_type`` 0, written as fill) and get this global
    prior wherever its inputs exist (:math:`s_\ell` needs 2 widths,
    :math:`\ln n` a positive slope); a parameter whose hat cannot be
    evaluated is fill as a whole (hat, sd and bounds). Rows with no valid
    width are fill everywhere: geoBAM has nothing to classify or regress on.

Bounds and hats
    geoBAMr takes the widest bounds over all cross-sections it is given at
    once; we give each reach or node the bounds of its own type. BAM's
    priors are normal (log-normal for the logs) truncated to the bounds, so
    a global-regression hat outside them is moved onto the nearer bound (the
    mode of the truncated prior). The per-type hats lie within their bounds.

``logWc``, ``logQc`` (the AMHG congruent point)
    ``logWc_hat`` is the mean log width :math:`\bar\ell` and ``logQc_hat``
    the log of the model mean flow ``model/mean_q`` (m3/s), as in BAM/geoBAM.
    ``logQc_sd`` is BAM's :data:`LOGQC_SD` = sqrt(ln 2) (coefficient of
    variation 1). Ours, not BAM's fixed values: ``logWc_sd`` the observed
    sd of ln W, at least 0.01 (BAM's value); logWc bounds ln W_min, ln W_max
    (BAM: 1 and 8, which excludes rivers wider than 3 km); logQc bounds
    ln min_q, ln max_q of the model when they bracket the hat (BAM: 0 and
    10), else hat +/- 3 sd.

``logQ_sd``
    Ours: from the model flow-duration curve, for log-normal flows
    :math:`\sigma = (\ln Q_{15\%} - \ln Q_{85\%}) / (2 z_{0.85})` with
    :math:`z_{0.85} = 1.0364`; BAM's sqrt(ln 2) (CV 1) when unavailable.

Measurement and model errors
    ``Werr_sd`` (m), ``Serr_sd`` (m/m) and ``dAerr_sd`` (m2): the median
    reported SWOT uncertainty ``width_u``, ``slope_u`` (or ``slope2_u``) and
    ``d_x_area_u`` of the observations (ours); without them BAM's defaults
    10 m, 1e-5 and 10 m2. ``sigma_man`` = 0.25 and ``sigma_amhg`` = 0.22
    (BAM/geoBAM).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from confluence_core.sos import EXCEEDANCE, GB_EXTRA, GB_PARAMS

#: Characteristic width (mean ln W, ln m) of expert types 1-15 (geoBAMr R/utils.R, classify_func).
TYPE_LOGW = np.array([
    2.476118144, 2.864001065, 3.103015939, 3.249308032, 3.284178964,
    3.371669039, 3.56827873, 3.664586762, 3.683922384, 4.002696788,
    4.031559142, 4.357733942, 4.436574004, 4.921166637, 5.287893051,
])
#: Mean ln W (ln m) above which a river is "big" (type 17), strictly greater (classify_func).
BIG_LOGW = 6.5
#: sd of ln W (-) at or above which a river is "highly width-variable" (type 16), overriding 17.
VARIABLE_LOGW_SD = 0.45
#: Expert river types beyond the 15 width types.
VARIABLE_TYPE, BIG_TYPE = 16, 17
#: Valid widths a row needs to be classified (ours; geoBAM sets no minimum).
MIN_WIDTHS = 3


@dataclass(frozen=True)
class ExpertTable:
    """Published prior of one flow-law parameter in geoBAM's expert framework.

    Attributes
    ----------
    hat : tuple of 16 float
        Prior mean of types 1-16.
    sd, lower, upper : tuple of 17 float
        Prior sd and bounds of types 1-17 (type 17: the global values).
    fit : tuple of 4 float
        Global regression, type 17 and unclassified rows: intercept and the
        coefficients of the mean ln W, the sd of ln W and the mean ln S.
    """

    hat: tuple[float, ...]
    sd: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    fit: tuple[float, float, float, float]


#: geoBAM expert priors by parameter (geoBAMr R/priorCalc.R, estimate_* functions of the
#: expert framework). Units: b (-); logA0 ln m2 (geoBAMr stores the A0 bounds as ln m2 and
#: exponentiates them; type-17 upper A0 1e6 m2); logWb, logDb ln m; logr ln(-); logn ln s m^-1/3
#: (type-17 bounds ln 0.01 and ln 0.05).
EXPERT: dict[str, ExpertTable] = {
    "b": ExpertTable(
        hat=(0.227633914, 0.24121913, 0.204897294, 0.204451567, 0.192887656, 0.188263846,
             0.211646902, 0.176051924, 0.164989336, 0.14444077, 0.179925708, 0.151049254,
             0.107294865, 0.125720128, 0.117940326, 0.404257196),
        sd=(0.094625319, 0.103986506, 0.110231244, 0.103910665, 0.101259677, 0.098511991,
            0.097920891, 0.0962566, 0.100083519, 0.10412018, 0.099927194, 0.098731293,
            0.099282596, 0.075781266, 0.091252051, 0.112180583, 0.068077044),
        lower=(0.009634045, 0.009206385, 0.010378626, 0.00984031, 0.000182357, 0.008909195,
               0.025751932, 0.005703884, 0.017018127, 0.013954247, 0.019210795, 0.010974071,
               0.016252382, 0.017584834, 0.004872167, 0.029379248, 0.000182357),
        upper=(0.401485695, 0.450546257, 0.442897059, 0.427490668, 0.415703708, 0.388788209,
               0.422853699, 0.41859221, 0.397420318, 0.432497404, 0.404125905, 0.413263659,
               0.361701335, 0.328343393, 0.348032765, 0.773757585, 0.773757585),
        fit=(0.0569, 0.0, 0.3822, 0.0),
    ),
    "logA0": ExpertTable(
        hat=(3.723280881, 4.497073804, 4.753590191, 4.990432587, 4.911328517, 5.350615603,
             5.422742508, 5.523458921, 5.774532256, 6.446836611, 6.527953643, 6.873163834,
             7.102499356, 8.007965013, 8.937204637, 4.432006567),
        sd=(1.446820524, 1.350055707, 1.363875688, 1.260787706, 1.306619211, 1.315826017,
            1.190542029, 1.337220271, 1.21047899, 1.359096608, 1.245863462, 1.287297345,
            1.08535437, 1.154319081, 1.5575699, 2.272342301, 0.58987527),
        lower=(0.732367894, 1.508511994, 0.91027266, 2.517696473, 1.199964783, 2.681021529,
               2.148850993, 1.545432582, 2.415913778, 3.106826321, 3.874321138, 2.694627181,
               3.696351469, 3.593194204, 4.043928076, 0.262364264, 4.540631665),
        upper=(7.640123173, 7.355641103, 8.997147152, 9.164296433, 8.554488976, 9.417354541,
               7.677863501, 8.144679183, 7.863266724, 8.793308627, 8.776475789, 9.014325488,
               8.78186249, 9.61580548, 11.6483301, 11.55214618, float(np.log(1.0e6))),
        fit=(-0.2918, 1.6930, -0.1887, 0.0),
    ),
    "logWb": ExpertTable(
        hat=(2.476118144, 2.864001065, 3.103015939, 3.249308032, 3.284178964, 3.371669039,
             3.574693905, 3.664586762, 3.683922384, 4.002696788, 4.032912323, 4.357733942,
             4.436574004, 4.921742348, 5.287893051, 3.032064203),
        sd=(0.750069561, 0.738069364, 0.710662053, 0.669257108, 0.685680677, 0.630380021,
            0.563796126, 0.812622517, 0.691428554, 0.654155675, 0.587954845, 0.728133987,
            0.540567805, 0.680678526, 0.889425931, 1.268865384, 0.137381044),
        lower=(0.316633894, 0.814036498, 0.461215123, 1.377505855, 0.744077909, 2.070653036,
               1.73032723, 0.42199441, 1.756995477, 2.396075436, 2.293796587, 2.268873179,
               2.99460664, 1.852305657, 2.585317436, -0.122732765, 3.089222617),
        upper=(4.016563185, 4.410978457, 4.833579847, 5.094823245, 5.029162599, 5.216130696,
               4.5361416, 5.091077922, 5.194372515, 5.100415058, 5.372171735, 5.860073719,
               5.521860838, 5.749870579, 7.006785802, 6.917259966, 10.0),
        fit=(0.0037, 1.0028, 0.0, 0.0),
    ),
    "logDb": ExpertTable(
        hat=(-1.035199401, -0.738778811, -0.759250143, -0.714358207, -0.834152133, -0.629032654,
             -0.471723514, -0.547540836, -0.480357291, 0.130087152, -0.07180952, 0.15467964,
             0.299392088, 0.579044554, 1.48611948, -0.974789558),
        sd=(0.754179034, 0.719470145, 0.751836561, 0.699278157, 0.699865238, 0.771195464,
            0.69921735, 0.665457667, 0.662592139, 0.810898004, 0.764674068, 0.719504763,
            0.690395904, 0.664391944, 0.8459272, 1.132642792, 0.576212733),
        lower=(-2.326877786, -1.788516004, -2.05494407, -1.892425141, -2.057110918, -1.947205432,
               -1.915682003, -1.514919292, -1.730529988, -1.638497383, -1.809169822, -1.622549192,
               -1.649478962, -0.83244782, -0.924234286, -2.379581849, -0.951962577),
        upper=(1.49936159, 1.045713084, 1.7933029, 1.725376856, 1.127811443, 1.827833367,
               1.174682984, 1.449780646, 1.260032945, 1.708874134, 1.765116599, 1.327316111,
               1.639749354, 2.102212505, 3.309358647, 2.571816749, 5.0),
        fit=(-2.6189, 0.6854, -0.2436, 0.0),
    ),
    "logr": ExpertTable(
        hat=(0.479582219, 0.475424989, 0.742030366, 0.747458374, 0.810066771, 0.764035146,
             0.728537155, 0.914703855, 1.012946569, 1.012082534, 0.964521619, 1.007259927,
             1.368493142, 1.217111712, 1.067996942, -0.247245593),
        sd=(0.574788166, 0.686443448, 0.735995097, 0.660600833, 1.152463807, 0.751672132,
            0.646178286, 0.721545901, 0.678734433, 0.73732522, 0.714799269, 0.783012838,
            0.824128369, 0.666709963, 0.741805733, 0.418335751, 0.67332688),
        lower=(0.010687262, 0.003572302, 0.030800262, 0.055237814, 0.075268048, 0.005163827,
               0.003031095, 0.140133893, 0.014043795, 0.007552884, 0.033288292, 0.017194676,
               0.081171573, 0.128060852, 0.020365892, -2.580471126, -2.580471126),
        upper=(2.659590969, 3.660494543, 3.75765632, 3.809886281, 8.037716276, 3.885278632,
               3.141534762, 4.058323672, 2.894177697, 3.145908752, 3.291615219, 3.759676814,
               3.688940701, 3.293279235, 4.028976176, -0.002840899, 8.037716276),
        fit=(1.4241, 0.0420, -1.9097, 0.0),
    ),
    "logn": ExpertTable(
        hat=(-2.956882373, -3.218074003, -3.073438472, -3.316850463, -3.318215717, -3.15335243,
             -3.456243594, -3.545592423, -3.240085716, -3.401877538, -3.269861085, -3.372948626,
             -3.404202242, -3.274729636, -3.405497386, -3.318138928),
        sd=(1.069101032, 1.004209047, 1.051391594, 1.050420395, 1.103812115, 1.050696519,
            1.205687421, 1.229666517, 1.101795647, 1.194241604, 1.268715794, 1.260820049,
            1.199816945, 1.345333569, 1.724262114, 1.122652969, 0.761673112),
        lower=(-5.678333858, -5.467593416, -5.67856698, -5.768715685, -5.682940688, -5.841321589,
               -5.56434293, -5.957755533, -5.646550723, -6.064509006, -6.029056118, -6.405084634,
               -6.678294272, -6.211213087, -6.06854241, -6.246537799, float(np.log(0.01))),
        upper=(-0.377797559, -1.024617813, -0.469297566, -1.330691863, -1.17053266, -1.181653683,
               -0.819808414, -1.085062606, -0.540120016, -1.349783005, -0.325687448, -0.025491812,
               -0.554602291, 0.501441352, 1.930473909, 0.094113848, float(np.log(0.05))),
        fit=(-0.1636, 0.0, 0.0, 0.4077),
    ),
}

#: BAM / geoBAM likelihood sds (R/bam_settings.R of bamr and geoBAMr).
SIGMA_MAN, SIGMA_AMHG = 0.25, 0.22
#: sd of ln Q and of ln Qc for a coefficient of variation of 1 (BAM): sqrt(ln 2).
LOGQ_SD_DEFAULT = float(np.sqrt(np.log(2.0)))
LOGQC_SD = LOGQ_SD_DEFAULT
#: BAM's observation-error defaults: width (m), slope (m/m), partial area (m2).
WERR_DEFAULT, SERR_DEFAULT, DAERR_DEFAULT = 10.0, 1e-5, 10.0
#: Smallest logWc_sd (-): BAM's sqrt(ln(1 + 0.01^2)).
LOGWC_SD_MIN = 0.01
#: Standard normal quantile at 0.85 (flow-duration spread).
Z_085 = 1.0364
#: Half-width of the logQc bounds in sds when the model gives none.
N_SD_BOUNDS = 3.0


def output_names() -> list[str]:
    """Every geoBAM prior variable name, as in :mod:`confluence_core.sos`."""
    names = [f"{p}_{s}" for p in GB_PARAMS for s in ("hat", "sd")]
    names += [f"{b}_{p}" for p in GB_PARAMS for b in ("lower", "upper")]
    return names + list(GB_EXTRA)


def _rowwise(func: Callable[..., npt.ArrayLike], values: np.ndarray | None, n: int) -> np.ndarray:
    """``func(values[i, :])`` for every row, NaN-aware, warnings of all-NaN rows silenced."""
    if values is None:
        return np.full(n, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(func(np.asarray(values, dtype=np.float64).reshape(n, -1), axis=1))


def _positive(values: np.ndarray | None, n: int) -> np.ndarray:
    """Values as ``[n, t]`` with NaN where not finite or not > 0 (fill values are negative)."""
    if values is None:
        return np.full((n, 1), np.nan)
    v = np.asarray(values, dtype=np.float64).reshape(n, -1)
    return np.where(np.isfinite(v) & (v > 0), v, np.nan)


def width_stats(width: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Valid-width count, mean and sample sd of ln W per row.

    Parameters
    ----------
    width : numpy.ndarray [n, t]
        Observed widths (m); NaN, zero or negative (fill) = not valid.

    Returns
    -------
    n_w : numpy.ndarray of int [n]
    mean_logw : numpy.ndarray [n]
        Mean of ln W (ln m); NaN without a valid width.
    sd_logw : numpy.ndarray [n]
        Sample sd (n - 1) of ln W (-); NaN with fewer than two.
    """
    w = np.atleast_2d(np.asarray(width, dtype=np.float64))
    n = w.shape[0]
    logw = np.log(_positive(w, n))
    n_w = np.count_nonzero(np.isfinite(logw), axis=1)
    sd = _rowwise(lambda a, axis: np.nanstd(a, axis=axis, ddof=1), logw, n)
    return n_w, _rowwise(np.nanmean, logw, n), np.where(n_w >= 2, sd, np.nan)


def classify(mean_logw: npt.ArrayLike, sd_logw: npt.ArrayLike) -> np.ndarray:
    """geoBAM expert river type from the mean and sd of ln W.

    Parameters
    ----------
    mean_logw : array_like
        Mean of the natural log of the observed widths (ln m).
    sd_logw : array_like
        Sample standard deviation of ln W (-).

    Returns
    -------
    numpy.ndarray of int
        16 where ``sd_logw >= 0.45``; else 17 where ``mean_logw > 6.5``;
        else the type 1-15 of the nearest characteristic ln W
        (:data:`TYPE_LOGW`, ties to the lower type); 0 where either input
        is not finite.
    """
    mean = np.asarray(mean_logw, dtype=np.float64)
    sd = np.asarray(sd_logw, dtype=np.float64)
    ok = np.isfinite(mean) & np.isfinite(sd)
    safe = np.where(ok, mean, 0.0)
    nearest = np.argmin(np.abs(safe[..., None] - TYPE_LOGW), axis=-1) + 1
    rtype = np.where(safe > BIG_LOGW, BIG_TYPE, nearest)
    rtype = np.where(np.where(ok, sd, 0.0) >= VARIABLE_LOGW_SD, VARIABLE_TYPE, rtype)
    return np.where(ok, rtype, 0).astype(np.int64)


def logq_sd_from_fdc(flow_duration_q: np.ndarray | None, n: int) -> np.ndarray:
    """sd of ln Q (-) from a flow-duration curve [n, 20] (m3/s), log-normal assumption."""
    if flow_duration_q is None:
        return np.full(n, LOGQ_SD_DEFAULT)
    fdc = np.asarray(flow_duration_q, dtype=np.float64).reshape(n, len(EXCEEDANCE))
    q15, q85 = fdc[:, EXCEEDANCE.index(15)], fdc[:, EXCEEDANCE.index(85)]
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = (np.log(q15) - np.log(q85)) / (2.0 * Z_085)
    return np.where(np.isfinite(sd) & (sd > 0), sd, LOGQ_SD_DEFAULT)


def expert_priors(rtype: np.ndarray, mean_logw: np.ndarray, sd_logw: np.ndarray,
                  mean_logs: np.ndarray) -> dict[str, np.ndarray]:
    """Hat, sd and bounds of b, logA0, logWb, logDb, logr, logn by river type.

    Parameters
    ----------
    rtype : numpy.ndarray of int [n]
        River type 1-17 (:func:`classify`), 0 = unclassified (global prior).
    mean_logw, sd_logw : numpy.ndarray [n]
        Mean (ln m) and sd (-) of ln W, for the global regressions.
    mean_logs : numpy.ndarray [n]
        Mean ln S of the positive slopes (ln m/m), for the global ln n.

    Returns
    -------
    dict of str to numpy.ndarray [n]
        ``{p}_hat``, ``{p}_sd``, ``lower_{p}``, ``upper_{p}`` (units in
        :data:`EXPERT`); all four NaN where the hat cannot be evaluated.
    """
    rtype = np.asarray(rtype, dtype=np.int64)
    row = np.where((rtype >= 1) & (rtype <= BIG_TYPE), rtype, BIG_TYPE) - 1
    use_fit = (rtype == 0) | (rtype == BIG_TYPE)
    x = (np.asarray(mean_logw, dtype=np.float64), np.asarray(sd_logw, dtype=np.float64),
         np.asarray(mean_logs, dtype=np.float64))
    out: dict[str, np.ndarray] = {}
    for p, tab in EXPERT.items():
        fit = np.full(rtype.shape, tab.fit[0])
        for coef, xi in zip(tab.fit[1:], x, strict=True):
            if coef != 0.0:
                fit = fit + coef * xi
        hat = np.where(use_fit, fit, np.append(tab.hat, np.nan)[row])
        _set(out, p, hat, np.asarray(tab.sd)[row], np.asarray(tab.lower)[row], np.asarray(tab.upper)[row])
    return out


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
        Observed widths (m); NaN, zero or negative (fill) = not valid.
    slope : numpy.ndarray [n, t] or [n, 1]
        Observed water-surface slopes (m/m); NaN, zero or negative = not
        valid. Node rows take their reach's slopes.
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
        s m^-1/3; ``river_type`` as float: 1-17, 0 = unclassified (fewer
        than :data:`MIN_WIDTHS` widths: global prior), NaN where no width
        is valid (then every value is NaN).
    """
    width = np.atleast_2d(np.asarray(width, dtype=np.float64))
    n = width.shape[0]
    n_w, mean_logw, sd_logw = width_stats(width)
    w = _positive(width, n)
    mean_logs = _rowwise(np.nanmean, np.log(_positive(slope, n)), n)
    rtype = np.where(n_w >= MIN_WIDTHS, classify(mean_logw, sd_logw), 0)

    out = expert_priors(rtype, mean_logw, sd_logw, mean_logs)
    _congruent(out, mean_logw, sd_logw, _rowwise(np.nanmin, w, n), _rowwise(np.nanmax, w, n),
               mean_q, min_q, max_q)
    out.update(
        river_type=rtype.astype(np.float64),
        logQ_sd=logq_sd_from_fdc(flow_duration_q, n),
        Werr_sd=_median_or(width_u, n, WERR_DEFAULT),
        Serr_sd=_median_or(slope_u, n, SERR_DEFAULT),
        dAerr_sd=_median_or(d_x_area_u, n, DAERR_DEFAULT),
        sigma_man=np.full(n, SIGMA_MAN), sigma_amhg=np.full(n, SIGMA_AMHG),
    )
    return {key: np.where(n_w > 0, np.broadcast_to(value, (n,)), np.nan) for key, value in out.items()}


def _median_or(values: np.ndarray | None, n: int, default: float) -> np.ndarray:
    """Row medians of the positive ``values``; ``default`` where there are none."""
    med = _rowwise(np.nanmedian, _positive(values, n), n)
    return np.where(np.isfinite(med), med, default)


def _set(out: dict[str, np.ndarray], p: str, hat: np.ndarray, sd: np.ndarray,
         lower: np.ndarray, upper: np.ndarray) -> None:
    """Store one prior; the hat is held within the bounds; all four NaN unless all are finite."""
    lo, hi = np.minimum(lower, upper), np.maximum(lower, upper)
    ok = np.isfinite(hat) & np.isfinite(sd) & np.isfinite(lo) & np.isfinite(hi)
    out[f"{p}_hat"] = np.where(ok, np.clip(hat, lo, hi), np.nan)
    out[f"{p}_sd"] = np.where(ok, sd, np.nan)
    out[f"lower_{p}"] = np.where(ok, lo, np.nan)
    out[f"upper_{p}"] = np.where(ok, hi, np.nan)


def _congruent(out: dict[str, np.ndarray], mean_logw: np.ndarray, sd_logw: np.ndarray, wmin: np.ndarray,
               wmax: np.ndarray, mean_q: np.ndarray, min_q: np.ndarray | None,
               max_q: np.ndarray | None) -> None:
    """logWc and logQc priors (module docstring)."""
    n = mean_logw.size
    wc_sd = np.where(np.isfinite(sd_logw), np.maximum(sd_logw, LOGWC_SD_MIN), LOGWC_SD_MIN)
    with np.errstate(invalid="ignore", divide="ignore"):
        _set(out, "logWc", mean_logw, wc_sd, np.log(wmin), np.log(wmax))
        q = np.asarray(mean_q, dtype=np.float64)
        log_qc = np.log(np.where(q > 0, q, np.nan))
        lo = np.log(np.asarray(min_q if min_q is not None else np.full(n, np.nan), dtype=np.float64))
        hi = np.log(np.asarray(max_q if max_q is not None else np.full(n, np.nan), dtype=np.float64))
    ok = np.isfinite(lo) & np.isfinite(hi) & (lo <= log_qc) & (log_qc <= hi)
    lo = np.where(ok, lo, log_qc - N_SD_BOUNDS * LOGQC_SD)
    hi = np.where(ok, hi, log_qc + N_SD_BOUNDS * LOGQC_SD)
    _set(out, "logQc", log_qc, np.full(n, LOGQC_SD), lo, hi)
