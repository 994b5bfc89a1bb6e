"""Thresholds of the checks: contract defaults, overridable by a TOML or YAML file.

Defaults are the public workflow's thresholds (contracts.md section 9).  A
config file is a flat table of ``key = value`` pairs using the names of
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


def _key(default: float, meaning: str) -> Any:
    return dataclasses.field(default=default, metadata={"help": meaning})


@dataclass(frozen=True)
class Thresholds:
    """Every threshold of the prediagnostics step (meaning and unit in each field's ``help``).

    A check removes an observation when its quality field is present (not
    fill) and the ``keep`` condition of its key does *not* hold.
    """

    ice_clim_f_max: int = _key(1, "keep ice_clim_f <= value (0 no ice, 1 uncertain, 2 ice)")
    ice_dyn_f_max: int = _key(1, "keep ice_dyn_f <= value (0 no ice, 1 partial, 2 full cover)")
    dark_frac_max: float = _key(0.6, "keep dark_frac <= value (fraction, 1)")
    xovr_cal_q_max: int = _key(1, "keep xovr_cal_q <= value")
    reach_p_width_min: float = _key(60.0, "keep prior (SWORD) reach width >= value (m)")
    node_p_width_min: float = _key(70.0, "keep prior (SWORD) node width >= value (m)")
    p_length_min: float = _key(5000.0, "keep prior (SWORD) reach length >= value (m)")
    xtrk_dist_min: float = _key(10000.0, "keep |xtrk_dist| >= value (m)")
    xtrk_dist_max: float = _key(60000.0, "keep |xtrk_dist| <= value (m)")
    obs_frac_n_min: float = _key(0.4, "keep obs_frac_n > value (strict, fraction)")
    n_good_nod_min: int = _key(0, "keep n_good_nod >= value (0: the contract sets no threshold)")
    n_good_pix_min: int = _key(10, "keep n_good_pix >= value (pixels)")
    reach_q_max: int = _key(1, "keep reach_q <= value (0 good, 1 suspect, 2 degraded, 3 bad)")
    node_q_max: int = _key(1, "keep node_q <= value (same scale)")
    reach_q_b_mask: int = _key(0, "remove where reach_q_b & mask != 0 (0: bit check off)")
    node_q_b_mask: int = _key(0, "remove where node_q_b & mask != 0 (0: bit check off)")
    tukey_k: float = _key(1.5, "outside [Q1 - k IQR, Q3 + k IQR] is an outlier")
    tukey_min_samples: int = _key(5, "fewer valid values over time: no outlier test")

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
    if cfg.tukey_k < 0:
        raise ConfluenceError(f"key 'tukey_k' must be 0 or more, not {cfg.tukey_k}", path)
    return cfg


def describe() -> str:
    """One line per config key: ``name = default  meaning`` (for ``--help``)."""
    return "\n".join(f"{f.name} = {f.default}  ({f.metadata['help']})" for f in fields(Thresholds))
