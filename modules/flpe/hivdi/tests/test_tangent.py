"""The tangent linear model (H6) and the cost's Jacobian (H11) against finite differences."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from confluence_flpe_hivdi import backwater, inverse, problem
from confluence_flpe_hivdi.backwater import REACH_CONTROLS, Channel, Controls
from confluence_flpe_hivdi.config import HivdiConfig
from hivdi_testdata import make_twin

EPS = 1e-6


def two_stretch_channel() -> Channel:
    """Two reaches of 6 nodes, three-level sections, lateral inflow, each reach its own stretch."""
    x = np.r_[np.arange(6) * 250.0, 1600.0 + np.arange(6) * 300.0]
    z_lo = 100.0 - 1.5e-4 * x + np.r_[np.zeros(6), -0.2 * np.ones(6)]
    return Channel(x=x, z_lo=z_lo, z1=z_lo + 0.4, z2=z_lo + 1.1, w1=np.r_[np.full(6, 50.0), np.full(6, 62.0)],
                   rate12=np.r_[np.full(6, 10.0), np.full(6, 6.0)], rate23=np.r_[np.full(6, 30.0), np.full(6, 12.0)],
                   reach=np.repeat([0, 1], 6), s=np.tile(np.linspace(0.0, 1.0, 6), 2), share=np.array([1.0, 1.2]),
                   h_ref=np.array([1.5, 2.0]), segment=np.repeat([0, 1], 6))


def base_controls() -> Controls:
    return Controls(log_q=np.log([80.0, 190.0, 320.0]), z_out=np.array([[100.0, 100.5, 101.0], [98.6, 99.2, 99.8]]),
                    log_kref=np.log([28.0, 35.0]), beta=np.array([0.15, -0.2]), log_depth=np.log([1.4, 1.9]),
                    tilt=np.array([0.2, -0.1]))


def perturbed(c: Controls, field: str, index: tuple[int, ...], step: float) -> Controls:
    value = np.array(getattr(c, field), dtype=np.float64)
    value[index] += step
    return replace(c, **{field: value})


def test_tangent_linear_model_matches_finite_differences() -> None:
    """Every derivative of every node's elevation, central differences (1e-6) within 1e-6 relative."""
    ch, c = two_stretch_channel(), base_controls()
    prof = backwater.solve(ch, c, tangent=True)
    assert prof.dz_dlogq is not None and prof.dz_dzout is not None and prof.dz_dreach is not None
    assert not prof.choked.any()
    depth = prof.z - (ch.z_lo[:, None] - backwater.low_flow_depth(ch, c.log_depth, c.tilt)[0][:, None])
    assert depth.min() > 0.8 and (prof.z > ch.z2[:, None]).any() and (prof.z < ch.z2[:, None]).any()

    def fd(field: str, index: tuple[int, ...]) -> np.ndarray:
        up = backwater.solve(ch, perturbed(c, field, index, EPS)).z
        dn = backwater.solve(ch, perturbed(c, field, index, -EPS)).z
        return np.asarray((up - dn) / (2 * EPS))

    def close(tlm: np.ndarray, num: np.ndarray) -> None:
        np.testing.assert_allclose(tlm, num, rtol=1e-6, atol=1e-6 * max(1.0, float(np.abs(num).max())))

    for t in range(3):
        num = fd("log_q", (t,))
        close(prof.dz_dlogq[:, t], num[:, t])
        assert np.all(np.delete(num, t, axis=1) == 0)  # a time's profile depends on its own controls only
        for seg in range(2):
            num = fd("z_out", (seg, t))
            mine = ch.segment == seg
            close(prof.dz_dzout[mine, t], num[mine, t])
            assert np.all(num[~mine] == 0)  # a node depends on its own stretch's boundary only
    assert np.abs(prof.dz_dlogq).max() > 0.1 and np.abs(prof.dz_dzout).min() > 0.1
    R = ch.n_reaches
    for kind, field in enumerate(REACH_CONTROLS):
        for r in range(R):
            num = fd(field, (r,))
            close(prof.dz_dreach[:, :, kind * R + r], num)
            assert np.abs(num).max() > 1e-3  # every control moves some elevation


def test_cost_jacobian_matches_finite_differences() -> None:
    """The sparse Jacobian of the residuals (H7-H10) on a two-reach twin, columns by central differences."""
    tw = make_twin(n_reaches=2, nt=6, nodes=8, length=3000.0, bank=3.0, noise=0.05, seed=3)
    pb = problem.build(tw.reaches, HivdiConfig())
    cost = inverse.Cost(pb)
    x = inverse.pack(pb.background.first_guess())
    x[cost.n - 2:] += 0.1  # a non-zero tilt
    jac = cost.jacobian(x).toarray()
    num = np.empty_like(jac)
    for k in range(cost.n):
        e = np.zeros(cost.n)
        e[k] = EPS
        num[:, k] = (cost.residuals(x + e) - cost.residuals(x - e)) / (2 * EPS)
    scale = np.abs(num).max(axis=0)
    np.testing.assert_allclose(jac, num, rtol=1e-5, atol=1e-6 * max(1.0, float(scale.max())))
    assert np.all(scale > 0)  # every control enters the cost


def test_tangent_solve_from_a_known_profile_is_the_full_solve() -> None:
    """``solve(..., known=forward)`` skips the Newton iterations and gives the full tangent solve, bit for bit."""
    ch, c = two_stretch_channel(), base_controls()
    full = backwater.solve(ch, c, tangent=True)
    forward = backwater.solve(ch, c)
    reused = backwater.solve(ch, c, tangent=True, known=forward)
    for name in ("z", "area", "width", "choked", "dz_dlogq", "dz_dzout", "dz_dreach"):
        np.testing.assert_array_equal(getattr(reused, name), getattr(full, name), err_msg=name)
    other = backwater.solve(ch, perturbed(c, "log_q", (0,), 0.1))  # a profile of other controls is not the solve
    assert not np.array_equal(backwater.solve(ch, c, tangent=True, known=other).z, full.z)


def test_cost_jacobian_has_no_stored_zeros_and_reuses_profiles() -> None:
    """The Jacobian stores no exact zeros (a node does not see another stretch's reaches) and is the one
    computed without the residuals' cached profile."""
    tw = make_twin(n_reaches=2, nt=6, nodes=8, length=3000.0, bank=3.0, noise=0.05, seed=3)
    pb = problem.build(tw.reaches, HivdiConfig())
    x = inverse.pack(pb.background.first_guess())
    cost = inverse.Cost(pb)
    cost.residuals(x)
    assert len(cost.profiles) == 1
    jac = cost.jacobian(x)
    assert np.all(jac.data != 0)
    fresh = inverse.Cost(pb).jacobian(x)  # no cached profile: the tangent solve iterates itself
    np.testing.assert_array_equal(jac.toarray(), fresh.toarray())
    R = pb.channel.n_reaches
    obs = jac[: pb.obs_node.size].tocsr()
    assert obs.nnz < pb.obs_node.size * (2 + 4 * R)  # each reach its own stretch: other reaches' columns dropped
