"""geoBAM expert classification and priors against the published geoBAMr values.

The literals below are typed from geoBAMr (github.com/craigbrinkerhoff/geoBAMr), R/utils.R
``classify_func`` and R/priorCalc.R ``estimate_*`` (expert framework), independently of
the module's tables, so that a transcription slip in either place fails a test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from confluence_priors.geobam import (
    EXPERT,
    LOGQ_SD_DEFAULT,
    TYPE_LOGW,
    classify,
    geobam_priors,
    logq_sd_from_fdc,
    output_names,
    width_stats,
)


def widths_with(mean_logw: float, sd_logw: float, nt: int = 40) -> np.ndarray:
    """Widths (m) whose ln has exactly this mean and sample sd."""
    z = np.linspace(-1.0, 1.0, nt)
    z = (z - z.mean()) / z.std(ddof=1)
    return np.exp(mean_logw + sd_logw * z)


def test_width_stats_ignore_fill_and_nonpositive_widths() -> None:
    w = np.array([[100.0, np.nan, -999999999999.0, 0.0, 100.0 * np.e]])
    n_w, mean, sd = width_stats(w)
    assert n_w.tolist() == [2]
    assert mean[0] == pytest.approx(np.log(100.0) + 0.5)
    assert sd[0] == pytest.approx(np.sqrt(0.5))  # sample sd (n - 1) of ln W, as R's sd()


def test_characteristic_widths_are_the_published_ones() -> None:
    published = [2.476118144, 2.864001065, 3.103015939, 3.249308032, 3.284178964, 3.371669039,
                 3.56827873, 3.664586762, 3.683922384, 4.002696788, 4.031559142, 4.357733942,
                 4.436574004, 4.921166637, 5.287893051]
    np.testing.assert_array_equal(TYPE_LOGW, published)


def test_width_type_boundaries_are_half_way_between_characteristic_widths() -> None:
    centres = np.asarray(TYPE_LOGW)
    mids = (centres[1:] + centres[:-1]) / 2
    below = classify(mids - 1e-6, np.full(mids.size, 0.1))
    above = classify(mids + 1e-6, np.full(mids.size, 0.1))
    assert below.tolist() == list(range(1, 15))
    assert above.tolist() == list(range(2, 16))
    assert classify(centres, np.zeros(15)).tolist() == list(range(1, 16))
    # e.g. types 12 | 13 meet at ln W = 4.3972 (81.2 m)
    assert classify([np.log(81.0), np.log(81.5)], [0.1, 0.1]).tolist() == [12, 13]
    # narrower than type 1 and everything from type 15 up to the big-river limit
    assert classify([np.log(2.0), np.log(600.0)], [0.1, 0.1]).tolist() == [1, 15]


def test_big_and_width_variable_rivers() -> None:
    mean = np.array([6.5, 6.5 + 1e-9, 7.5, 3.0, 3.0, 7.5, np.nan, 4.0])
    sd = np.array([0.1, 0.1, 0.1, 0.45 - 1e-9, 0.45, 0.45, 0.1, np.nan])
    # big: mean ln W strictly above 6.5 (665 m); width-variable: sd of ln W >= 0.45, overriding big
    assert classify(mean, sd).tolist() == [15, 17, 17, 3, 16, 16, 0, 0]


def test_published_example_type_13_river() -> None:
    """A 100 m river (mean ln W = 4.605, sd 0.1): nearest characteristic width is type 13 (84.5 m)."""
    width = widths_with(np.log(100.0), 0.1)[None, :]
    out = geobam_priors(width, np.full((1, 40), 1e-4), mean_q=np.array([50.0]))
    assert out["river_type"][0] == 13
    published = {  # geoBAMr R/priorCalc.R, 13th entries: hat, sd, lower, upper
        "b": (0.107294865, 0.099282596, 0.016252382, 0.361701335),
        "logA0": (7.102499356, 1.08535437, 3.696351469, 8.78186249),
        "logWb": (4.436574004, 0.540567805, 2.99460664, 5.521860838),
        "logDb": (0.299392088, 0.690395904, -1.649478962, 1.639749354),
        "logr": (1.368493142, 0.824128369, 0.081171573, 3.688940701),
        "logn": (-3.404202242, 1.199816945, -6.678294272, -0.554602291),
    }
    for p, (hat, sd, lo, hi) in published.items():
        got = [out[k][0] for k in (f"{p}_hat", f"{p}_sd", f"lower_{p}", f"upper_{p}")]
        assert got == pytest.approx([hat, sd, lo, hi], abs=1e-12), p


def test_published_example_width_variable_river() -> None:
    width = widths_with(np.log(50.0), 0.6)[None, :]
    out = geobam_priors(width, np.full((1, 40), 1e-3), mean_q=np.array([20.0]))
    assert out["river_type"][0] == 16
    assert out["b_hat"][0] == pytest.approx(0.404257196)
    assert out["upper_b"][0] == pytest.approx(0.773757585)
    assert out["logr_hat"][0] == pytest.approx(-0.247245593)
    assert out["upper_logr"][0] == pytest.approx(-0.002840899)
    assert out["logA0_sd"][0] == pytest.approx(2.272342301)


def test_big_river_gets_the_global_regressions() -> None:
    mean, sd, slope = 7.0, 0.1, 1e-4
    out = geobam_priors(widths_with(mean, sd)[None, :], np.full((1, 40), slope), mean_q=np.array([1e4]))
    assert out["river_type"][0] == 17
    ls = np.log(slope)
    expected = {  # geoBAMr global fits, sds and bounds of the type-17 rows
        "b": (0.0569 + 0.3822 * sd, 0.068077044, 0.000182357, 0.773757585),
        "logA0": (-0.2918 + 1.6930 * mean - 0.1887 * sd, 0.58987527, 4.540631665, np.log(1e6)),
        "logWb": (0.0037 + 1.0028 * mean, 0.137381044, 3.089222617, 10.0),
        "logDb": (-2.6189 - 0.2436 * sd + 0.6854 * mean, 0.576212733, -0.951962577, 5.0),
        "logr": (1.4241 - 1.9097 * sd + 0.0420 * mean, 0.67332688, -2.580471126, 8.037716276),
        "logn": (-0.1636 + 0.4077 * ls, 0.761673112, np.log(0.01), np.log(0.05)),
    }
    for p, values in expected.items():
        got = [out[k][0] for k in (f"{p}_hat", f"{p}_sd", f"lower_{p}", f"upper_{p}")]
        assert got == pytest.approx(values, abs=1e-9), p


def test_global_hat_outside_its_bounds_is_held_on_the_bound() -> None:
    """A near-flat big river: -0.1636 + 0.4077 ln(1e-6) = -5.80 < ln 0.01; the truncated prior's mode is the bound."""
    out = geobam_priors(widths_with(7.0, 0.1)[None, :], np.full((1, 40), 1e-6), mean_q=np.array([1e4]))
    assert out["logn_hat"][0] == pytest.approx(np.log(0.01))


def test_every_type_hat_lies_within_its_bounds() -> None:
    for p, tab in EXPERT.items():
        hat, lo, hi = np.asarray(tab.hat), np.asarray(tab.lower[:16]), np.asarray(tab.upper[:16])
        assert len(tab.hat) == 16 and len(tab.sd) == len(tab.lower) == len(tab.upper) == 17, p
        assert np.all((lo <= hat) & (hat <= hi)) and np.all(np.asarray(tab.sd) > 0), p


def test_missing_and_fill_inputs_give_the_global_prior_or_fill_without_crashing() -> None:
    fill = -999999999999.0
    width = np.array([
        [np.nan] * 4,                     # nothing observed
        [fill] * 4,                       # fill values only
        [100.0, np.nan, np.nan, np.nan],  # one width: unclassified, global logWb only
        [100.0, 110.0, fill, np.nan],     # two widths: unclassified, global prior
        [100.0, 110.0, 90.0, 95.0],       # classified, slope missing
    ])
    slope = np.array([[1e-4] * 4, [1e-4] * 4, [np.nan] * 4, [2e-4] * 4, [fill] * 4])
    out = geobam_priors(width, slope, mean_q=np.full(5, 100.0))
    assert set(out) == set(output_names())
    for key, arr in out.items():
        assert np.isnan(arr[:2]).all(), key
    assert out["river_type"][2:].tolist() == [0, 0, 13]
    # one width: ln Wb from the mean ln W; b, A0, Db, r need the sd of ln W; n needs a slope
    assert out["logWb_hat"][2] == pytest.approx(0.0037 + 1.0028 * np.log(100.0))
    assert out["logWb_sd"][2] == pytest.approx(0.137381044)
    for p in ("b", "logA0", "logDb", "logr", "logn"):
        assert np.isnan([out[f"{p}_hat"][2], out[f"{p}_sd"][2], out[f"lower_{p}"][2]]).all(), p
    # two widths: the whole global prior
    _, m, s = width_stats(width[3:4])
    assert s[0] == pytest.approx(np.log(1.1) / np.sqrt(2.0))
    assert out["b_hat"][3] == pytest.approx(0.0569 + 0.3822 * s[0])
    assert out["logA0_hat"][3] == pytest.approx(-0.2918 + 1.6930 * m[0] - 0.1887 * s[0])
    assert out["logn_hat"][3] == pytest.approx(-0.1636 + 0.4077 * np.log(2e-4))
    # a classified river needs no slope: its n prior is its type's
    assert out["logn_hat"][4] == pytest.approx(-3.404202242)
    for row in (3, 4):
        assert np.isfinite([out[k][row] for k in output_names()]).all(), row


def test_other_priors_follow_bam() -> None:
    rng = np.random.default_rng(0)
    width = 200.0 * np.exp(rng.normal(0, 0.1, (2, 50)))
    out = geobam_priors(width, np.full((2, 50), 1e-4), mean_q=np.array([500.0, 5.0]),
                        min_q=np.array([50.0, 10.0]), max_q=np.array([5000.0, 50.0]),
                        width_u=np.full((2, 50), 7.5))
    assert out["logWc_hat"] == pytest.approx(np.log(width).mean(axis=1))  # BAM: mean(log(Wobs))
    assert out["logQc_hat"] == pytest.approx(np.log([500.0, 5.0]))
    assert out["logQc_sd"] == pytest.approx(np.sqrt(np.log(2.0)))  # CV of Q = 1
    assert out["lower_logQc"][0] == pytest.approx(np.log(50.0))
    # model bounds that do not bracket the hat: hat +/- 3 sd
    assert out["lower_logQc"][1] == pytest.approx(np.log(5.0) - 3 * np.sqrt(np.log(2.0)))
    assert out["sigma_man"].tolist() == [0.25, 0.25] and out["sigma_amhg"].tolist() == [0.22, 0.22]
    assert out["Werr_sd"].tolist() == [7.5, 7.5]
    assert out["Serr_sd"].tolist() == [1e-5, 1e-5] and out["dAerr_sd"].tolist() == [10.0, 10.0]
    assert out["logQ_sd"].tolist() == [LOGQ_SD_DEFAULT] * 2


def test_logq_sd_from_lognormal_fdc() -> None:
    from confluence_core.sos import EXCEEDANCE
    from scipy.stats import norm

    sigma = 0.7
    fdc = np.exp(3.0 + sigma * norm.ppf(1 - np.asarray(EXCEEDANCE) / 100))[None, :]
    assert logq_sd_from_fdc(fdc, 1)[0] == pytest.approx(sigma, rel=1e-3)
    assert logq_sd_from_fdc(np.full((1, 20), np.nan), 1)[0] == LOGQ_SD_DEFAULT


def test_reference_swot_file(shared_data: Path) -> None:
    """The real input-module file of reach 74269800011 (slope2 only, 42 nodes, some unobserved)."""
    from confluence_priors.io import read_swot

    obs = read_swot(shared_data / "reference_outputs" / "swot" / "74269800011_SWOT.nc")
    assert obs.width.size == 154 and obs.node_width.shape == (42, 154)
    reach = geobam_priors(obs.width[None, :], obs.slope[None, :], np.array([300.0]),
                          width_u=obs.width_u[None, :], slope_u=obs.slope_u[None, :])
    # mean ln W 5.433 (229 m), sd 0.012: past type 15's 198 m, short of the 665 m big rivers
    assert reach["river_type"][0] == 15
    assert reach["logn_hat"][0] == pytest.approx(-3.405497386)
    assert reach["logA0_hat"][0] == pytest.approx(8.937204637)
    assert reach["Werr_sd"][0] == pytest.approx(np.nanmedian(obs.width_u))
    nodes = geobam_priors(obs.node_width, np.tile(obs.slope, (42, 1)), np.full(42, 300.0))
    observed = np.isfinite(obs.node_width).sum(axis=1) >= 3
    assert observed.any() and (~observed).any()
    assert np.isfinite(nodes["logn_hat"][observed]).all() and np.isnan(nodes["logn_hat"][~observed]).all()
