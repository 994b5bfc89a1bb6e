"""Thresholds of the checks: contract defaults, overridable by a TOML or YAML file.

Defaults are the thresholds of contracts.md section 9 where it fixes one;
the summary quality (``reach_q`` / ``node_q`` kept up to 2, degraded) and the
bitwise quality masks (the "bad" bits) follow the SWOT RiverSP product
description (JPL D-56413); the outlier keys set the hydraulic outlier test of
:mod:`.outliers`.  See the README for why each differs from the public
workflow.  A config file is a flat table of ``key = value`` pairs using the names of
:class:`Thresholds`, for example::

    # prediag.toml
    dark_frac_max = 0.5
    reach_p_width_min = 80.0

``.yaml`` / ``.yml`` files are read with PyYAML when it is installed; every
other suffix is read as TOML.  An unknown key, a value of the wrong type or an
unreadable file is one :class:`~confluence_core.errors.ConfluenceError`
naming the file and the key.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from confluence_core.config import read_table
from confluence_core.errors import ConfluenceError

#: Environment variable naming the config file (same as ``--config``).
CONFIG_ENV = "CONFLUENCE_PREDIAG_CONFIG"
#: Bits 22-31 of ``reach_q_b`` / ``node_q_b``: a word >= 4194304 is "bad" data (JPL D-56413):
#: lake_flagged (22), wse_outlier (23, node), wse_bad (24, node), below_min_fit_points (25, reach)
#: or no_sig0_observations (25, node), no_area_observations (26), no_wse_observations (27),
#: no_pixels / no_observations (28).
BAD_BITS = 0xFFC00000


def _key(default: float, meaning: str) -> Any:
    return dataclasses.field(default=default, metadata={"help": meaning})


@dataclass(frozen=True)
class Thresholds:
    """Every threshold of the prediagnostics step (meaning and unit in each field's ``help``).

    A check removes an observation when its quality field is present (not
    fill) and the ``keep`` condition of its key does *not* hold.
    """

    ice_clim_f_max: int = _key(1, "keep ice_clim_f <= value (0 no ice, 1 uncertain, 2 likely fully ice covered)")
    ice_dyn_f_max: int = _key(1, "keep ice_dyn_f <= value (0 no ice, 1 partial, 2 full cover)")
    dark_frac_max: float = _key(
        0.6, "dark water above value (fraction of area_total, 1): width partly from the prior; the pass is"
        " kept only if it agrees with the WSE-width relation of the other passes")
    xovr_cal_q_max: int = _key(1, "keep xovr_cal_q <= value (0 good, 1 suspect, 2 bad)")
    reach_p_width_min: float = _key(60.0, "keep prior (SWORD) reach width >= value (m)")
    node_p_width_min: float = _key(70.0, "keep prior (SWORD) node width >= value (m)")
    p_length_min: float = _key(5000.0, "keep prior (SWORD) reach length >= value (m)")
    xtrk_dist_min: float = _key(10000.0, "keep |xtrk_dist| >= value (m)")
    xtrk_dist_max: float = _key(60000.0, "keep |xtrk_dist| <= value (m)")
    obs_frac_n_min: float = _key(0.4, "keep obs_frac_n > value (strict, fraction)")
    n_good_nod_min: int = _key(0, "keep n_good_nod >= value (0: the contract sets no threshold)")
    n_good_pix_min: int = _key(10, "keep n_good_pix >= value (pixels)")
    reach_q_max: int = _key(2, "keep reach_q <= value (0 good, 1 suspect, 2 degraded, 3 bad)")
    node_q_max: int = _key(2, "keep node_q <= value (same scale)")
    reach_q_b_mask: int = _key(BAD_BITS, "remove where reach_q_b & mask != 0 (default: the bad bits 22-31)")
    node_q_b_mask: int = _key(BAD_BITS, "remove where node_q_b & mask != 0 (default: the bad bits 22-31)")
    outlier_k: float = _key(3.5, "outlier where |residual| / robust scale > value")
    outlier_min_samples: int = _key(5, "fewer values (pairs) in a row over time: no outlier test")
    wse_sigma_min: float = _key(0.10, "WSE error when the file reports no wse_u (m): smallest residual scale")
    width_sigma_min_rel: float = _key(
        0.15, "width error relative to the median width when the file reports no width_u (1)")
    slope_sigma_min: float = _key(1.7e-5, "slope error when the file reports no slope_u (m/m)")
    slope_neighbours: int = _key(7, "passes nearest in WSE a slope is compared with")

    def as_attrs(self) -> dict[str, Any]:
        """Return the thresholds as NetCDF attributes (``prediag_<key>``)."""
        return {f"prediag_{k}": v for k, v in dataclasses.asdict(self).items()}


def _check_type(key: str, value: Any, kind: type, path: Path) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfluenceError(
            f"key {key!r}: expected a number ({kind.__name__}), got {type(value).__name__} {value!r}", path
        )
    if kind is int:
        if isinstance(value, float) and not value.is_integer():
            raise ConfluenceError(f"key {key!r}: expected an integer, got {value!r}", path)
        return int(value)
    return float(value)


def _parse(path: Path) -> dict[str, Any]:
    return read_table(path)


def load_thresholds(path: str | Path | None) -> Thresholds:
    """Return the defaults overridden by the file at ``path`` (defaults when None).

    Raises
    ------
    ConfluenceError
        When the file is missing or unreadable, a key is unknown or a value
        has the wrong type; the message names the file and the key.
    """
    if path is None or str(path) == "":
        return Thresholds()
    path = Path(path)
    data = _parse(path)
    known = {f.name: f for f in fields(Thresholds)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ConfluenceError(f"unknown key {key!r} (known keys: {', '.join(known)})", path)
        kind = int if known[key].type in ("int", int) else float
        values[key] = _check_type(key, value, kind, path)
    cfg = Thresholds(**values)
    if cfg.xtrk_dist_min > cfg.xtrk_dist_max:
        raise ConfluenceError(
            f"key 'xtrk_dist_min' ({cfg.xtrk_dist_min}) is above 'xtrk_dist_max' ({cfg.xtrk_dist_max})", path
        )
    for key in ("outlier_k", "wse_sigma_min", "width_sigma_min_rel", "slope_sigma_min"):
        if getattr(cfg, key) < 0:
            raise ConfluenceError(f"key {key!r} must be 0 or more, not {getattr(cfg, key)}", path)
    if cfg.slope_neighbours < 1:
        raise ConfluenceError(f"key 'slope_neighbours' must be 1 or more, not {cfg.slope_neighbours}", path)
    return cfg


def describe() -> str:
    """One line per config key: ``name = default  meaning`` (for ``--help``)."""
    return "\n".join(f"{f.name} = {f.default}  ({f.metadata['help']})" for f in fields(Thresholds))
