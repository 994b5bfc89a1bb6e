"""The hydraulic outlier tests of outliers.py, on small arrays."""

from __future__ import annotations

import numpy as np
import pytest
from confluence_prediagnostics import outliers

NAN = np.nan


def _pava(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Reference weighted isotonic regression (pool adjacent violators), y sorted by x."""
    blocks: list[list[float]] = []
    for yi, wi in zip(y, w, strict=True):
        blocks.append([yi * wi, wi, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            s, ww, c = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += ww
            blocks[-1][2] += c
    return np.concatenate([np.full(int(c), s / ww) for s, ww, c in blocks])


def _rating(n: int = 40, seed: int = 0, noise: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A reach over a year: discharge, then WSE (m) and width (m) on one curved monotone relation."""
    rng = np.random.default_rng(seed)
    q = np.exp(rng.normal(6.0, 0.5, n))
    depth = 0.3 * q**0.4
    wse = 100.0 + depth + (rng.normal(0, 0.05, n) if noise else 0.0)
    width = 40.0 * q**0.25 * (1 + (rng.normal(0, 0.03, n) if noise else 0.0))
    return q, wse, width


def test_isotonic_fit_is_the_pava_fit() -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        n = int(rng.integers(2, 30))
        x = rng.permutation(n).astype(float)
        y = rng.normal(size=n) + 0.2 * x
        w = rng.uniform(0.1, 2.0, n)
        order = np.argsort(x)
        assert np.allclose(outliers.isotonic_fit(x, y, w)[order], _pava(y[order], w[order]))


def test_isotonic_fit_ties_share_one_level() -> None:
    x = np.array([1.0, 2.0, 2.0, 3.0])
    y = np.array([1.0, 5.0, 1.0, 2.0])
    fit = outliers.isotonic_fit(x, y)
    assert fit[1] == fit[2]  # tied x: one pooled value (secondary treatment of ties)
    assert np.allclose(fit, [1.0, 8 / 3, 8 / 3, 8 / 3])  # (5 + 1 + 2) / 3: the tie group pools with x = 3


def test_isotonic_fit_rows_and_missing() -> None:
    x = np.array([[1.0, 2.0, 3.0, NAN], [3.0, 2.0, 1.0, 4.0]])
    y = np.array([[3.0, 1.0, 2.0, 9.0], [1.0, 2.0, 3.0, NAN]])
    fit = outliers.isotonic_fit(x, y)
    assert np.allclose(fit[0, :3], 2.0) and np.isnan(fit[0, 3])
    assert np.allclose(fit[1, :3], 2.0) and np.isnan(fit[1, 3])


def test_flood_and_drought_on_the_relation_are_kept() -> None:
    _, wse, width = _rating()
    # an extreme flood and an extreme drought that follow the same relation
    q_ext = np.array([4000.0, 60.0])
    wse = np.r_[wse, 100.0 + 0.3 * q_ext**0.4]
    width = np.r_[width, 40.0 * q_ext**0.25]
    got = outliers.relation_outliers(wse, width, 0.05, 2.0)
    assert not got.wse.any() and not got.width.any()
    assert got.tested.all()
    # the public workflow's Tukey fences drop exactly these
    assert outliers.tukey_outliers(wse)[-2:].tolist() == [True, True]


def test_noise_free_curved_relation_keeps_everything() -> None:
    _, wse, width = _rating(n=60, noise=False)
    got = outliers.relation_outliers(wse, width, 0.10, 0.15 * np.median(width))
    assert not got.wse.any() and not got.width.any()


@pytest.mark.parametrize("where", [3, 17, 30])
def test_planted_wse_and_width_outliers_are_caught(where: int) -> None:
    _, wse, width = _rating()
    bad_h, bad_w = wse.copy(), width.copy()
    bad_h[where] += 2.0  # WSE off the relation (2 m at ordinary width)
    got = outliers.relation_outliers(bad_h, width, 0.05, 2.0)
    assert np.flatnonzero(got.wse).tolist() == [where]
    assert got.z_wse[where] > 3.5
    bad_w[where] *= 2.5  # width off the relation
    got = outliers.relation_outliers(wse, bad_w, 0.05, 2.0)
    assert np.flatnonzero(got.width).tolist() == [where]


def test_a_value_is_judged_on_its_row_only() -> None:
    _, wse, width = _rating()
    h = np.stack([wse, wse + 50.0])
    w = np.stack([width, width * 3])
    h[1, 5] += 3.0
    got = outliers.relation_outliers(h, w, np.array([0.05, 0.05]), np.array([2.0, 6.0]))
    assert not got.wse[0].any()
    assert np.argwhere(got.wse).tolist() == [[1, 5]]


def test_suspect_values_are_judged_not_fitted() -> None:
    _, wse, width = _rating()
    suspect = np.zeros(wse.size, dtype=bool)
    suspect[[4, 9]] = True
    w = width.copy()
    flood = int(np.argmax(wse))
    suspect[flood] = True
    w[9] = np.median(width)  # a prior-like width at whatever stage
    w[4] = np.median(width)
    wse2 = wse.copy()
    wse2[9] = wse.max() + 0.5  # ... at a high stage: off the relation
    wse2[4] = np.median(wse)  # ... at the median stage: on it
    got = outliers.relation_outliers(wse2, w, 0.05, 2.0, suspect=suspect)
    assert got.tested[[4, 9, flood]].all()
    assert got.wse[9] or got.width[9]
    assert not (got.wse[4] or got.width[4])
    assert not (got.wse[flood] or got.width[flood])  # a suspect flood on the relation passes


def test_too_few_pairs_are_not_tested() -> None:
    got = outliers.relation_outliers(np.array([1.0, 2.0, 30.0, NAN]), np.array([10.0, 20.0, 11.0, NAN]),
                                     0.1, 1.0, min_samples=5)
    assert not got.tested.any() and not got.wse.any() and not got.width.any()


def test_lone_values_fall_back_to_their_own_series() -> None:
    wse = np.array([10.0, 10.1, 9.9, 10.0, 10.05, 9.95, 25.0])
    width = np.full(7, NAN)
    got = outliers.relation_outliers(wse, width, 0.1, 1.0)
    assert np.flatnonzero(got.wse).tolist() == [6]
    assert not got.tested.any()


def test_empty_and_all_missing() -> None:
    got = outliers.relation_outliers(np.zeros((3, 0)), np.zeros((3, 0)), 0.1, 1.0)
    assert got.wse.shape == (3, 0)
    got = outliers.relation_outliers(np.full(6, NAN), np.full(6, NAN), 0.1, 1.0)
    assert not got.wse.any() and not got.tested.any()


def test_scale_floor_is_the_measurement_error() -> None:
    wse = np.linspace(10.0, 11.0, 60)
    width = np.linspace(100.0, 120.0, 60)
    wse[30] += 0.3  # 0.3 m: an outlier when the error is 5 cm, not when it is 10 cm
    assert np.flatnonzero(outliers.relation_outliers(wse, width, 0.05, 2.0).wse).tolist() == [30]
    assert not outliers.relation_outliers(wse, width, 0.10, 2.0).wse.any()


def test_reported_floor() -> None:
    u = np.array([[0.1, 0.3, NAN, -999.0], [NAN, NAN, NAN, NAN], [1.0, 2.0, 3.0, 4.0]])
    # the reported error where it is below the requirement; the requirement where none or larger
    assert np.allclose(outliers.reported_floor(u, 0.5), [0.2, 0.5, 0.5])
    assert outliers.reported_floor(None, 0.5) == 0.5


def test_difference_scale_of_a_noisy_line() -> None:
    rng = np.random.default_rng(1)
    x = np.arange(400.0)
    y = 0.05 * x + rng.normal(0, 1.0, x.size)
    s = outliers.difference_scale(x, y, np.ones(x.size, dtype=bool))
    assert 0.85 < float(s[0, 0]) < 1.15


def test_slope_spike_caught_and_slope_trend_with_stage_kept() -> None:
    wse = np.linspace(10.0, 14.0, 30)
    slope = 1e-4 + 2e-5 * (wse - 10.0)  # slope rising with stage: a trend, not outliers
    assert not outliers.neighbour_outliers(slope, wse, 1.7e-5)[0].any()
    spiked = slope.copy()
    spiked[12] = -3e-4
    flagged, z = outliers.neighbour_outliers(spiked, wse, 1.7e-5)
    assert np.flatnonzero(flagged).tolist() == [12]
    assert z[12] < -3.5
    # the same slopes in a spread test: the steepest and flattest go
    assert outliers.robust_z_outliers(np.r_[slope, 5e-4, 5e-4], 1e-6)[0][-2:].all()


def test_neighbour_outliers_small_rows() -> None:
    flagged, z = outliers.neighbour_outliers(np.array([1.0, 2.0, 100.0]), np.array([1.0, 2.0, 3.0]), 0.1)
    assert not flagged.any() and np.isnan(z).all()  # fewer than min_samples
    assert outliers.neighbour_outliers(np.zeros((2, 0)), np.zeros((2, 0)), 0.1)[0].shape == (2, 0)


def test_tukey_flags_the_planted_outlier() -> None:
    values = np.array([10.0, 11.0, 10.5, 9.8, 10.2, 10.1, 50.0, NAN])
    assert np.flatnonzero(outliers.tukey_outliers(values)).tolist() == [6]


def test_tukey_all_nan_empty_and_tiny() -> None:
    assert not outliers.tukey_outliers(np.full(6, NAN)).any()
    assert outliers.tukey_outliers(np.array([])).shape == (0,)
    values = np.array([1.0, 1.0, 1.0, 100.0, NAN, NAN])
    assert not outliers.tukey_outliers(values, min_samples=5).any()
    assert outliers.tukey_outliers(values, min_samples=4).tolist() == [False, False, False, True, False, False]


def test_nanmedian_last_is_numpys_nanmedian() -> None:
    """Same numbers as numpy.nanmedian over the last axis: odd and even counts, NaN, inf, empty rows."""
    import warnings

    from confluence_prediagnostics.outliers import nanmedian_last

    rng = np.random.default_rng(3)
    values = rng.standard_normal((6, 40, 13)) * 10 ** rng.uniform(-3, 3, (6, 40, 1))
    values[rng.random(values.shape) < 0.4] = np.nan
    values[0, 0] = np.nan  # a row without values
    values[1, 1, :3] = [np.inf, -np.inf, np.inf]
    values[2, 2, :] = 1.0 / 3.0  # ties
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmedian(values, axis=-1)
        np.testing.assert_array_equal(nanmedian_last(values), expected)
        np.testing.assert_array_equal(nanmedian_last(values, keepdims=True), expected[..., np.newaxis])
        for n in range(1, 8):  # every count, odd and even, in one row
            row = np.r_[values[3, 3, :n], np.full(5, np.nan)]
            np.testing.assert_array_equal(nanmedian_last(row), np.nanmedian(row))
    assert np.isnan(nanmedian_last(np.zeros((2, 0)))).all() and nanmedian_last(np.zeros((2, 0))).shape == (2,)
