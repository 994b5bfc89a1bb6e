"""geoBAM classification and priors on known widths and slopes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from confluence_priors.geobam import (
    LOGQ_SD_DEFAULT,
    STEEP_TYPE,
    classify,
    geobam_priors,
    logq_sd_from_fdc,
    output_names,
    r_of_b,
)


def test_classify_by_width_then_steepness() -> None:
    w = np.array([10.0, 20.0, 50.0, 100.0, 101.0, 1000.0, 10000.0, 50.0, np.nan])
    s = np.array([1e-4] * 7 + [0.005, 1e-4])
    # edges 15.8, 25.1, 39.8, 63.1, 100 (5th edge), 158, ..., 1000 (10th edge), ..., 6310 (14th edge)
    assert classify(w, s).tolist() == [1, 2, 4, 6, 6, 11, 15, STEEP_TYPE, 0]


def test_r_of_b_is_dingman_manning() -> None:
    # b = 3 / (5r + 3): triangle r = 1 -> b = 3/8, parabola r = 2 -> b = 3/13
    assert r_of_b(3 / 8) == pytest.approx(1.0)
    assert r_of_b(3 / 13) == pytest.approx(2.0)


def test_logq_sd_from_lognormal_fdc() -> None:
    from confluence_core.sos import EXCEEDANCE
    from scipy.stats import norm

    sigma = 0.7
    fdc = np.exp(3.0 + sigma * norm.ppf(1 - np.asarray(EXCEEDANCE) / 100))[None, :]
    assert logq_sd_from_fdc(fdc, 1)[0] == pytest.approx(sigma, rel=1e-3)
    assert logq_sd_from_fdc(np.full((1, 20), np.nan), 1)[0] == LOGQ_SD_DEFAULT


def test_priors_of_known_rivers() -> None:
    rng = np.random.default_rng(0)
    width = np.vstack([200.0 * np.exp(rng.normal(0, 0.1, 50)), 30.0 * np.exp(rng.normal(0, 0.1, 50))])
    slope = np.vstack([np.full(50, 1e-4), np.full(50, 0.01)])
    out = geobam_priors(width, slope, mean_q=np.array([500.0, 5.0]), min_q=np.array([50.0, 1.0]),
                        max_q=np.array([5000.0, 50.0]))
    assert set(out) == set(output_names())
    assert out["river_type"].tolist() == [7.0, STEEP_TYPE]
    assert np.exp(out["logn_hat"]).tolist() == pytest.approx([0.030, 0.045])
    assert out["logQc_hat"] == pytest.approx(np.log([500.0, 5.0]))
    assert out["lower_logQc"] == pytest.approx(np.log([50.0, 1.0]))
    assert out["logWc_hat"] == pytest.approx(np.log(width.mean(axis=1)))
    # Moody and Troutman depth from the 95th-percentile width
    wb = np.percentile(width, 95, axis=1)
    assert np.exp(out["logWb_hat"]) == pytest.approx(wb)
    assert np.exp(out["logDb_hat"]) == pytest.approx(0.27 * (wb / 7.2) ** 0.78)
    for p in ("logA0", "logn", "b", "logWb", "logDb", "logr", "logWc", "logQc"):
        assert np.all(out[f"lower_{p}"] <= out[f"{p}_hat"]) and np.all(out[f"{p}_hat"] <= out[f"upper_{p}"]), p
        assert np.all(out[f"{p}_sd"] > 0), p
    # width varies 10 % in log and logQ_sd defaults to 0.83: b ~ 0.1 / 0.83 minus the 10 % width error
    assert 0.05 <= out["b_hat"][0] <= 0.2


def test_unusable_rows_are_nan() -> None:
    width = np.array([[100.0, np.nan, np.nan, np.nan], [100.0, 110.0, 90.0, 95.0], [-1.0, 0.0, 5.0, np.nan]])
    slope = np.array([[1e-4] * 4, [np.nan] * 4, [1e-4] * 4])
    out = geobam_priors(width, slope, mean_q=np.array([1.0, 1.0, 1.0]))
    for key, arr in out.items():
        assert np.isnan(arr).all(), key


def test_reference_swot_file(shared_data: Path) -> None:
    """The real input-module file of reach 74269800011 (slope2 only, 42 nodes, some unobserved)."""
    from confluence_priors.io import read_swot

    obs = read_swot(shared_data / "reference_outputs" / "swot" / "74269800011_SWOT.nc")
    assert obs.width.size == 154 and obs.node_width.shape == (42, 154)
    reach = geobam_priors(obs.width[None, :], obs.slope[None, :], np.array([300.0]),
                          width_u=obs.width_u[None, :], slope_u=obs.slope_u[None, :])
    assert reach["river_type"][0] == 7  # ~229 m wide, gentle slope: type 7 spans 158-251 m
    assert np.isfinite(reach["logA0_hat"][0]) and reach["Werr_sd"][0] == pytest.approx(np.nanmedian(obs.width_u))
    nodes = geobam_priors(obs.node_width, np.tile(obs.slope, (42, 1)), np.full(42, 300.0))
    observed = np.isfinite(obs.node_width).sum(axis=1) >= 3
    assert observed.any() and (~observed).any()
    assert np.isfinite(nodes["logn_hat"][observed]).all() and np.isnan(nodes["logn_hat"][~observed]).all()
