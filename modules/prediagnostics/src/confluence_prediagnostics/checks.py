"""The science of prediagnostics: quality masks and the Tukey outlier filter.

Pure functions, numpy arrays in and out, no files.  Every array holds one
SWOT field with fill values already turned into NaN; a mask is ``True``
where an observation is *removed*.  A check only ever removes a value whose
quality field is present: a NaN (fill) quality value is not a failure.

Thresholds follow the public Confluence workflow (contracts.md section 9)
and the SWOT River Single-Pass product description (JPL D-56413, "SWOT
Product Description: Level 2 KaRIn High Rate River Single Pass Vector
Product", fields ``reach_q``, ``node_q``, ``ice_clim_f``, ``ice_dyn_f``,
``dark_frac``, ``xovr_cal_q``, ``xtrk_dist``, ``obs_frac_n``, ``n_good_pix``).
The outlier rule is Tukey's fences: J. W. Tukey (1977), *Exploratory Data
Analysis*, Addison-Wesley, ISBN 978-0-201-07616-5.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .config import Thresholds

#: Measurement variables a removal sets to fill (present ones only), per group.
MEASUREMENTS: tuple[str, ...] = (
    "width", "width_u", "wse", "wse_u", "slope", "slope_u", "slope2", "slope2_u", "d_x_area", "d_x_area_u",
)
#: Variables whose values make an observation "observed" (the ``_u`` follow them).
PRIMARY: tuple[str, ...] = ("width", "wse", "slope", "slope2", "d_x_area")
#: Variables tested for outliers over time, per group.
REACH_OUTLIER_VARS: tuple[str, ...] = ("width", "wse", "slope", "slope2")
NODE_OUTLIER_VARS: tuple[str, ...] = ("width", "wse")
#: Node variables that are the reach value repeated on every node (contracts.md section 6).
NODE_COPIES_OF_REACH: tuple[str, ...] = ("slope", "slope_u", "slope2", "slope2_u", "d_x_area", "d_x_area_u")


# --- single checks -----------------------------------------------------------------------------


def fails_max(values: np.ndarray, maximum: float) -> np.ndarray:
    """Remove where ``values > maximum`` (keep ``values <= maximum``); NaN is kept.

    Used for ``ice_clim_f``, ``ice_dyn_f`` (flags 0/1/2), ``dark_frac`` (1),
    ``xovr_cal_q`` and the summary quality ``reach_q`` / ``node_q``.
    """
    v = np.asarray(values, dtype=np.float64)
    return np.isfinite(v) & (v > maximum)


def fails_min(values: np.ndarray, minimum: float) -> np.ndarray:
    """Remove where ``values < minimum`` (keep ``values >= minimum``); NaN is kept.

    Used for the prior width ``p_width`` (m), ``p_length`` (m), ``n_good_pix``
    and ``n_good_nod`` (counts).
    """
    v = np.asarray(values, dtype=np.float64)
    return np.isfinite(v) & (v < minimum)


def fails_above(values: np.ndarray, bound: float) -> np.ndarray:
    """Remove where ``values <= bound`` (keep ``values > bound``, strict); NaN is kept.

    Used for ``obs_frac_n`` (fraction of the reach's nodes with a valid WSE).
    """
    v = np.asarray(values, dtype=np.float64)
    return np.isfinite(v) & (v <= bound)


def fails_abs_range(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Remove where ``|values|`` is outside ``[low, high]``; NaN is kept.

    Used for the cross-track distance ``xtrk_dist`` (m, signed: left/right of
    nadir).  Near nadir (< 10 km) and far swath (> 60 km) measurements are the
    noisiest of the KaRIn swath.
    """
    a = np.abs(np.asarray(values, dtype=np.float64))
    return np.isfinite(a) & ((a < low) | (a > high))


def fails_bits(values: np.ndarray, mask: int) -> np.ndarray:
    """Remove where the bit flag ``values`` shares a bit with ``mask``; NaN is kept.

    Used for ``reach_q_b`` / ``node_q_b`` (bitwise quality of the RiverSP
    product).  ``mask = 0`` turns the check off.
    """
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    bits = np.where(finite, v, 0).astype(np.int64)
    removed: np.ndarray = finite & ((bits & int(mask)) != 0)
    return removed


def tukey_outliers(values: np.ndarray, k: float = 1.5, min_samples: int = 5) -> np.ndarray:
    """Tukey's fences along the last axis (time): ``True`` for outliers.

    A value is an outlier when it lies below ``Q1 - k IQR`` or above
    ``Q3 + k IQR``, with ``Q1``, ``Q3`` the 25th and 75th percentiles (linear
    interpolation) of the finite values of its row and ``IQR = Q3 - Q1``
    (Tukey 1977).  Rows with fewer than ``min_samples`` finite values (all-NaN
    rows included) have no outliers: quartiles of 2-4 values mean little.

    Parameters
    ----------
    values : ndarray, shape (..., nt)
        One variable over time (width m, wse m, slope m/m ...), NaN = missing.
    k : float
        Fence width in IQRs (1.5 in the contract).
    min_samples : int
        Fewest finite values a row needs to be tested.

    Returns
    -------
    ndarray of bool, same shape as ``values``
    """
    v = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(v)
    if v.size == 0 or v.ndim == 0:
        return np.zeros(v.shape, dtype=bool)
    enough = finite.sum(axis=-1, keepdims=True) >= max(int(min_samples), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: quartiles are NaN
        q1, q3 = np.nanpercentile(v, [25.0, 75.0], axis=-1, keepdims=True)
    iqr = q3 - q1
    with np.errstate(invalid="ignore"):
        outside = (v < q1 - k * iqr) | (v > q3 + k * iqr)
    outliers: np.ndarray = finite & enough & outside
    return outliers


# --- the registry of quality checks ------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One quality check: the flag it writes, the field it reads, its rule and threshold keys."""

    flag: str
    field: str
    rule: str
    keys: tuple[str, ...]
    long_name: str


#: rule name -> function(values, *thresholds) -> removal mask
RULES: dict[str, Callable[..., np.ndarray]] = {
    "max": fails_max,
    "min": fails_min,
    "above": fails_above,
    "abs_range": fails_abs_range,
    "bits": fails_bits,
}

REACH_CHECKS: tuple[Check, ...] = (
    Check("ice_clim_f", "ice_clim_f", "max", ("ice_clim_f_max",), "climatological ice cover flag"),
    Check("ice_dyn_f", "ice_dyn_f", "max", ("ice_dyn_f_max",), "dynamical ice cover flag"),
    Check("dark_frac", "dark_frac", "max", ("dark_frac_max",),
          "Fraction of reach area_total covered by dark water"),
    Check("n_good_nod", "n_good_nod", "min", ("n_good_nod_min",),
          "number of nodes in the reach that have a valid WSE"),
    Check("obs_frac_n", "obs_frac_n", "above", ("obs_frac_n_min",), "fraction of nodes that have a valid WSE"),
    Check("xovr_cal_q", "xovr_cal_q", "max", ("xovr_cal_q_max",), "quality of the cross-over calibration"),
    Check("p_width", "p_width", "min", ("reach_p_width_min",), "prior (SWORD) reach width"),
    Check("p_length", "p_length", "min", ("p_length_min",), "prior (SWORD) reach length"),
    Check("xtrk_dist", "xtrk_dist", "abs_range", ("xtrk_dist_min", "xtrk_dist_max"),
          "distance of the observation from the spacecraft nadir track"),
    Check("reach_q", "reach_q", "max", ("reach_q_max",), "summary quality indicator for the reach"),
    Check("reach_q_b", "reach_q_b", "bits", ("reach_q_b_mask",), "bitwise quality indicator for the reach"),
)

NODE_CHECKS: tuple[Check, ...] = (
    Check("ice_clim_f", "ice_clim_f", "max", ("ice_clim_f_max",), "climatological ice cover flag"),
    Check("ice_dyn_f", "ice_dyn_f", "max", ("ice_dyn_f_max",), "dynamical ice cover flag"),
    Check("dark_frac", "dark_frac", "max", ("dark_frac_max",),
          "Fraction of node area_total covered by dark water"),
    Check("xovr_cal_q", "xovr_cal_q", "max", ("xovr_cal_q_max",), "quality of the cross-over calibration"),
    Check("p_width", "p_width", "min", ("node_p_width_min",), "prior (SWORD) node width"),
    Check("xtrk_dist", "xtrk_dist", "abs_range", ("xtrk_dist_min", "xtrk_dist_max"),
          "distance of the observation from the spacecraft nadir track"),
    Check("n_good_pix", "n_good_pix", "min", ("n_good_pix_min",), "number of pixels that have a valid WSE"),
    Check("node_q", "node_q", "max", ("node_q_max",), "summary quality indicator for the node"),
    Check("node_q_b", "node_q_b", "bits", ("node_q_b_mask",), "bitwise quality indicator for the node"),
)


def run_check(check: Check, values: np.ndarray, cfg: Thresholds) -> np.ndarray:
    """Apply ``check`` to ``values`` with the thresholds of ``cfg``."""
    return RULES[check.rule](values, *(getattr(cfg, key) for key in check.keys))


# --- the whole step ----------------------------------------------------------------------------


@dataclass
class Outcome:
    """What the step decided for one reach.

    ``reach_flags`` / ``node_flags``: flag name -> bool mask, shapes (nt,) and
    (nx, nt) (``True`` = removed by that check).  ``reach_removed`` /
    ``node_removed``: measurement variable -> bool mask of values set to fill.
    ``skipped``: ``"reach/<flag>"`` -> why a check did not run.
    """

    reach_flags: dict[str, np.ndarray] = field(default_factory=dict)
    node_flags: dict[str, np.ndarray] = field(default_factory=dict)
    reach_removed: dict[str, np.ndarray] = field(default_factory=dict)
    node_removed: dict[str, np.ndarray] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    n_observed: int = 0
    n_kept: int = 0

    @property
    def usable(self) -> bool:
        """True when at least one reach or node value survives."""
        return self.n_kept > 0


def observed(fields: Mapping[str, np.ndarray | None], shape: tuple[int, ...]) -> np.ndarray:
    """``True`` where any primary measurement (width, wse, slope, slope2, d_x_area) is finite."""
    out = np.zeros(shape, dtype=bool)
    for name in PRIMARY:
        values = fields.get(name)
        if values is not None:
            out |= np.isfinite(values)
    return out


def _quality(
    level: str, checks: tuple[Check, ...], fields: Mapping[str, np.ndarray | None], seen: np.ndarray,
    cfg: Thresholds, outcome: Outcome, flags: dict[str, np.ndarray],
) -> np.ndarray:
    removed = np.zeros(seen.shape, dtype=bool)
    for check in checks:
        values = fields.get(check.field)
        if values is None:
            flags[check.flag] = np.zeros(seen.shape, dtype=bool)
            outcome.skipped[f"{level}/{check.flag}"] = f"field {check.field} absent"
            continue
        if seen.ndim == 2 and np.ndim(values) == 1:  # one value per node (node p_width)
            values = np.asarray(values)[:, np.newaxis]
        mask = run_check(check, np.broadcast_to(values, seen.shape), cfg) & seen
        flags[check.flag] = mask
        removed |= mask
    return removed


def _outliers(
    level: str, names: tuple[str, ...], fields: Mapping[str, np.ndarray | None], removed: np.ndarray,
    cfg: Thresholds, outcome: Outcome, flags: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name in names:
        values = fields.get(name)
        if values is None:
            out[name] = np.zeros(removed.shape, dtype=bool)
            outcome.skipped[f"{level}/{name}_outliers"] = f"field {name} absent"
        else:
            kept = np.where(removed, np.nan, values)
            out[name] = tukey_outliers(kept, cfg.tukey_k, cfg.tukey_min_samples)
        flags[f"{name}_outliers"] = out[name]
    return out


def _removals(
    fields: Mapping[str, np.ndarray | None], quality: np.ndarray, outliers: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Measurement variable -> values removed: the quality mask, its own outliers, and
    for d_x_area the width and wse outliers (a change of area is built from both)."""
    zeros = np.zeros(quality.shape, dtype=bool)
    own = {
        "width": outliers.get("width", zeros),
        "wse": outliers.get("wse", zeros),
        "slope": outliers.get("slope", zeros),
        "slope2": outliers.get("slope2", zeros),
    }
    own["d_x_area"] = own["width"] | own["wse"]
    out: dict[str, np.ndarray] = {}
    for name in MEASUREMENTS:
        if fields.get(name) is not None:
            out[name] = quality | own[name.removesuffix("_u")]
    return out


def _kept(fields: Mapping[str, np.ndarray | None], removed: Mapping[str, np.ndarray]) -> int:
    total = 0
    for name in PRIMARY:
        values = fields.get(name)
        if values is not None:
            gone = removed.get(name)
            keep = np.isfinite(values) if gone is None else np.isfinite(values) & ~gone
            total += int(np.count_nonzero(keep))
    return total


def prediagnose(
    reach: Mapping[str, np.ndarray | None], node: Mapping[str, np.ndarray | None], cfg: Thresholds,
    nt: int | None = None, nx: int | None = None,
) -> Outcome:
    """Run every quality check, then the Tukey filter, on one reach.

    Parameters
    ----------
    reach : mapping of str to ndarray (nt,) or None
        Reach fields (fills as NaN): the measurements (width m, wse m, slope and
        slope2 m/m, d_x_area m2 and their ``_u``) and the quality fields of
        :data:`REACH_CHECKS`; ``p_width`` / ``p_length`` (m) may be scalars.
        ``None`` or a missing key means the field is absent: its check is skipped.
    node : mapping of str to ndarray (nx, nt) or None
        Node fields, the same way (``p_width`` may be (nx, 1)).
    cfg : Thresholds
    nt, nx : int, optional
        Number of times and nodes (default: from the arrays; give them when a
        group may be empty or absent).

    Returns
    -------
    Outcome
        Flags per check and removal masks per variable.  Reach checks act on
        reach values, node checks on node values; the node copies of reach
        values (slope, slope2, d_x_area and ``_u``) are also removed wherever
        the reach value is.  d_x_area goes wherever width or wse goes.
    """
    nt = _length(reach, node) if nt is None else nt
    nx = _nodes(node) if nx is None else nx
    outcome = Outcome()

    r_seen = observed(reach, (nt,))
    r_quality = _quality("reach", REACH_CHECKS, reach, r_seen, cfg, outcome, outcome.reach_flags)
    r_out = _outliers("reach", REACH_OUTLIER_VARS, reach, r_quality, cfg, outcome, outcome.reach_flags)
    outcome.reach_removed = _removals(reach, r_quality, r_out)

    n_seen = observed(node, (nx, nt))
    n_quality = _quality("node", NODE_CHECKS, node, n_seen, cfg, outcome, outcome.node_flags)
    n_out = _outliers("node", NODE_OUTLIER_VARS, node, n_quality, cfg, outcome, outcome.node_flags)
    for name in ("slope", "slope2"):  # node slopes are the reach slopes: same flags on every node
        outcome.node_flags[f"{name}_outliers"] = np.broadcast_to(r_out[name], (nx, nt)).copy()
    node_removed = _removals(node, n_quality, n_out)
    for name in NODE_COPIES_OF_REACH:
        if name in node_removed and name in outcome.reach_removed:
            node_removed[name] = node_removed[name] | outcome.reach_removed[name][np.newaxis, :]
    outcome.node_removed = node_removed

    outcome.reach_flags["removed"] = np.logical_or.reduce(list(outcome.reach_flags.values())) & r_seen
    outcome.node_flags["removed"] = np.logical_or.reduce(list(outcome.node_flags.values())) & n_seen
    outcome.n_observed = int(r_seen.sum() + n_seen.sum())
    outcome.n_kept = _kept(reach, outcome.reach_removed) + _kept(node, outcome.node_removed)
    return outcome


def _length(reach: Mapping[str, np.ndarray | None], node: Mapping[str, np.ndarray | None]) -> int:
    for values in reach.values():
        if values is not None and np.ndim(values) == 1:
            return int(np.shape(values)[0])
    for values in node.values():
        if values is not None and np.ndim(values) == 2:
            return int(np.shape(values)[1])
    return 0


def _nodes(node: Mapping[str, np.ndarray | None]) -> int:
    for values in node.values():
        if values is not None and np.ndim(values) == 2:
            return int(np.shape(values)[0])
    return 0


def apply_removal(values: np.ndarray, removed: np.ndarray, fill: float) -> np.ndarray:
    """Return a copy of ``values`` (raw, fills kept) with ``removed`` entries set to ``fill``."""
    out = np.array(values, copy=True)
    out[np.broadcast_to(removed, out.shape)] = fill
    return out
