"""Thresholds: defaults, TOML / YAML overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from confluence_core.errors import ConfluenceError
from confluence_prediagnostics.config import BAD_BITS, Thresholds, load_thresholds


def test_defaults_are_the_contract_and_the_product_guide() -> None:
    cfg = load_thresholds(None)
    assert cfg == Thresholds()
    assert (cfg.ice_clim_f_max, cfg.dark_frac_max, cfg.xovr_cal_q_max) == (1, 0.6, 1)
    assert (cfg.reach_p_width_min, cfg.node_p_width_min, cfg.p_length_min) == (60.0, 70.0, 5000.0)
    assert (cfg.xtrk_dist_min, cfg.xtrk_dist_max, cfg.obs_frac_n_min, cfg.n_good_pix_min) == (
        10000.0, 60000.0, 0.4, 10)
    # RiverSP product description: degraded (2) kept, bad (3, bits 22-31) removed
    assert (cfg.reach_q_max, cfg.node_q_max, cfg.reach_q_b_mask, cfg.node_q_b_mask) == (2, 2, BAD_BITS, BAD_BITS)
    # outlier test: Iglewicz & Hoaglin cut-off; SWOT science requirement errors
    assert (cfg.outlier_k, cfg.wse_sigma_min, cfg.width_sigma_min_rel, cfg.slope_sigma_min) == (
        3.5, 0.10, 0.15, 1.7e-5)


def test_toml_override(tmp_path: Path) -> None:
    path = tmp_path / "prediag.toml"
    path.write_text("dark_frac_max = 0.5\nreach_p_width_min = 80\nreach_q_max = 0\n")
    cfg = load_thresholds(path)
    assert cfg.dark_frac_max == 0.5 and cfg.reach_p_width_min == 80.0 and cfg.reach_q_max == 0
    assert isinstance(cfg.reach_p_width_min, float)
    assert cfg.as_attrs()["prediag_dark_frac_max"] == 0.5


def test_yaml_override(tmp_path: Path) -> None:
    pytest.importorskip("yaml")
    path = tmp_path / "prediag.yaml"
    path.write_text("outlier_k: 3\nnode_q_b_mask: 6\n")
    cfg = load_thresholds(path)
    assert cfg.outlier_k == 3.0 and cfg.node_q_b_mask == 6


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("dark_frak_max = 0.5\n", ["dark_frak_max", "unknown key"]),
        ('dark_frac_max = "high"\n', ["dark_frac_max", "expected a number"]),
        ("n_good_pix_min = 9.5\n", ["n_good_pix_min", "integer"]),
        ("ice_clim_f_max = true\n", ["ice_clim_f_max"]),
        ("xtrk_dist_min = 7e4\n", ["xtrk_dist_min"]),
        ("outlier_k = -1\n", ["outlier_k", "0 or more"]),
        ("slope_neighbours = 0\n", ["slope_neighbours"]),
        ("tukey_k = 1.5\n", ["tukey_k", "unknown key"]),
        ("dark_frac_max = \n", ["not valid TOML"]),
    ],
)
def test_bad_config_is_one_clear_error(tmp_path: Path, text: str, words: list[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfluenceError) as err:
        load_thresholds(path)
    assert str(path) in str(err.value)
    for word in words:
        assert word in str(err.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfluenceError, match="config file not found"):
        load_thresholds(tmp_path / "nope.toml")
