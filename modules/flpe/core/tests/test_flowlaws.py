"""The flow laws: values worked by hand from the published equations, the mean-flow pair, uncertainties."""

from __future__ import annotations

import numpy as np
import pytest
from confluence_flpe import flowlaws
from confluence_flpe.flowlaws import FlowObs


def obs(nt: int = 4, seed: int = 0) -> FlowObs:
    rng = np.random.default_rng(seed)
    w = rng.uniform(80, 120, nt)
    h = rng.uniform(10, 12, nt)
    return FlowObs(width=w, wse=h, slope=rng.uniform(1e-4, 3e-4, nt), d_x_area=(h - 11.0) * 100.0,
                   width_u=np.full(nt, 5.0), wse_u=np.full(nt, 0.1), slope_u=np.full(nt, 1e-5),
                   d_x_area_u=np.full(nt, 20.0))


def test_manning_by_hand() -> None:
    o = FlowObs(width=np.array([100.0]), wse=np.array([11.0]), slope=np.array([1e-4]), d_x_area=np.array([50.0]))
    # (a0 + dA)^(5/3) W^(-2/3) S^(1/2) / n with a0 = 250, n = 0.03: 300^(5/3) 100^(-2/3) 0.01 / 0.03
    expected = 300 ** (5 / 3) * 100 ** (-2 / 3) * 0.01 / 0.03
    assert flowlaws.get("manning").q({"n": 0.03, "a0": 250.0}, o)[0] == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(208.0, rel=1e-3)


def test_metroman_and_hivdi_by_hand() -> None:
    o = FlowObs(width=np.array([100.0]), wse=np.array([11.0]), slope=np.array([1e-4]), d_x_area=np.array([50.0]))
    # n = na (A/W)^x1 = 0.03 * 3^0.5
    metro = flowlaws.get("metroman").q({"Abar": 250.0, "na": 0.03, "x1": 0.5}, o)[0]
    assert metro == pytest.approx(300 ** (5 / 3) * 100 ** (-2 / 3) * 0.01 / (0.03 * 3**0.5), rel=1e-12)
    # 1/n = alpha (A/W)^beta = 30 * 3^-0.2
    hivdi = flowlaws.get("hivdi").q({"Abar": 250.0, "alpha": 30.0, "beta": -0.2}, o)[0]
    assert hivdi == pytest.approx(30 * 3 ** -0.2 * 300 ** (5 / 3) * 100 ** (-2 / 3) * 0.01, rel=1e-12)


def test_momma_by_hand() -> None:
    """Y = 2/3 (H - B); n = nb ((Hmax - B)/(H - B))^x; Q = W Y^(5/3) S^(1/2) / n."""
    o = FlowObs(width=np.array([200.0, 200.0]), wse=np.array([104.0, 108.0]), slope=np.array([1e-4, 1e-4]),
                d_x_area=np.zeros(2))
    p = {"B": 100.0, "H": 108.0, "nb": 0.03, "x": 1.0}
    # at H = 104: depth 4 -> Y = 8/3, n = 0.03 * (8 / 4) = 0.06; at H = 108: Y = 16/3, n = 0.03
    expected = [200 * (8 / 3) ** (5 / 3) * 0.01 / 0.06, 200 * (16 / 3) ** (5 / 3) * 0.01 / 0.03]
    np.testing.assert_allclose(flowlaws.get("momma").q(p, o), expected, rtol=1e-12)
    # n is bounded: x = 3 would give 0.03 * 8 = 0.24 > 0.20 at H = 104
    assert flowlaws.get("momma").roughness({**p, "x": 3.0}, o.wse)[0] == 0.20


def test_bam_by_hand() -> None:
    o = FlowObs(width=np.array([50.0]), wse=np.array([1.0]), slope=np.array([4e-4]), d_x_area=np.zeros(1))
    # D = Db (W/Wb)^r = 2 * 0.5^0.5; Q = W D^(5/3) S^(1/2) / n
    q = flowlaws.get("bam").q({"n": 0.04, "Wb": 100.0, "Db": 2.0, "r": 0.5}, o)[0]
    assert q == pytest.approx(50 * (2 * 0.5**0.5) ** (5 / 3) * 0.02 / 0.04, rel=1e-12)


def test_undefined_where_area_or_slope_is_not_positive() -> None:
    o = FlowObs(width=np.array([100.0, 100.0, 100.0]), wse=np.zeros(3), slope=np.array([1e-4, -1e-5, 1e-4]),
                d_x_area=np.array([0.0, 0.0, -300.0]))
    q = flowlaws.get("manning").q({"n": 0.03, "a0": 250.0}, o)
    assert np.isfinite(q[0]) and np.isnan(q[1:]).all()


@pytest.mark.parametrize("name", sorted(flowlaws.LAWS))
def test_with_mean_reproduces_the_mean_and_keeps_the_rest(name: str) -> None:
    o = obs(30)
    p = {"manning": {"n": 0.03, "a0": 400.0}, "metroman": {"Abar": 400.0, "na": 0.03, "x1": 0.3},
         "hivdi": {"Abar": 400.0, "alpha": 30.0, "beta": -0.2}, "momma": {"B": 7.0, "H": 12.0, "nb": 0.03, "x": 0.5},
         "bam": {"n": 0.03, "Wb": 120.0, "Db": 3.0, "r": 0.8}}[name]
    law = flowlaws.get(name)
    mean = law.mean_q(p, o)
    for factor in (0.5, 1.0, 3.0):
        new = law.with_mean(p, o, factor * mean)
        assert law.mean_q(new, o) == pytest.approx(factor * mean, rel=1e-9)
        assert {k: v for k, v in new.items() if k != law.scale} == {k: v for k, v in p.items() if k != law.scale}
    assert set(law.params) == set(p)


def test_with_mean_through_the_clipped_momma_roughness() -> None:
    """Where n hits its bound, the closed form fails and the root search still matches the mean;
    a mean the bounded roughness cannot reach gives a NaN scale, not a wrong one."""
    o = obs(30)
    p = {"B": 9.5, "H": 12.0, "nb": 0.05, "x": 1.5}
    law = flowlaws.get("momma")
    assert (law.roughness(p, o.wse) == 0.20).any() and (law.roughness(p, o.wse) < 0.20).any()
    target = 0.8 * law.mean_q(p, o)
    assert law.mean_q(law.with_mean(p, o, target), o) == pytest.approx(target, rel=1e-9)
    floor = law.mean_q({**p, "nb": 1e3}, o)  # every n at 0.20: the least mean the law can give
    assert np.isnan(law.with_mean(p, o, 0.5 * floor)["nb"])


def test_with_mean_gives_nan_without_a_mean() -> None:
    o = obs(5)
    law = flowlaws.get("manning")
    assert np.isnan(law.with_mean({"n": np.nan, "a0": 100.0}, o, 100.0)["n"])
    assert np.isnan(law.with_mean({"n": 0.03, "a0": 100.0}, o, np.nan)["n"])


def test_random_uncertainty_first_order() -> None:
    """sigma_Q / Q = sqrt((2/3 sW/W)^2 + (5/3 sA/A)^2 + (1/2 sS/S)^2) for Manning."""
    o = FlowObs(width=np.array([100.0]), wse=np.array([11.0]), slope=np.array([1e-4]), d_x_area=np.array([50.0]),
                width_u=np.array([10.0]), slope_u=np.array([1e-5]), d_x_area_u=np.array([30.0]))
    p = {"n": 0.03, "a0": 250.0}
    law = flowlaws.get("manning")
    rel = np.sqrt((2 / 3 * 0.1) ** 2 + (5 / 3 * 0.1) ** 2 + (0.5 * 0.1) ** 2)
    assert law.q_u(p, o)[0] == pytest.approx(law.q(p, o)[0] * rel, rel=1e-12)
    no_u = FlowObs(o.width, o.wse, o.slope, o.d_x_area)
    assert np.isnan(law.q_u(p, no_u)[0])


def test_unknown_law_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="manning"):
        flowlaws.get("chezy")
