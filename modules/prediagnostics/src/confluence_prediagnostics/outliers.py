"""Outlier tests that judge a value against its hydraulic neighbours, not the spread of its series.

Pure numpy functions over the last axis (time); every leading axis is an
independent row (one reach, or one node).  NaN means missing.

Method
------
Width and water-surface elevation (WSE) of a reach both grow with discharge
(at-a-station hydraulic geometry: Leopold & Maddock 1953, USGS Professional
Paper 252, doi:10.3133/pp252), so over time they follow one monotone,
rating-like relation.  A flood or a drought moves along that relation; a bad
value leaves it.  Each value is therefore judged by its residual from a robust
monotone fit of that relation:

1. **Monotone fit.**  Nondecreasing least-squares (isotonic) regression of WSE
   on width and of width on WSE (Barlow, Bartholomew, Bremner & Brunk 1972,
   *Statistical Inference under Order Restrictions*, Wiley,
   ISBN 978-0-471-04970-8), computed with the max-min formula
   ``fit_i = max_{s<=i} min_{t>=i} mean_w(y_s..y_t)`` (Robertson, Wright &
   Dykstra 1988, *Order Restricted Statistical Inference*, Wiley,
   ISBN 978-0-471-91787-8, theorem 1.4.4), vectorised as an (n, n) table of
   interval means per row.  No functional form is assumed, so a curved
   relation (overbank flow) fits as well as a straight one.
2. **Robustness.**  Sequential deletion: while the worst value of a row
   stands more than ``k`` scales off the fit, it leaves the fit and the row is
   refitted, at most half of the values (the generalized extreme studentized
   deviate procedure: Rosner 1983, Technometrics 25(2):165-172,
   doi:10.1080/00401706.1983.10487848).  A bad value first spreads over the
   block it is pooled with; deleting the worst one first lets the good values
   of that block come back.  Every value, deleted or not, is judged at the end
   against the final fit.
3. **Judging a value.**  The fit gives a band of values the monotone relation
   allows at each point: its own fitted value for a point that weighs in the
   fit, and the fitted values of its nearest weighted neighbours (below and
   above in the explanatory variable) for a point that does not (a
   down-weighted value, or a suspect one judged against the others).  Beyond
   the observed range the band is open in the monotone direction: a flood
   wider *and* higher than every other pass, or a drought narrower *and* lower,
   is consistent with the relation whatever its size.  The residual is the
   distance from the band.
4. **Scale and cut-off.**  An isotonic fit follows the noise closely (many
   points sit in a block of their own, with a residual of exactly 0), so its
   residuals understate the scatter.  The scale is instead the robust
   difference-based estimate of the scatter of ``y`` about the relation:
   ``1.4826 median|y_(i+1) - y_i| / sqrt(2)`` over the points sorted by ``x``
   (successive differences: Rice 1984, Ann. Statist. 12(4):1215-1230,
   doi:10.1214/aos/1176346788; the MAD as robust scale: Rousseeuw & Leroy
   1987, *Robust Regression and Outlier Detection*, Wiley,
   doi:10.1002/0471725382).  It needs no fit, and where the relation explains
   little (a nearly constant width) it falls back to the spread of ``y``
   itself.  Nor is it smaller than the fit's own robust residual scale,
   ``1.4826 median|r|`` inflated by ``sqrt(n / (n - d))`` for the ``d``
   distinct levels the isotonic fit spends (its degrees of freedom: Meyer &
   Woodroofe 2000, Ann. Statist. 28(4):1083-1104, doi:10.1214/aos/1015956708),
   which matters where ``x`` is tied (a width that does not change: tied
   values share one fitted level).  It is never smaller than the measurement
   error: the median reported ``_u`` of the row, capped at the SWOT science
   requirements (Rodriguez 2016, JPL D-61923: 0.10 m WSE, 15 % width, 1.7e-5
   slope), which also stand in where nothing is reported.  A value is an
   outlier when ``|r| / scale > k``, ``k = 3.5`` (Iglewicz & Hoaglin 1993,
   *How to Detect and Handle Outliers*, ASQC Quality Press,
   ISBN 978-0-87389-247-6).
5. **Slope.**  Slope has no monotone relation with stage (backwater can make
   it fall as stage rises), so a slope is judged against its hydraulic
   neighbours directly: the median slope of the ``m`` passes nearest in WSE,
   itself left out (a running median, Tukey 1977, *Exploratory Data
   Analysis*, Addison-Wesley, ISBN 978-0-201-07616-5), with the same robust
   scale and cut-off (the floor scaled by ``sqrt(1 + pi / (2 m))``, the error
   of a difference from a median of ``m`` values).

A value whose partner is missing (a width without WSE) is judged against its
own series with the same robust z-score.  :func:`tukey_outliers` (the public
workflow's filter) is kept for comparison only (``bench/prediag_coverage.py``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

#: Consistency constant of the MAD for a normal distribution (1 / Phi^-1(3/4)).
MAD_TO_SIGMA = 1.4826
#: Largest share of a row's values the robust fit may set aside (the breakdown point of the median).
MAX_DELETED_SHARE = 0.5
#: Largest (rows x n x n) table of interval means built at once (memory bound, ~32 MB per array).
CHUNK_CELLS = 4_000_000


@dataclass
class RelationTest:
    """Result of :func:`relation_outliers`; arrays have the shape of the inputs.

    ``wse`` / ``width``: ``True`` where the value is an outlier.  ``z_wse`` /
    ``z_width``: standardised residuals (NaN where not tested).  ``tested``:
    the pair was judged against the relation (row with enough pairs).
    """

    wse: np.ndarray
    width: np.ndarray
    z_wse: np.ndarray
    z_width: np.ndarray
    tested: np.ndarray


# --- helpers -----------------------------------------------------------------------------------


def _as_rows(a: np.ndarray) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    return arr.reshape(-1, arr.shape[-1]) if arr.ndim else arr.reshape(1, 1)


def _row_floor(floor: np.ndarray | float, shape: tuple[int, ...]) -> np.ndarray:
    """Per-row floor of a scale, shape (rows, 1)."""
    rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
    f = np.broadcast_to(np.asarray(floor, dtype=np.float64), shape[:-1]).reshape(rows, 1)
    return np.where(np.isfinite(f) & (f > 0), f, 0.0)


def nanmedian_last(values: np.ndarray, keepdims: bool = False) -> np.ndarray:
    """``numpy.nanmedian(values, axis=-1)``, the same numbers, without its per-call overhead on small rows.

    NaN are ignored; a row without a non-NaN value gives NaN (and no warning).  The median of an
    even count is the mean of the two middle values, ``(low + high) / 2``, as numpy computes it.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.shape[-1] == 0:
        empty = np.full((*arr.shape[:-1], 1), np.nan)
        return empty if keepdims else empty[..., 0]
    ordered = np.sort(arr, axis=-1)  # NaN sort last
    n = np.count_nonzero(~np.isnan(arr), axis=-1, keepdims=True)
    low = np.take_along_axis(ordered, np.maximum((n - 1) // 2, 0), axis=-1)
    high = np.take_along_axis(ordered, n // 2, axis=-1)  # n // 2 <= the last index (0 when n is 0)
    med: np.ndarray = np.where(n > 0, (low + high) / 2.0, np.nan)
    return med if keepdims else med[..., 0]


def _nanmedian_rows(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Median over the last axis of ``values`` where ``mask`` (NaN when none), shape (rows, 1)."""
    return nanmedian_last(np.where(mask, values, np.nan), keepdims=True)


def robust_scale(residuals: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``1.4826 median|r|`` per row over ``mask`` (0 where the row has none), shape (rows, 1)."""
    med = _nanmedian_rows(np.abs(residuals), mask)
    return np.where(np.isfinite(med), MAD_TO_SIGMA * med, 0.0)


def reported_floor(u: np.ndarray | None, default: np.ndarray | float) -> np.ndarray:
    """Per-row measurement error: the median positive reported uncertainty ``u``, at most ``default``.

    The floor only stops the test from judging differences below the measurement
    error on nearly noise-free data; elsewhere the scatter of the data sets the
    scale.  So a reported uncertainty larger than the requirement (or mis-scaled:
    the reference SWOT file reports ``slope2_u`` = 0.017) cannot switch the test
    off: the smaller of the two is used.

    Parameters
    ----------
    u : ndarray (..., nt) or None
        Reported 1-sigma uncertainty of the values (``wse_u`` m, ``width_u`` m, ``slope_u`` m/m).
    default : float or ndarray (...)
        The SWOT science requirement for that value, used where a row reports none.

    Returns
    -------
    ndarray (...)
    """
    d = np.asarray(default, dtype=np.float64)
    if u is None:
        return d
    uu = np.asarray(u, dtype=np.float64)
    good = np.isfinite(uu) & (uu > 0)
    med = nanmedian_last(np.where(good, uu, np.nan))
    out: np.ndarray = np.where(np.isfinite(med), np.minimum(med, d), d)
    return out


# --- monotone (isotonic) regression --------------------------------------------------------------


def _maxmin_sorted(ys: np.ndarray, ws: np.ndarray, xs: np.ndarray | None = None) -> np.ndarray:
    """Weighted nondecreasing fit of rows sorted by x: ``max_{s<=i} min_{t>=i} mean_w(s..t)``.

    With ``xs`` (the sorted x), tied x share one fitted value (the "secondary"
    treatment of ties: de Leeuw, Hornik & Mair 2009, J. Stat. Softw. 32(5),
    doi:10.18637/jss.v032.i05): intervals start and end only at tie-group bounds.
    Returns the fit at every position (positions of zero weight get a value
    between their neighbours' fits; NaN where no weighted point lies in reach).
    """
    rows, n = ys.shape
    out = np.full((rows, n), np.nan)
    if n == 0:
        return out
    upper = np.triu(np.ones((n, n), dtype=bool))  # [s, t]: s <= t
    step = max(1, CHUNK_CELLS // (n * n))
    for a in range(0, rows, step):
        y, w = ys[a:a + step], ws[a:a + step]
        bounds = upper[np.newaxis]
        if xs is not None:
            same = xs[a:a + step, 1:] == xs[a:a + step, :-1]
            first = np.concatenate([np.ones((y.shape[0], 1), dtype=bool), ~same], axis=1)
            last = np.concatenate([~same, np.ones((y.shape[0], 1), dtype=bool)], axis=1)
            bounds = upper & first[:, :, np.newaxis] & last[:, np.newaxis, :]
        cw = np.concatenate([np.zeros((y.shape[0], 1)), np.cumsum(w, axis=1)], axis=1)
        cwy = np.concatenate([np.zeros((y.shape[0], 1)), np.cumsum(w * y, axis=1)], axis=1)
        den = cw[:, np.newaxis, 1:] - cw[:, :-1, np.newaxis]  # [r, s, t]
        num = cwy[:, np.newaxis, 1:] - cwy[:, :-1, np.newaxis]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(bounds & (den > 0), num / den, np.nan)
        # min over t >= i for each start s, then max over s <= i
        suffix_min = np.fmin.accumulate(mean[:, :, ::-1], axis=2)[:, :, ::-1]
        out[a:a + step] = np.fmax.reduce(np.where(upper, suffix_min, np.nan), axis=1)
    return out


def _sorted(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stable order of each row by x (non-finite last) and its inverse."""
    key = np.where(np.isfinite(x), x, np.inf)
    order = np.argsort(key, axis=-1, kind="stable")
    inverse = np.empty_like(order)
    np.put_along_axis(inverse, order, np.broadcast_to(np.arange(x.shape[-1]), x.shape), axis=-1)
    return order, inverse


def isotonic_fit(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Weighted nondecreasing least-squares fit of ``y`` on ``x`` along the last axis.

    Parameters
    ----------
    x, y : ndarray (..., n)
        Explanatory and fitted values (any units); NaN = missing.
    w : ndarray (..., n), optional
        Non-negative weights (default 1 where both are finite).

    Returns
    -------
    ndarray (..., n)
        The fitted value at every point of positive weight, NaN elsewhere.
    """
    xr, yr = _as_rows(x), _as_rows(y)
    ok = np.isfinite(xr) & np.isfinite(yr)
    wr = ok.astype(np.float64) if w is None else np.where(ok, _as_rows(w), 0.0)
    order, inverse = _sorted(xr)
    ys = np.take_along_axis(np.where(ok, yr, 0.0), order, axis=-1)
    ws = np.take_along_axis(wr, order, axis=-1)
    xs = np.take_along_axis(np.where(np.isfinite(xr), xr, np.inf), order, axis=-1)
    fit = np.take_along_axis(_maxmin_sorted(ys, ws, xs), inverse, axis=-1)
    return np.where(wr > 0, fit, np.nan).reshape(np.shape(y))


def _band(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows (rows, n): the band ``[low, high]`` the weighted monotone fit allows at each point,
    and the number of distinct fitted levels of each row (rows, 1).

    ``low`` / ``high`` are the fits of the nearest weighted points at or below / at or above
    the point in x (-inf / +inf beyond the weighted range).
    """
    order, inverse = _sorted(x)
    center = _nanmedian_rows(y, w > 0)
    center = np.where(np.isfinite(center), center, 0.0)
    ys = np.take_along_axis(np.where(w > 0, y - center, 0.0), order, axis=-1)
    ws = np.take_along_axis(w, order, axis=-1)
    xs = np.take_along_axis(np.where(np.isfinite(x), x, np.inf), order, axis=-1)
    fit = _maxmin_sorted(ys, ws, xs)
    has = ws > 0
    low = np.maximum.accumulate(np.where(has, fit, -np.inf), axis=1)
    high = np.minimum.accumulate(np.where(has, fit, np.inf)[:, ::-1], axis=1)[:, ::-1]
    # distinct fitted levels among weighted points (the isotonic fit's degrees of freedom)
    level = np.where(has, fit, np.nan)
    prev = np.fmax.accumulate(level, axis=1)
    prev = np.concatenate([np.full((prev.shape[0], 1), np.nan), prev[:, :-1]], axis=1)
    same = np.isfinite(prev) & (np.abs(level - prev) <= 1e-9 * (1.0 + np.abs(level)))
    levels = (has & ~same).sum(axis=1, keepdims=True)
    low = np.take_along_axis(low, inverse, axis=-1) + center
    high = np.take_along_axis(high, inverse, axis=-1) + center
    return low, high, levels


def difference_scale(x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Robust scatter of ``y`` about a smooth relation with ``x``, per row, shape (rows, 1).

    ``1.4826 median|y_(i+1) - y_i| / sqrt(2)`` over the ``mask`` points sorted by
    ``x`` (Rice 1984); 0 where a row has fewer than two points.
    """
    xr, yr, m = _as_rows(x), _as_rows(y), _as_rows(mask).astype(bool)
    order, _ = _sorted(np.where(m, xr, np.nan))
    ys = np.take_along_axis(np.where(m, yr, np.nan), order, axis=-1)
    diff = np.abs(np.diff(ys, axis=-1))
    scale: np.ndarray = robust_scale(diff, np.isfinite(diff)) / np.sqrt(2.0)
    return scale


def monotone_residuals(
    x: np.ndarray, y: np.ndarray, fit_mask: np.ndarray, floor: np.ndarray | float, k: float = 3.5,
    max_share: float = MAX_DELETED_SHARE,
) -> tuple[np.ndarray, np.ndarray]:
    """Residuals of ``y`` from a robust nondecreasing fit on ``x``, and their robust scale.

    The fit is made robust by sequential deletion: while the worst fitted point of a row
    stands more than ``k`` scales off, it leaves the fit (weight 0) and the row is refitted
    (as in the generalized ESD procedure, Rosner 1983), at most ``max_share`` of the points.
    Every point, deleted or not, is then judged against the final fit.

    Parameters
    ----------
    x, y : ndarray (..., n)
        NaN = missing.
    fit_mask : ndarray of bool (..., n)
        Points allowed to shape the fit (the others are only judged).
    floor : float or ndarray (...)
        Smallest scale (measurement error, units of ``y``).
    k : float
        Deletion cut-off on ``|residual| / scale``.
    max_share : float
        Largest share of a row's fit points that may be deleted.

    Returns
    -------
    residual : ndarray (..., n)
        Distance of ``y`` from the band the fit allows (0 inside; NaN where x or y is missing).
    scale : ndarray (...)
        ``max(difference_scale, 1.4826 median|r| sqrt(n / (n - d)), floor)`` over the fit points.
    """
    shape = np.shape(y)
    xr, yr = _as_rows(x), _as_rows(y)
    ok = np.isfinite(xr) & np.isfinite(yr)
    fitm = ok & _as_rows(fit_mask).astype(bool)
    scale = np.maximum(difference_scale(xr, yr, fitm), _row_floor(floor, shape))
    w = fitm.astype(np.float64)
    budget = np.floor(max_share * fitm.sum(axis=1)).astype(np.int64)
    active = np.flatnonzero(budget > 0)
    while active.size:
        low, high, _ = _band(xr[active], yr[active], w[active])
        r = np.where(ok[active], yr[active] - np.clip(yr[active], low, high), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            z = np.where(w[active] > 0, np.abs(r) / scale[active], -1.0)
        z = np.nan_to_num(z, nan=-1.0)
        worst = np.argmax(z, axis=1)
        go = z[np.arange(active.size), worst] > k
        rows = active[go]
        w[rows, worst[go]] = 0.0
        budget[rows] -= 1
        active = rows[budget[rows] > 0]
    low, high, levels = _band(xr, yr, w)
    r = np.where(ok, yr - np.clip(yr, low, high), np.nan)
    # the fit's own residual scale, with its degrees of freedom (a lower bound where x explains little)
    kept = w > 0
    n_fit = kept.sum(axis=1, keepdims=True)
    spare = n_fit - levels
    inflate = np.where(spare > 0, np.sqrt(n_fit / np.maximum(spare, 1)), 0.0)
    scale = np.maximum(scale, robust_scale(r, kept) * inflate)
    return r.reshape(shape), scale.reshape(shape[:-1] if len(shape) > 1 else ())


# --- the tests ------------------------------------------------------------------------------------


def robust_z_outliers(
    values: np.ndarray, floor: np.ndarray | float, k: float = 3.5, min_samples: int = 5,
    mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Robust z-score of each value against its own row: ``(v - median) / max(1.4826 MAD, floor)``.

    Only the fallback for a value whose hydraulic partner is missing.

    Parameters
    ----------
    values : ndarray (..., n)
    floor : float or ndarray (...)
        Smallest scale (units of ``values``).
    k : float
        Cut-off.
    min_samples : int
        Rows with fewer finite values are not tested.
    mask : ndarray of bool (..., n), optional
        Values to judge (default all finite); the median and MAD use every finite value.

    Returns
    -------
    outliers : ndarray of bool (..., n)
    z : ndarray (..., n), NaN where not judged
    """
    shape = np.shape(values)
    if np.size(values) == 0:
        return np.zeros(shape, dtype=bool), np.full(shape, np.nan)
    v = _as_rows(values)
    ok = np.isfinite(v)
    med = _nanmedian_rows(v, ok)
    scale = np.maximum(robust_scale(v - med, ok), _row_floor(floor, shape))
    enough = ok.sum(axis=1, keepdims=True) >= max(int(min_samples), 1)
    judged = ok & enough & (np.ones_like(ok) if mask is None else _as_rows(mask).astype(bool))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(judged & (scale > 0), (v - med) / scale, np.nan)
    return (np.abs(np.nan_to_num(z)) > k).reshape(shape), z.reshape(shape)


def relation_outliers(
    wse: np.ndarray, width: np.ndarray, wse_floor: np.ndarray | float, width_floor: np.ndarray | float,
    k: float = 3.5, min_samples: int = 5, suspect: np.ndarray | None = None,
) -> RelationTest:
    """Judge WSE and width against the robust monotone WSE-width relation of their row.

    Parameters
    ----------
    wse, width : ndarray (..., nt)
        Water-surface elevation (m) and width (m) over time; NaN = missing (or already removed).
    wse_floor, width_floor : float or ndarray (...)
        Measurement error of WSE and width (m): the smallest scale of the residuals.
    k : float
        Cut-off on the standardised residual (3.5: Iglewicz & Hoaglin 1993).
    min_samples : int
        Rows with fewer (non-suspect) WSE-width pairs are not tested.
    suspect : ndarray of bool (..., nt), optional
        Values that do not shape the relation but are judged against it
        (e.g. widths partly filled in from the prior under dark water).

    Returns
    -------
    RelationTest
        WSE outliers by their residual given width (fit of WSE on width), width
        outliers by their residual given WSE (fit of width on WSE).  A value whose
        partner is missing is judged by :func:`robust_z_outliers`.
    """
    h = np.asarray(wse, dtype=np.float64)
    w = np.asarray(width, dtype=np.float64)
    shape = h.shape
    if h.size == 0:
        empty = np.zeros(shape, dtype=bool)
        return RelationTest(empty, empty.copy(), np.full(shape, np.nan), np.full(shape, np.nan), empty.copy())
    pair = np.isfinite(h) & np.isfinite(w)
    sus = np.zeros(shape, dtype=bool) if suspect is None else np.broadcast_to(suspect, shape).astype(bool)
    fit = pair & ~sus
    enough = fit.reshape(-1, shape[-1]).sum(axis=1).reshape((*shape[:-1], 1)) >= max(int(min_samples), 2)
    tested = pair & enough
    r_h, s_h = monotone_residuals(w, h, fit, wse_floor, k)
    r_w, s_w = monotone_residuals(h, w, fit, width_floor, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        z_h = np.where(tested, r_h / np.expand_dims(s_h, -1), np.nan)
        z_w = np.where(tested, r_w / np.expand_dims(s_w, -1), np.nan)
    out_h = tested & (np.abs(np.nan_to_num(z_h)) > k)
    out_w = tested & (np.abs(np.nan_to_num(z_w)) > k)
    # a value without its partner: judged against its own series
    lone_h = np.isfinite(h) & ~np.isfinite(w)
    lone_w = np.isfinite(w) & ~np.isfinite(h)
    if lone_h.any():
        o, z = robust_z_outliers(h, wse_floor, k, min_samples, mask=lone_h)
        out_h |= o
        z_h = np.where(lone_h, z, z_h)
    if lone_w.any():
        o, z = robust_z_outliers(w, width_floor, k, min_samples, mask=lone_w)
        out_w |= o
        z_w = np.where(lone_w, z, z_w)
    return RelationTest(wse=out_h, width=out_w, z_wse=z_h, z_width=z_w, tested=tested)


def _neighbour_residuals(v: np.ndarray, kk: np.ndarray, judge: np.ndarray, use: np.ndarray,
                         m: int) -> np.ndarray:
    """Rows: ``v`` minus the median ``v`` of its ``m`` nearest ``use`` points in ``kk`` (itself out)."""
    rows, n = v.shape
    resid = np.full((rows, n), np.nan)
    step = max(1, CHUNK_CELLS // (n * n))
    eye = np.eye(n, dtype=bool)
    for a in range(0, rows, step):
        vv, kv, o, u = v[a:a + step], kk[a:a + step], judge[a:a + step], use[a:a + step]
        dist = np.abs(kv[:, :, np.newaxis] - kv[:, np.newaxis, :])
        dist = np.where(u[:, np.newaxis, :] & ~eye, dist, np.inf)
        idx = np.argsort(dist, axis=2, kind="stable")[:, :, :m]
        near = np.take_along_axis(dist, idx, axis=2)
        vals = np.take_along_axis(np.broadcast_to(vv[:, np.newaxis, :], dist.shape), idx, axis=2)
        vals = np.where(np.isfinite(near), vals, np.nan)
        med = nanmedian_last(vals)  # NaN where no neighbour at all
        resid[a:a + step] = np.where(o, vv - med, np.nan)
    return resid


def neighbour_outliers(
    values: np.ndarray, key: np.ndarray, floor: np.ndarray | float, k: float = 3.5, min_samples: int = 5,
    neighbours: int = 7,
) -> tuple[np.ndarray, np.ndarray]:
    """Judge each value against the median of its ``neighbours`` nearest passes in ``key``.

    Used for slope (m/m) with WSE (m) as the key: a pass is compared with the
    passes of most similar stage, itself left out (a running median in stage).

    Parameters
    ----------
    values, key : ndarray (..., nt)
        NaN = missing; a value without a key is not judged.
    floor : float or ndarray (...)
        Measurement error of ``values``.
    k : float
        Cut-off on the standardised residual.
    min_samples : int
        Rows with fewer values (with a key) are not tested.
    neighbours : int
        Number of nearest passes (fewer when the row has fewer).

    Returns
    -------
    outliers : ndarray of bool (..., nt)
    z : ndarray (..., nt), NaN where not judged
    """
    shape = np.shape(values)
    if np.size(values) == 0 or shape[-1] < 2:
        return np.zeros(shape, dtype=bool), np.full(shape, np.nan)
    v, kk = _as_rows(values), _as_rows(key)
    ok = np.isfinite(v) & np.isfinite(kk)
    rows, n = v.shape
    m = int(min(max(int(neighbours), 1), n - 1))
    resid = _neighbour_residuals(v, kk, ok, ok, m)
    m_eff = np.clip(ok.sum(axis=1) - 1, 1, m).reshape(rows, 1)
    fl = _row_floor(floor, shape) * np.sqrt(1 + np.pi / (2 * m_eff))
    scale = np.maximum(robust_scale(resid, ok & np.isfinite(resid)), fl)
    enough = (ok.sum(axis=1) >= max(int(min_samples), 2)).reshape(rows, 1)
    judged = ok & enough & np.isfinite(resid)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(judged & (scale > 0), resid / scale, np.nan)
    return (np.abs(np.nan_to_num(z)) > k).reshape(shape), z.reshape(shape)


def tukey_outliers(values: np.ndarray, k: float = 1.5, min_samples: int = 5) -> np.ndarray:
    """Tukey's fences along the last axis (time): ``True`` for outliers (comparison only).

    A value is an outlier when it lies below ``Q1 - k IQR`` or above
    ``Q3 + k IQR``, with ``Q1``, ``Q3`` the 25th and 75th percentiles (linear
    interpolation) of the finite values of its row (Tukey 1977).  This is the
    public workflow's filter; it judges a value by the spread of its series
    alone, so it removes the highest and lowest true flows.  The step uses
    :func:`relation_outliers` instead; this function stays for the comparison
    in ``bench/prediag_coverage.py``.

    Parameters
    ----------
    values : ndarray, shape (..., nt)
        One variable over time (width m, wse m, slope m/m ...), NaN = missing.
    k : float
        Fence width in IQRs (1.5 in the public workflow).
    min_samples : int
        Fewest finite values a row needs to be tested.

    Returns
    -------
    ndarray of bool, same shape as ``values``
    """
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    if v.size == 0 or v.ndim == 0:
        return np.zeros(v.shape, dtype=bool)
    enough = finite.sum(axis=-1, keepdims=True) >= max(int(min_samples), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: quartiles are NaN
        q1, q3 = np.nanpercentile(v, [25.0, 75.0], axis=-1, keepdims=True)
    iqr = q3 - q1
    with np.errstate(invalid="ignore"):
        outside = (v < q1 - k * iqr) | (v > q3 + k * iqr)
    outliers: np.ndarray = finite & enough & outside
    return outliers
