"""The pure functions of checks.py, on small arrays."""

from __future__ import annotations

import numpy as np
import pytest
from confluence_prediagnostics import checks
from confluence_prediagnostics.config import BAD_BITS, Thresholds

NAN = np.nan


def test_fails_max_keeps_equal_and_nan() -> None:
    got = checks.fails_max(np.array([0, 1, 2, NAN]), 1)
    assert got.tolist() == [False, False, True, False]


def test_fails_min_keeps_equal_and_nan() -> None:
    got = checks.fails_min(np.array([9, 10, 11, NAN]), 10)
    assert got.tolist() == [True, False, False, False]


def test_fails_above_is_strict() -> None:
    got = checks.fails_above(np.array([0.3, 0.4, 0.41, NAN]), 0.4)
    assert got.tolist() == [True, True, False, False]


def test_fails_abs_range_uses_absolute_distance() -> None:
    xtrk = np.array([-65e3, -30e3, -5e3, 0.0, 10e3, 60e3, 61e3, NAN])
    got = checks.fails_abs_range(xtrk, 10e3, 60e3)
    assert got.tolist() == [True, False, True, True, False, False, True, False]


def test_fails_bits() -> None:
    q_b = np.array([0, 1, 2, 3, 8, NAN])
    assert checks.fails_bits(q_b, 0b0010).tolist() == [False, False, True, True, False, False]
    assert not checks.fails_bits(q_b, 0).any()


@pytest.mark.parametrize(
    ("check", "values", "expected"),
    [
        ("ice_clim_f", [0, 1, 2], [0, 0, 1]),
        ("ice_dyn_f", [0, 1, 2], [0, 0, 1]),
        ("dark_frac", [0.1, 0.6, 0.61], [0, 0, 1]),  # dark: suspect, judged by the relation (below)
        ("xovr_cal_q", [0, 1, 2], [0, 0, 1]),
        ("p_width", [59.9, 60.0, 300.0], [1, 0, 0]),
        ("p_length", [4999.0, 5000.0, 1e4], [1, 0, 0]),
        ("obs_frac_n", [0.4, 0.5, 1.0], [1, 0, 0]),
        ("reach_q", [0, 1, 2, 3], [0, 0, 0, 1]),  # degraded kept, bad removed (JPL D-56413)
        # bits: suspect (bit 15 partially_observed), degraded (18, 19) kept; bad (22, 25-28) removed
        ("reach_q_b", [0, 2**15, 2**18 + 2**19, 2**22, 2**25, 2**28, 2**18 + 2**27], [0, 0, 0, 1, 1, 1, 1]),
        ("n_good_nod", [0, 3, 40], [0, 0, 0]),  # no contract threshold: nothing removed by default
    ],
)
def test_reach_checks_use_contract_defaults(check: str, values: list[float], expected: list[int]) -> None:
    spec = next(c for c in checks.REACH_CHECKS if c.flag == check)
    got = checks.run_check(spec, np.array(values, dtype=float), Thresholds())
    assert got.astype(int).tolist() == expected


@pytest.mark.parametrize(
    ("check", "values", "expected"),
    [("p_width", [69.0, 70.0], [1, 0]), ("n_good_pix", [9, 10], [1, 0]), ("node_q", [1, 2, 3], [0, 0, 1]),
     ("node_q_b", [2**19, 2**23, 2**24], [0, 1, 1])],
)
def test_node_checks_use_contract_defaults(check: str, values: list[float], expected: list[int]) -> None:
    spec = next(c for c in checks.NODE_CHECKS if c.flag == check)
    got = checks.run_check(spec, np.array(values, dtype=float), Thresholds())
    assert got.astype(int).tolist() == expected


def test_bad_bits_are_the_bad_half_of_the_word() -> None:
    assert sum(2**b for b in range(22, 32)) == BAD_BITS
    assert Thresholds().reach_q_b_mask == BAD_BITS == Thresholds().node_q_b_mask


def _wave(shape: tuple[int, ...], phase: float = 0.0) -> np.ndarray:
    """A smooth seasonal signal in [-1, 1]."""
    t = np.arange(shape[-1]) * 2 * np.pi / shape[-1]
    return np.broadcast_to(np.sin(t + phase), shape).copy()


def _reach(nt: int = 12, flow: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """A clean reach: width and WSE rise and fall with ``flow`` (one monotone relation)."""
    flow = _wave((nt,)) if flow is None else flow
    nt = flow.size
    return {
        "width": 100 + 10 * flow, "width_u": np.full(nt, 2.0),
        "wse": 20 + 0.5 * flow, "wse_u": np.full(nt, 0.05),
        "slope2": 1e-4 + 1e-6 * _wave((nt,), 2.0),
        "d_x_area": 50 * flow, "d_x_area_u": np.full(nt, 20.0),
        "ice_clim_f": np.zeros(nt), "dark_frac": np.full(nt, 0.1), "obs_frac_n": np.ones(nt),
        "reach_q": np.ones(nt), "reach_q_b": np.zeros(nt),
    }


def _node(nx: int = 3, nt: int = 12) -> dict[str, np.ndarray]:
    flow = _wave((nx, nt))
    return {
        "width": 100 + 10 * flow, "wse": 20 + 0.5 * flow,
        "slope2": np.zeros((nx, nt)), "d_x_area": np.zeros((nx, nt)),
        "dark_frac": np.full((nx, nt), 0.1), "n_good_pix": np.full((nx, nt), 50.0),
    }


def test_clean_reach_keeps_everything() -> None:
    out = checks.prediagnose(_reach(), _node(), Thresholds())
    got = out.counts("reach")
    assert (got["observations"], got["removed"], got["kept"]) == (12, 0, 12)
    assert not any(got["removed_by"].values())
    assert out.counts("node")["kept"] == 36


def test_prediagnose_flood_and_drought_on_the_relation_are_kept() -> None:
    flow = np.r_[_wave((12,)), 6.0, -1.8]  # a flood six times the usual swing, a drought below every pass
    out = checks.prediagnose(_reach(flow=flow), {}, Thresholds(), nx=0)
    assert not out.reach_flags["removed"].any()


def test_prediagnose_planted_outlier_is_caught() -> None:
    reach = _reach()
    reach["wse"][4] += 1.5  # WSE off the relation, width as usual
    out = checks.prediagnose(reach, {}, Thresholds(), nx=0)
    assert np.flatnonzero(out.reach_flags["wse_outliers"]).tolist() == [4]
    assert out.reach_removed["wse"][4] and out.reach_removed["d_x_area"][4]
    assert not out.reach_removed["width"][4]


def test_prediagnose_reach_q_degraded_kept_bad_removed() -> None:
    reach = _reach()
    reach["reach_q"][[2, 3]] = [2, 3]
    reach["reach_q_b"][[2, 3, 5]] = [2**18, 2**22, 2**19 + 2**26]
    out = checks.prediagnose(reach, {}, Thresholds(), nx=0)
    assert np.flatnonzero(out.reach_flags["reach_q"]).tolist() == [3]
    assert np.flatnonzero(out.reach_flags["reach_q_b"]).tolist() == [3, 5]
    assert np.flatnonzero(out.reach_flags["removed"]).tolist() == [3, 5]


def test_prediagnose_dark_water_is_judged_by_the_relation() -> None:
    reach = _reach()
    reach["dark_frac"][[2, 7]] = 0.9
    reach["width"][7] = 100.0  # the prior's width, at a low stage: off the relation
    out = checks.prediagnose(reach, {}, Thresholds(), nx=0)
    assert np.flatnonzero(out.reach_flags["dark_frac"]).tolist() == [7]
    for name in ("width", "wse", "slope2", "d_x_area"):  # removed whole, under dark_frac alone
        assert out.reach_removed[name][7] and not out.reach_removed[name][2], name
    assert not out.reach_flags["width_outliers"].any() and not out.reach_flags["wse_outliers"].any()


def test_prediagnose_dark_water_unverifiable_is_removed() -> None:
    reach = _reach()
    reach["dark_frac"][:9] = 0.9  # only 3 bright passes: too few to check the dark ones against
    out = checks.prediagnose(reach, {}, Thresholds(), nx=0)
    assert np.flatnonzero(out.reach_flags["dark_frac"]).tolist() == list(range(9))


def test_counts_every_rule_once_per_observation() -> None:
    reach, node = _reach(), _node()
    reach["ice_clim_f"][1] = 2
    reach["reach_q"][1] = 3  # the same pass: counted under both rules, once in total
    reach["width"][6] = 400.0  # another pass: a width outlier
    node["wse"][0, 5] = 40.0
    node["width"][2, :] = np.nan  # node observations need a node width or WSE
    node["wse"][2, :] = np.nan
    out = checks.prediagnose(reach, node, Thresholds())
    got = out.counts("reach")
    assert got["removed_by"]["ice_clim_f"] == 1 and got["removed_by"]["reach_q"] == 1
    assert got["removed_by"]["width_outliers"] == 1
    assert (got["observations"], got["removed"], got["kept"]) == (12, 2, 10)
    nodes = out.counts("node")
    assert nodes["observations"] == 24  # node 2 has no values of its own
    assert nodes["removed_by"]["wse_outliers"] == 1
    assert nodes["removed"] == nodes["observations"] - nodes["kept"]


def test_prediagnose_quality_removes_the_whole_observation() -> None:
    reach, node = _reach(), _node()
    reach["ice_clim_f"][2] = 2
    out = checks.prediagnose(reach, node, Thresholds())
    assert out.reach_flags["ice_clim_f"].tolist() == [i == 2 for i in range(12)]
    for name in ("width", "width_u", "wse", "wse_u", "slope2", "d_x_area", "d_x_area_u"):
        assert out.reach_removed[name][2], name
    # node copies of reach values go with them; node width / wse stay
    assert out.node_removed["slope2"][:, 2].all() and out.node_removed["d_x_area"][:, 2].all()
    assert not out.node_removed["width"][:, 2].any()


def test_prediagnose_width_outlier_takes_d_x_area_not_wse() -> None:
    reach, node = _reach(), _node()
    reach["width"][5] = 500.0
    out = checks.prediagnose(reach, node, Thresholds())
    assert out.reach_flags["width_outliers"][5]
    assert out.reach_removed["width"][5] and out.reach_removed["width_u"][5]
    assert out.reach_removed["d_x_area"][5] and out.reach_removed["d_x_area_u"][5]
    assert not out.reach_removed["wse"][5]


def test_prediagnose_node_checks_and_outliers_per_node() -> None:
    reach, node = _reach(), _node()
    node["dark_frac"][1, 3] = 0.9
    node["width"][1, 3] = 60.0  # dark water and a width off the node's relation: removed whole
    node["dark_frac"][0, 8] = 0.9  # dark water on the relation: kept
    node["wse"][2, 6] = 40.0
    node["n_good_pix"][0, 0] = 3
    out = checks.prediagnose(reach, node, Thresholds())
    assert np.argwhere(out.node_flags["dark_frac"]).tolist() == [[1, 3]]
    assert np.argwhere(out.node_flags["n_good_pix"]).tolist() == [[0, 0]]
    assert np.argwhere(out.node_flags["wse_outliers"]).tolist() == [[2, 6]]
    assert out.node_removed["width"][1, 3] and out.node_removed["wse"][1, 3]
    assert not out.node_removed["width"][2, 6] and not out.node_removed["width"][0, 8]
    assert out.node_removed["d_x_area"][2, 6]
    assert not out.reach_flags["removed"].any()


def test_prediagnose_skips_absent_fields() -> None:
    reach, node = _reach(), _node()
    del reach["slope2"]
    out = checks.prediagnose(reach, node, Thresholds())
    assert "reach/slope2_outliers" in out.skipped and "reach/xtrk_dist" in out.skipped
    assert "node/ice_clim_f" in out.skipped
    assert not out.reach_flags["xtrk_dist"].any()
    assert "slope2" not in out.reach_removed


def test_prediagnose_prior_width_scalar_and_per_node() -> None:
    reach, node = _reach(), _node()
    reach["p_width"] = np.float64(50.0)
    node["p_width"] = np.array([[50.0], [80.0], [NAN]])
    out = checks.prediagnose(reach, node, Thresholds())
    assert out.reach_flags["p_width"].all()
    assert out.node_flags["p_width"][0].all() and not out.node_flags["p_width"][1:].any()


def test_prediagnose_no_observations_is_not_usable() -> None:
    reach = {"width": np.full(4, NAN), "wse": np.full(4, NAN)}
    out = checks.prediagnose(reach, {}, Thresholds())
    assert out.n_observed == 0 and not out.usable
    empty = checks.prediagnose({"width": np.zeros(0)}, {"width": np.zeros((2, 0))}, Thresholds())
    assert not empty.usable


def test_prediagnose_all_removed_is_not_usable() -> None:
    reach, node = _reach(), _node()
    reach["ice_clim_f"][:] = 2
    node["dark_frac"][:] = 0.9
    out = checks.prediagnose(reach, node, Thresholds())
    assert out.n_observed > 0 and not out.usable


def test_apply_removal_keeps_raw_values() -> None:
    raw = np.array([1.0, -999999999999.0, 3.0])
    got = checks.apply_removal(raw, np.array([True, False, False]), -999999999999.0)
    assert got.tolist() == [-999999999999.0, -999999999999.0, 3.0]
    assert raw[0] == 1.0


def test_prediagnose_without_node_group() -> None:
    out = checks.prediagnose(_reach(), {}, Thresholds(), nt=12, nx=3)
    assert out.node_flags["width_outliers"].shape == (3, 12)
    assert out.node_flags["removed"].shape == (3, 12)
    assert out.usable
