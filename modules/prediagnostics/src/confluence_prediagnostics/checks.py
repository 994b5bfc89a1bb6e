"""The science of prediagnostics: quality flags, then the hydraulic outlier test.

Pure functions, numpy arrays in and out, no files.  Every array holds one
SWOT field with fill values already turned into NaN; a mask is ``True``
where an observation is *removed*.  A check only ever removes a value whose
quality field is present: a NaN (fill) quality value is not a failure.

Quality flags follow the SWOT RiverSP product description (JPL D-56413,
"SWOT Product Description: Level 2 KaRIn High Rate River Single Pass Vector
Product", version C, 2024; fields ``reach_q``, ``reach_q_b``, ``node_q``,
``node_q_b``, ``ice_clim_f``, ``ice_dyn_f``, ``dark_frac``, ``area_total``,
``xovr_cal_q``, ``xtrk_dist``, ``obs_frac_n``, ``n_good_pix``) and the
thresholds of contracts.md section 9:

- ``reach_q`` / ``node_q`` (0 good, 1 suspect, 2 degraded, 3 bad): 3 is
  removed, 0-2 kept.  The summary flag is read off the bitwise flag
  (suspect below 2^18, degraded from bit 18, bad from bit 22), and the RiverSP
  processor builds ``reach_q_b`` as the bitwise OR of the ``node_q_b`` of every
  node in the reach fit, so one node that had to use degraded pixels
  (classification_qual_degraded, bit 18; geolocation_qual_degraded, bit 19)
  marks the whole reach degraded.  That says the value may be poor, not that
  it is: a degraded pass is kept and judged by the other flags and the outlier
  test.
- ``reach_q_b`` / ``node_q_b``: removed where a bad bit (22-31) is set
  (:data:`~.config.BAD_BITS`: lake_flagged, below_min_fit_points, no area, no
  WSE, no pixels; node: wse_outlier, wse_bad).
- ``ice_clim_f`` (climatology) and ``ice_dyn_f`` (optical imagery of the day):
  2 (likely fully / fully ice covered) removed, as the contract sets.
- ``dark_frac`` (fraction of ``area_total`` that is dark water, i.e. water
  SWOT did not detect and the product filled in from a prior water likelihood
  map): above 0.6 (the contract's threshold) the width is largely the prior's,
  so the pass is *suspect*: it does not shape the WSE-width relation and is
  removed only when its WSE or width disagrees with the relation of the other
  passes (or cannot be checked: too few bright passes, or a value missing).
- ``xovr_cal_q`` 2 (bad crossover calibration), prior width / length,
  cross-track distance, ``obs_frac_n``, ``n_good_pix``: contract thresholds.

The outlier test (after the quality flags) judges WSE and width against the
robust monotone WSE-width relation of the reach (per node for node values)
and slope against the slopes of the passes nearest in WSE
(:mod:`.outliers`, which cites the methods).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .config import Thresholds
from .outliers import nanmedian_last, neighbour_outliers, relation_outliers, reported_floor

#: Measurement variables a removal sets to fill (present ones only), per group.
MEASUREMENTS: tuple[str, ...] = (
    "width", "width_u", "wse", "wse_u", "slope", "slope_u", "slope2", "slope2_u", "d_x_area", "d_x_area_u",
)
#: Variables whose values make an observation "observed" (the ``_u`` follow them).
PRIMARY: tuple[str, ...] = ("width", "wse", "slope", "slope2", "d_x_area")
#: Variables tested for outliers over time, per group (node slopes are the reach's).
REACH_OUTLIER_VARS: tuple[str, ...] = ("width", "wse", "slope", "slope2")
NODE_OUTLIER_VARS: tuple[str, ...] = ("width", "wse")
#: Node measurements of the node itself (the others repeat the reach values).
NODE_OWN: tuple[str, ...] = ("width", "wse")
#: The quality check whose failure makes an observation suspect rather than removed.
SUSPECT_CHECK = "dark_frac"
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
    ``reach_seen`` / ``node_seen``: the observations counted: passes with any
    measurement; node observations with a node width or WSE (not only the
    reach values every node repeats).
    ``skipped``: ``"reach/<flag>"`` -> why a check did not run.
    """

    reach_flags: dict[str, np.ndarray] = field(default_factory=dict)
    node_flags: dict[str, np.ndarray] = field(default_factory=dict)
    reach_removed: dict[str, np.ndarray] = field(default_factory=dict)
    node_removed: dict[str, np.ndarray] = field(default_factory=dict)
    reach_seen: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    node_seen: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    skipped: dict[str, str] = field(default_factory=dict)
    n_observed: int = 0
    n_kept: int = 0

    @property
    def usable(self) -> bool:
        """True when at least one reach or node value survives."""
        return self.n_kept > 0

    def counts(self, level: str) -> dict[str, Any]:
        """Per-rule counts of one level (``"reach"``: passes, ``"node"``: node observations).

        Returns ``{"observations": n, "removed_by": {flag: n, ...}, "removed": n, "kept": n}``: an
        observation removed by several rules is counted under each of them, once in ``removed``.
        """
        flags, seen = (self.reach_flags, self.reach_seen) if level == "reach" else (self.node_flags, self.node_seen)
        return counts(flags, seen)


def counts(flags: Mapping[str, np.ndarray], seen: np.ndarray) -> dict[str, Any]:
    """``{"observations", "removed_by": {flag: n}, "removed", "kept"}`` over the observations ``seen``."""
    seen = np.asarray(seen, dtype=bool)
    by = {name: int(np.count_nonzero(np.asarray(mask, dtype=bool) & seen))
          for name, mask in flags.items() if name != "removed"}
    removed = np.zeros(seen.shape, dtype=bool)
    for name, mask in flags.items():
        if name != "removed":
            removed |= np.asarray(mask, dtype=bool)
    n_removed = int(np.count_nonzero(removed & seen))
    n_seen = int(np.count_nonzero(seen))
    return {"observations": n_seen, "removed_by": by, "removed": n_removed, "kept": n_seen - n_removed}


def observed(
    fields: Mapping[str, np.ndarray | None], shape: tuple[int, ...], names: tuple[str, ...] = PRIMARY,
) -> np.ndarray:
    """``True`` where any of the measurements ``names`` (default width, wse, slope, slope2, d_x_area)
    is finite."""
    out = np.zeros(shape, dtype=bool)
    for name in names:
        values = fields.get(name)
        if values is not None:
            out |= np.isfinite(values)
    return out


def _quality(
    level: str, checks: tuple[Check, ...], fields: Mapping[str, np.ndarray | None], seen: np.ndarray,
    cfg: Thresholds, outcome: Outcome, flags: dict[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Run the quality checks: (removed by a check, suspect).  Flags of every check but the suspect one."""
    removed = np.zeros(seen.shape, dtype=bool)
    suspect = np.zeros(seen.shape, dtype=bool)
    for check in checks:
        values = fields.get(check.field)
        if values is None:
            flags[check.flag] = np.zeros(seen.shape, dtype=bool)
            outcome.skipped[f"{level}/{check.flag}"] = f"field {check.field} absent"
            continue
        if seen.ndim == 2 and np.ndim(values) == 1:  # one value per node (node p_width)
            values = np.asarray(values)[:, np.newaxis]
        mask = run_check(check, np.broadcast_to(values, seen.shape), cfg) & seen
        if check.flag == SUSPECT_CHECK:  # decided after the outlier test; keep the registry order
            suspect = mask
            flags[check.flag] = np.zeros(seen.shape, dtype=bool)
            continue
        flags[check.flag] = mask
        removed |= mask
    return removed, suspect


def _get(fields: Mapping[str, np.ndarray | None], name: str, shape: tuple[int, ...]) -> np.ndarray | None:
    values = fields.get(name)
    return None if values is None else np.broadcast_to(np.asarray(values, dtype=np.float64), shape)


def _width_floor(width: np.ndarray, width_u: np.ndarray | None, cfg: Thresholds) -> np.ndarray:
    """Per-row width error (m): the median reported width_u, at most (or else) a share of the median width."""
    med = nanmedian_last(width)  # NaN for rows without any width
    default = cfg.width_sigma_min_rel * np.abs(med)
    return reported_floor(width_u, np.where(np.isfinite(default), default, 0.0))


def _outliers(
    level: str, fields: Mapping[str, np.ndarray | None], removed: np.ndarray, suspect: np.ndarray,
    cfg: Thresholds, outcome: Outcome, flags: dict[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The hydraulic outlier test on the values the quality checks kept.

    Returns the outlier mask per variable and the suspect observations that failed it
    (or could not be checked).
    """
    shape = removed.shape
    kept = {name: None if (v := _get(fields, name, shape)) is None else np.where(removed, np.nan, v)
            for name in ("wse", "width", "slope", "slope2")}
    zeros = np.zeros(shape, dtype=bool)
    out: dict[str, np.ndarray] = {}
    wse, width = kept["wse"], kept["width"]
    failed_suspect = suspect.copy()
    if wse is not None or width is not None:
        h = np.full(shape, np.nan) if wse is None else wse
        w = np.full(shape, np.nan) if width is None else width
        test = relation_outliers(
            h, w, reported_floor(_get(fields, "wse_u", shape), cfg.wse_sigma_min),
            _width_floor(w, _get(fields, "width_u", shape), cfg),
            cfg.outlier_k, cfg.outlier_min_samples, suspect=suspect,
        )
        out["wse"], out["width"] = test.wse, test.width
        failed_suspect = suspect & ~(test.tested & ~test.wse & ~test.width)
    for name in ("wse", "width"):
        if kept[name] is None:
            out[name] = zeros
            outcome.skipped[f"{level}/{name}_outliers"] = f"field {name} absent"
    if level == "reach":
        key = np.where(failed_suspect | out["wse"], np.nan, np.full(shape, np.nan) if wse is None else wse)
        for name in ("slope", "slope2"):
            values = kept[name]
            if values is None:
                out[name] = zeros
                outcome.skipped[f"{level}/{name}_outliers"] = f"field {name} absent"
                continue
            if wse is None:
                outcome.skipped[f"{level}/{name}_outliers"] = "field wse absent: no hydraulic neighbours"
                out[name] = zeros
                continue
            floor = reported_floor(_get(fields, f"{name}_u", shape), cfg.slope_sigma_min)
            out[name], _ = neighbour_outliers(np.where(failed_suspect, np.nan, values), key, floor,
                                              cfg.outlier_k, cfg.outlier_min_samples, cfg.slope_neighbours)
    for name in out:
        out[name] = out[name] & ~failed_suspect  # a failed suspect goes whole, under its own flag
        flags[f"{name}_outliers"] = out[name]
    return out, failed_suspect


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


def _level(
    level: str, checks: tuple[Check, ...], fields: Mapping[str, np.ndarray | None], shape: tuple[int, ...],
    cfg: Thresholds, outcome: Outcome, flags: dict[str, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Quality checks then outlier test of one level: (seen, whole-observation removal, outliers)."""
    seen = observed(fields, shape)
    quality, suspect = _quality(level, checks, fields, seen, cfg, outcome, flags)
    outliers, failed_suspect = _outliers(level, fields, quality, suspect, cfg, outcome, flags)
    flags[SUSPECT_CHECK] = failed_suspect & seen
    return seen, quality | flags[SUSPECT_CHECK], outliers


def prediagnose(
    reach: Mapping[str, np.ndarray | None], node: Mapping[str, np.ndarray | None], cfg: Thresholds,
    nt: int | None = None, nx: int | None = None,
) -> Outcome:
    """Run every quality check, then the hydraulic outlier test, on one reach.

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

    r_seen, r_quality, r_out = _level("reach", REACH_CHECKS, reach, (nt,), cfg, outcome, outcome.reach_flags)
    outcome.reach_removed = _removals(reach, r_quality, r_out)

    n_seen, n_quality, n_out = _level("node", NODE_CHECKS, node, (nx, nt), cfg, outcome, outcome.node_flags)
    for name in ("slope", "slope2"):  # node slopes are the reach slopes: same flags on every node
        reach_flag = r_out.get(name, np.zeros(nt, dtype=bool))
        outcome.node_flags[f"{name}_outliers"] = np.broadcast_to(reach_flag, (nx, nt)) & n_seen
    node_removed = _removals(node, n_quality, n_out)
    for name in NODE_COPIES_OF_REACH:
        if name in node_removed and name in outcome.reach_removed:
            node_removed[name] = node_removed[name] | outcome.reach_removed[name][np.newaxis, :]
    outcome.node_removed = node_removed

    for flags, seen in ((outcome.reach_flags, r_seen), (outcome.node_flags, n_seen)):
        flags["removed"] = np.logical_or.reduce([m for k, m in flags.items() if k != "removed"]) & seen
    own = observed(node, (nx, nt), NODE_OWN)
    outcome.reach_seen, outcome.node_seen = r_seen, own
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
