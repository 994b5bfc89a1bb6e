"""Known answers of the gradually varied flow solver (S1-S5)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from confluence_flpe_sad import gvf
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

Q, N, W, S0 = 400.0, 0.03, 120.0, 2e-4


def _rect_section(nx: int, length: float) -> gvf.Section:
    xi = np.linspace(0.0, length, nx)
    return gvf.Section(xi, np.full(nx, W), np.full(nx, 1.0) + S0 * xi)  # reference point: any wet stage


@functools.cache
def _gauss(points: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [-1, 1] (cached: computing them dominates the tests' time)."""
    nodes, weights = np.polynomial.legendre.leggauss(points)
    return nodes, weights


def chow_distance(y1: float, y2: float, yn: float, yc: float, s0: float = S0, points: int = 200) -> float:
    """Distance upstream (m) from depth y1 to y2 on a wide rectangular channel, by direct integration.

    Chow (1959) section 10-2: on a prismatic channel (S1) is separable, ``dx = (1 - (yc/y)^3) /
    (S0 (1 - (yn/y)^(10/3))) dy``; upstream is ``-dx``.  Gauss-Legendre quadrature of that
    integrand (smooth between two depths on the same side of yn) is exact to rounding.
    """
    nodes, weights = _gauss(points)
    y = 0.5 * (y2 - y1) * nodes + 0.5 * (y1 + y2)
    f = (1 - (yc / y) ** 3) / (s0 * (1 - (yn / y) ** (10 / 3)))
    return float(-0.5 * (y2 - y1) * np.sum(weights * f))


@pytest.mark.parametrize("ratio", [1.8, 0.6])  # M1 backwater, M2 drawdown
def test_rectangular_profile_matches_the_direct_integration(ratio: float) -> None:
    yn, yc = gvf.normal_depth_rect(Q, N, W, S0), gvf.critical_depth_rect(Q, W)
    assert yc < 0.6 * yn  # mild slope: both profiles subcritical
    sec = _rect_section(41, 20000.0)
    z0 = 0.0
    wse, ok = gvf.profile(sec, Q, N, np.inf, z0, S0, z0 + ratio * yn, max_step=50.0)
    assert ok
    depth = wse - (z0 + S0 * sec.xi)
    for j in range(sec.nx - 1):
        expected = chow_distance(depth[j], depth[j + 1], yn, yc)
        assert expected == pytest.approx(sec.xi[j + 1] - sec.xi[j], rel=1e-6)


@pytest.mark.parametrize("ratio", [2.0, 0.7])
def test_normal_depth_far_upstream(ratio: float) -> None:
    yn = gvf.normal_depth_rect(Q, N, W, S0)
    backwater = yn / (10 / 3 * S0)  # e-folding length of the linearised (S1)
    sec = _rect_section(201, 30 * backwater)
    wse, ok = gvf.profile(sec, Q, N, np.inf, 0.0, S0, ratio * yn)
    assert ok
    depth = wse - S0 * sec.xi
    assert depth[-1] == pytest.approx(yn, rel=1e-6)
    assert np.all(np.diff(depth) * (ratio - 1) <= 0)  # monotone towards yn


def test_rk4_step_converges_to_the_fine_solution() -> None:
    sec = _rect_section(31, 6000.0)
    h_bc = 1.5 * gvf.normal_depth_rect(Q, N, W, S0)
    fine, _ = gvf.profile(sec, Q, N, np.inf, 0.0, S0, h_bc, max_step=1.0)
    coarse, _ = gvf.profile(sec, Q, N, np.inf, 0.0, S0, h_bc)
    assert np.max(np.abs(coarse - fine)) < 1e-6  # metres: far below any WSE error


def test_still_water_is_level_on_a_dingman_section() -> None:
    xi = np.linspace(0.0, 5000.0, 26)
    sec = gvf.Section(xi, np.full(26, 200.0), 10.0 + S0 * xi)
    wse, ok = gvf.profile(sec, 1e-6, N, 2.0, 5.0, S0, 12.0)
    assert ok
    np.testing.assert_allclose(wse, 12.0, atol=1e-9)


def test_uniform_flow_on_a_dingman_section_is_parallel_to_the_bed() -> None:
    r, wb, ymb = 2.0, 150.0, 6.0
    k = float(gvf.shape_factor(r))
    ym = ymb
    for _ in range(200):  # normal depth: n Q = W Y^(5/3) S0^(1/2), Y = Ym / k
        ym = k * (N * Q / (gvf.width(ym, wb, ymb, r) * np.sqrt(S0))) ** 0.6
    xi = np.linspace(0.0, 6000.0, 31)
    sec = gvf.Section(xi, np.full(31, wb), ymb + S0 * xi)
    wse, ok = gvf.profile(sec, Q, N, r, 0.0, S0, float(ym))
    assert ok
    np.testing.assert_allclose(wse, ym + S0 * xi, atol=1e-9)
    assert float(gvf.area(ym / k, wb, ymb, r)) == pytest.approx(float(gvf.width(ym, wb, ymb, r)) * ym / k)


def test_dry_or_supercritical_members_are_flagged() -> None:
    sec = _rect_section(11, 2000.0)
    yn, yc = gvf.normal_depth_rect(Q, N, W, S0), gvf.critical_depth_rect(Q, W)
    wse, ok = gvf.profile(sec, Q, N, np.inf, np.array([0.0, 5.0, 0.0]), S0, np.array([yn, yn, 0.9 * yc]))
    # a bed above the boundary stage is dry; a boundary below the critical depth is supercritical
    assert ok.tolist() == [True, False, False]
    assert np.isnan(wse[:, 1:]).all()


WB, YMB = 150.0, 6.0  # reference point of the Dingman sections below: 150 m wide at a 6 m thalweg depth
GAUSS_T, GAUSS_W = _gauss(64)


def _top_width(ym: np.ndarray | float, r: float) -> np.ndarray:
    """Dingman's top width ``W* (Ym / Ym*)^(1/r)`` (m) at thalweg depth ``ym``."""
    return np.asarray(WB * (np.asarray(ym) / YMB) ** (1.0 / r))


def _area_by_quadrature(ym: float, r: float) -> float:
    """Flow area (m2) as the integral of the top width from the thalweg up to ``ym``.

    Independent of (S4): Gauss-Legendre quadrature of ``W(eta) d eta`` with ``eta = ym t^r``
    (which removes the singular slope of ``W`` at the thalweg).
    """
    t = 0.5 * (GAUSS_T + 1.0)
    return float(0.5 * np.sum(GAUSS_W * _top_width(ym * t**r, r) * ym * r * t ** (r - 1.0)))


def _reference_slope(_: float, y: np.ndarray, r: float) -> list[float]:
    """``dYm/dxi`` (upstream) from the section's own area and top width: Chow (1959) section 9-1,
    ``Fr^2 = Q^2 T / (g A^3)``, ``Sf = n^2 Q^2 / (A^2 D^(4/3))`` with the hydraulic depth ``D = A / T``
    (the wide-channel radius of S3)."""
    a, t = _area_by_quadrature(float(y[0]), r), float(_top_width(float(y[0]), r))
    sf = N**2 * Q**2 / (a**2 * (a / t) ** (4 / 3))
    fr2 = Q**2 * t / (gvf.G * a**3)
    return [(sf - S0) / (1.0 - fr2)]


def _reference_normal_depth(r: float) -> float:
    """Thalweg depth (m) where ``Sf = S0`` on the quadrature section (Brent's root of Manning's law)."""
    def excess(ym: float) -> float:
        a = _area_by_quadrature(ym, r)
        return float(a * (a / _top_width(ym, r)) ** (2 / 3) - N * Q / np.sqrt(S0))

    return float(brentq(excess, 0.1, 50.0, xtol=1e-13))


@pytest.mark.parametrize("r", [1.0, 2.5])  # triangular, and the twin's shape
def test_dingman_normal_depth_is_uniform_flow(r: float) -> None:
    """A prismatic Dingman channel started at the normal depth stays there: the surface parallels the bed.

    The normal depth is found independently of (S4) (area by quadrature, Brent's root); stated
    tolerance 1e-6 m (measured below 1e-9 m)."""
    yn = _reference_normal_depth(r)
    xi = np.linspace(0.0, 10000.0, 21)
    sec = gvf.Section(xi, np.full(xi.size, WB), YMB + S0 * xi)
    wse, ok = gvf.profile(sec, Q, N, r, 0.0, S0, yn)
    assert ok
    np.testing.assert_allclose(wse - S0 * xi, yn, atol=1e-6)


@pytest.mark.parametrize("r", [1.0, 2.5])
@pytest.mark.parametrize("ratio", [1.6, 0.8])  # M1 backwater, M2 drawdown
def test_dingman_profile_matches_an_independent_fine_integration(r: float, ratio: float) -> None:
    """(S1)-(S5) on a prismatic Dingman channel against an independent solution of
    ``dYm/dx = (S0 - Sf) / (1 - Fr^2)``: the section's area by quadrature of its width (not S4), the
    Froude number from ``Q^2 T / (g A^3)`` (not S2), integrated by scipy's adaptive DOP853 at
    rtol 1e-11 over 20 km.  Stated tolerance 1e-5 m at every node (measured at most 2e-8 m with
    the default 100 m RK4 step)."""
    yn = _reference_normal_depth(r)
    xi = np.linspace(0.0, 20000.0, 41)
    fine = solve_ivp(_reference_slope, (0.0, xi[-1]), [ratio * yn], args=(r,), t_eval=xi, method="DOP853",
                     rtol=1e-11, atol=1e-11)
    assert fine.success
    sec = gvf.Section(xi, np.full(xi.size, WB), YMB + S0 * xi)
    wse, ok = gvf.profile(sec, Q, N, r, 0.0, S0, ratio * yn)
    assert ok
    np.testing.assert_allclose(wse - S0 * xi, fine.y[0], rtol=0, atol=1e-5)
    assert np.all(np.diff(wse - S0 * xi) * (ratio - 1) < 0)  # M1 falls, M2 rises towards yn upstream


def test_log_form_of_the_rate_equals_slope_of_depth() -> None:
    """The profile's rate in logarithms (gvf._Rate) is (S1)-(S5) as :func:`gvf.slope_of_depth` writes them."""
    rng = np.random.default_rng(5)
    k = 400
    q, n = rng.uniform(1.0, 5000.0, k), rng.uniform(0.01, 0.07, k)
    r = np.r_[np.exp(rng.normal(0.95, 1.02, k - 1)), np.inf]  # a rectangular member too
    s0, ym_ref = rng.uniform(1e-5, 1e-3, k), rng.uniform(0.5, 15.0, k)
    w_ref = 150.0
    ym = ym_ref * rng.uniform(0.3, 3.0, k)
    rate = gvf._Rate(q, n, r, s0)
    f, fr2 = rate(ym, rate.geometry((w_ref, 2 * w_ref), (ym_ref, 2 * ym_ref), 0.0))
    f_ref, fr2_ref = gvf.slope_of_depth(ym, q, n, r, s0, w_ref, ym_ref)
    np.testing.assert_allclose(fr2, fr2_ref, rtol=1e-12)
    np.testing.assert_allclose(f, f_ref, rtol=1e-9, atol=1e-12 * np.abs(f_ref).max())
    assert fr2_ref.max() > gvf.MAX_FROUDE2  # the clipped denominator is exercised
