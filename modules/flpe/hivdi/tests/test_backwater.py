"""The steady backwater solver (H1-H4) against analytic and independently integrated profiles."""

from __future__ import annotations

import numpy as np
import pytest
from confluence_flpe_hivdi import backwater
from confluence_flpe_hivdi.backwater import Channel, Controls, G
from scipy.integrate import solve_ivp

WIDTH, SLOPE, ALPHA, BETA, D0 = 60.0, 4e-4, 22.0, 0.25, 0.3


def prismatic(dx: float, length: float = 6000.0) -> tuple[Channel, np.ndarray]:
    """A wide rectangular channel (H1 with no banks) on a constant bed slope; returns it and its bed."""
    x = np.arange(0.0, length + dx / 2, dx)
    bed = 50.0 - SLOPE * x
    return Channel.rectangular(x, bed + D0, WIDTH), bed


def controls(q: np.ndarray, z_out: np.ndarray) -> Controls:
    """K = ALPHA h^BETA (h_ref = 1, so K_ref = ALPHA) and the bed D0 below z_lo everywhere (tilt 0)."""
    return Controls(np.log(q), z_out[None, :], np.array([np.log(ALPHA)]), np.array([BETA]),
                    np.array([np.log(D0)]), np.zeros(1))


def normal_depth(q: np.ndarray) -> np.ndarray:
    """``Q = ALPHA h^BETA W h^(5/3) S0^(1/2)`` solved for h (m)."""
    return np.asarray((q / (ALPHA * WIDTH * np.sqrt(SLOPE))) ** (1.0 / (5.0 / 3.0 + BETA)))


def critical_depth(q: np.ndarray) -> np.ndarray:
    return np.asarray((q**2 / (G * WIDTH**2)) ** (1.0 / 3.0))


def ode_depth(q: float, h_out: float, x: np.ndarray) -> np.ndarray:
    """``dh/dx = (S0 - Sf) / (1 - Fr^2)`` integrated upstream from ``h_out`` at ``x[-1]`` (DOP853, 1e-12)."""

    def rhs(_: float, h: np.ndarray) -> np.ndarray:
        sf = q**2 / (ALPHA * h**BETA * WIDTH * h ** (5.0 / 3.0)) ** 2
        fr2 = q**2 / (G * WIDTH**2 * h**3)
        return np.asarray((SLOPE - sf) / (1.0 - fr2))

    sol = solve_ivp(rhs, (x[-1], x[0]), [h_out], method="DOP853", rtol=1e-12, atol=1e-12, t_eval=x[::-1])
    assert sol.success
    return np.asarray(sol.y[0][::-1])


def test_uniform_flow_gives_normal_depth_everywhere() -> None:
    """At normal depth downstream the profile is normal depth at every node (to 1e-9 m)."""
    ch, bed = prismatic(200.0)
    q = np.array([20.0, 150.0, 900.0])
    h_n = normal_depth(q)
    prof = backwater.solve(ch, controls(q, bed[-1] + h_n))
    np.testing.assert_allclose(prof.z - bed[:, None], np.broadcast_to(h_n, prof.z.shape), atol=1e-9)
    np.testing.assert_allclose(prof.area, WIDTH * (prof.z - bed[:, None]), rtol=1e-12)
    assert not prof.choked.any()


@pytest.mark.parametrize(("kind", "ratio"), [("M1", 1.8), ("M2", 0.6)])
def test_gradually_varied_flow_matches_the_ode(kind: str, ratio: float) -> None:
    """M1 (backwater) and M2 (drawdown) curves within 2 mm of the ODE at 100 m steps, second order in dx.

    Q = 150 m3/s: normal depth 2.48 m, critical 0.86 m (Froude 0.20 at normal depth, 0.44 at the
    M2 control); 6 km of profile, 1.7 m (M1) and 1.0 m (M2) of depth change.  Measured at 100 m:
    0.05 mm (M1), 1.5 mm (M2); the error falls 3.6-4 times per halving of dx.
    """
    q = np.array([150.0])
    h_n, h_c = normal_depth(q)[0], critical_depth(q)[0]
    h_out = ratio * h_n
    assert h_out > 1.2 * h_c
    errors = []
    for dx in (200.0, 100.0, 50.0):
        ch, bed = prismatic(dx)
        prof = backwater.solve(ch, controls(q, np.array([bed[-1] + h_out])))
        depth = prof.z[:, 0] - bed
        exact = ode_depth(float(q[0]), h_out, ch.x)
        errors.append(float(np.max(np.abs(depth - exact))))
        change = abs(exact[0] - exact[-1])
        assert change > 0.3 * h_n  # a real backwater curve, not a uniform flow
        assert np.all(np.diff(depth) > 0) if kind == "M1" else np.all(np.diff(depth) < 0)
    assert errors[1] < 2e-3
    assert errors[0] / errors[1] > 3.0 and errors[1] / errors[2] > 3.0  # second order (4 in theory)


def test_no_subcritical_profile_is_held_at_critical_depth() -> None:
    """A downstream stage below critical depth is raised to it, flagged ``choked``."""
    ch, bed = prismatic(200.0)
    q = np.array([150.0])
    prof = backwater.solve(ch, controls(q, np.array([bed[-1] + 0.2])))
    assert prof.choked[-1, 0]
    depth = prof.z[:, 0] - bed
    assert depth[-1] == pytest.approx(critical_depth(q)[0], rel=1e-12)
    assert np.all(depth >= critical_depth(q)[0] - 1e-9)


def test_section_area_is_the_integral_of_width() -> None:
    """H1: ``A(Z) = integral of W`` from the bed, through the three levels and above them."""
    x = np.array([0.0, 500.0])
    ch = Channel(x=x, z_lo=np.array([10.0, 9.9]), z1=np.array([10.5, 10.3]), z2=np.array([11.0, 11.2]),
                 w1=np.array([40.0, 55.0]), rate12=np.array([8.0, 3.0]), rate23=np.array([20.0, 0.0]),
                 reach=np.zeros(2, dtype=int), s=np.array([0.0, 1.0]), share=np.ones(1), h_ref=np.ones(1),
                 segment=np.zeros(2, dtype=int))
    bed = np.array([[8.0], [8.5]])
    z = np.linspace(8.6, 12.5, 80)[None, :].repeat(2, axis=0)
    area, width, dwidth = ch.section(slice(None), z, bed)
    for j in range(2):
        fine = np.linspace(bed[j, 0], z[j], 4001)  # [4001, 80]
        _, w_fine, _ = ch.section(j, fine, bed[j, 0])
        integral = np.trapezoid(w_fine, fine, axis=0)
        np.testing.assert_allclose(area[j], integral, rtol=1e-7)
    eps = 1e-6
    _, w_up, _ = ch.section(slice(None), z + eps, bed)
    _, w_dn, _ = ch.section(slice(None), z - eps, bed)
    smooth = (np.abs(z - ch.z1[:, None]) > 2 * eps) & (np.abs(z - ch.z2[:, None]) > 2 * eps)
    np.testing.assert_allclose(dwidth[smooth], ((w_up - w_dn) / (2 * eps))[smooth], atol=1e-6)
    np.testing.assert_allclose(width[:, -1], ch.w1 + ch.rate12 * (ch.z2 - ch.z1) + ch.rate23 * (12.5 - ch.z2))


def test_low_flow_depth_is_linear_along_the_reach() -> None:
    """H2: ``d = D e^tilt`` upstream, ``D e^-tilt`` downstream, linear between."""
    x = np.linspace(0.0, 1000.0, 11)
    ch = Channel.rectangular(x, np.zeros(11), 50.0)
    d, dd = backwater.low_flow_depth(ch, np.array([np.log(2.0)]), np.array([0.3]))
    assert d[0] == pytest.approx(2.0 * np.exp(0.3)) and d[-1] == pytest.approx(2.0 * np.exp(-0.3))
    np.testing.assert_allclose(np.diff(d, 2), 0.0, atol=1e-12)
    eps = 1e-6
    d2, _ = backwater.low_flow_depth(ch, np.array([np.log(2.0)]), np.array([0.3 + eps]))
    np.testing.assert_allclose((d2 - d) / eps, dd, rtol=1e-5)
