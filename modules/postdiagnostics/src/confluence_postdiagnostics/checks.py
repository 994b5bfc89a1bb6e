"""Pure checks behind the postdiagnostics flags: arrays in, flags out, no files.

Flag values (int32, the same for every flag variable; fill -999):

====  ==========================================================================
  0   pass: realistic / stable / consistent before and after integration
  1   flagged: unrealistic / unstable / changed by the integration
  2   no reference: nothing to compare with (stability: no previous result;
      pre/post: no FLPE result), so neither stable nor unstable
-999  no result: the algorithm wrote nothing for this reach
====  ==========================================================================

Realism (Durand et al. 2016, doi:10.1002/2015WR018434, judge flow-law
estimates by their plausibility against priors): a series fails when it holds a
negative or infinite flow or no finite flow at all, when a flow leaves the prior
range ``[min_q / factor, max_q * factor]`` of the SoS model (m3/s), or when a
flow-law parameter leaves its physical range (:data:`ranges.toml`).

Stability and pre/post: the relative change of the mean flow,
``|mean_new - mean_ref| / |mean_ref|``, above a threshold.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
from confluence_core.fill import INT_FILL

PASS = 0
FLAGGED = 1
NO_REFERENCE = 2
NO_RESULT = INT_FILL

#: Default relative change of the mean flow above which a result is unstable (10 %).
DEFAULT_THRESHOLD = 0.1
#: Default relative change of the mean flow by the integration (MOI) above which it is flagged (25 %).
DEFAULT_PREPOST_THRESHOLD = 0.25
#: Default tolerance on the SoS flow bounds: flows in [min_q / 2, max_q * 2] are realistic.
DEFAULT_BOUNDS_FACTOR = 2.0


@dataclass(frozen=True)
class ParamRange:
    """The physical range of one flow-law parameter."""

    name: str
    min: float = -math.inf
    max: float = math.inf
    min_exclusive: bool = False
    units: str = ""
    what: str = ""

    def contains(self, value: float) -> bool:
        """True when ``value`` is finite and inside the range."""
        if not math.isfinite(value):
            return False
        above = value > self.min if self.min_exclusive else value >= self.min
        return above and value <= self.max

    def describe(self) -> str:
        """``"A0 > 0 m2"``-like text."""
        low = f"{'>' if self.min_exclusive else '>='} {self.min:g}" if math.isfinite(self.min) else ""
        high = f"<= {self.max:g}" if math.isfinite(self.max) else ""
        return f"{self.name} {' and '.join(p for p in (low, high) if p)} {self.units}".strip()


@cache
def param_ranges() -> dict[str, ParamRange]:
    """The table of ``ranges.toml``, keyed by lower-case parameter name."""
    table = tomllib.loads(resources.files(__package__).joinpath("ranges.toml").read_text())
    return {name.lower(): ParamRange(name=name, **row) for name, row in table.items()}


def series_mean(q: np.ndarray | None) -> float:
    """Mean of the finite values of ``q`` (m3/s); NaN when there is none."""
    if q is None:
        return math.nan
    arr = np.asarray(q, dtype=np.float64)
    ok = np.isfinite(arr)
    return float(arr[ok].mean()) if ok.any() else math.nan


def flow_problems(q: np.ndarray, min_q: float = math.nan, max_q: float = math.nan,
                  factor: float = DEFAULT_BOUNDS_FACTOR) -> list[str]:
    """Reasons why a discharge series is unrealistic (empty when realistic).

    Parameters
    ----------
    q : numpy.ndarray
        Discharge on ``nt`` (m3/s), NaN where not estimated.
    min_q, max_q : float
        Prior flow bounds of the reach (SoS ``model/min_q``, ``max_q``, m3/s);
        NaN or non-positive skips that side.
    factor : float
        Tolerance (> 1): the accepted range is ``[min_q / factor, max_q * factor]``.

    Returns
    -------
    list of str
        One short text per failed check.
    """
    arr = np.asarray(q, dtype=np.float64)
    problems = []
    if np.isinf(arr).any():
        problems.append("infinite flow")
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        return [*problems, "no finite flow"]
    if (finite < 0).any():
        problems.append(f"{int((finite < 0).sum())} negative flow(s)")
    if np.isfinite(min_q) and min_q > 0 and (low := finite < min_q / factor).any():
        problems.append(f"{int(low.sum())} flow(s) below min_q/{factor:g} = {min_q / factor:.4g} m3/s")
    if np.isfinite(max_q) and max_q > 0 and (high := finite > max_q * factor).any():
        problems.append(f"{int(high.sum())} flow(s) above max_q*{factor:g} = {max_q * factor:.4g} m3/s")
    return problems


def parameter_problems(params: Mapping[str, float], ranges: Mapping[str, ParamRange] | None = None) -> list[str]:
    """Reasons why flow-law parameters are unphysical: one text per parameter out of its range.

    Parameters
    ----------
    params : mapping of str to float
        Parameter name -> value (units of the range table); NaN means "not
        estimated" and is not a problem (an algorithm that did not run is
        caught by :func:`flow_problems`).
    ranges : mapping, optional
        Lower-case name -> :class:`ParamRange`; default :func:`param_ranges`.
    """
    table = param_ranges() if ranges is None else ranges
    out = []
    for name, value in params.items():
        rng = table.get(name.lower())
        if rng is not None and np.isfinite(value) and not rng.contains(float(value)):
            out.append(f"{name} = {value:.4g} outside {rng.describe()}")
    return out


def relative_change(new: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """``|new - ref| / |ref|`` elementwise; ``ref == 0``: 0 when ``new == 0`` else inf; NaN in, NaN out."""
    new = np.asarray(new, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    diff = np.abs(new - ref)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = diff / np.abs(ref)
    return np.where(ref == 0, np.where(diff == 0, 0.0, np.inf), rel)


def change_flags(new_mean: np.ndarray, ref_mean: np.ndarray, has_new: np.ndarray, has_ref: np.ndarray,
                 threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Flag each algorithm whose mean flow moved by more than ``threshold`` from its reference.

    Used for stability (reference: the previous run) and pre/post integration
    (reference: the FLPE mean, new: the integrated mean).

    Parameters
    ----------
    new_mean, ref_mean : numpy.ndarray
        Mean flows per algorithm (m3/s); NaN where the series has no finite flow.
    has_new, has_ref : numpy.ndarray of bool
        Whether a new result / a reference result exists at all.
    threshold : float
        Relative change (fraction, e.g. 0.1 for 10 %) above which a result is flagged.

    Returns
    -------
    flags : numpy.ndarray of int32
        :data:`PASS`, :data:`FLAGGED`, :data:`NO_REFERENCE` or :data:`NO_RESULT` per algorithm.
    rel : numpy.ndarray of float64
        The relative change (NaN where not computable).
    """
    new_mean = np.asarray(new_mean, dtype=np.float64)
    ref_mean = np.asarray(ref_mean, dtype=np.float64)
    rel = relative_change(new_mean, ref_mean)
    flags = np.where(rel > threshold, FLAGGED, PASS)
    # a result that lost every flow its reference had is a change too
    flags = np.where(~np.isfinite(new_mean) & np.isfinite(ref_mean), FLAGGED, flags)
    flags = np.where(~np.asarray(has_ref, bool) | ~np.isfinite(ref_mean), NO_REFERENCE, flags)
    flags = np.where(~np.asarray(has_new, bool), NO_RESULT, flags)
    return flags.astype(np.int32), np.where(np.isfinite(rel), rel, np.nan)


def realism_flags(problems: list[list[str] | None]) -> np.ndarray:
    """int32 realism flag per algorithm: :data:`NO_RESULT` (None), :data:`FLAGGED` (problems) or :data:`PASS`."""
    return np.asarray([NO_RESULT if p is None else (FLAGGED if p else PASS) for p in problems], dtype=np.int32)
