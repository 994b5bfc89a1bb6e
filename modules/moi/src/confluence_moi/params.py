"""Flow-law parameters for the integrated mean, driven by the table ``moi_params.toml``.

After integration an algorithm's reach discharge series is scaled by
``k = qbar_basinScale / qbar_reachScale`` (the integrated over the raw mean):
the timing and relative amplitude of the algorithm's hydrograph are kept and
its mean becomes the integrated one.  Each parameter then follows as
``transform(value) * k**power``; the table says, per algorithm, which
parameter goes where and why (exact for Manning-type laws, where discharge is
inversely proportional to the roughness).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

#: Transforms of a source value before scaling.
TRANSFORMS: dict[str, Callable[[float], float]] = {"none": lambda v: v, "exp": lambda v: float(np.exp(v))}


@dataclass(frozen=True)
class ParamRule:
    """How one MOI parameter follows from an FLPE parameter (a row of ``moi_params.toml``)."""

    name: str
    source: str
    transform: str
    power: float


@cache
def table() -> dict[str, tuple[ParamRule, ...]]:
    """MOI group name -> its parameter rules, in file order."""
    text = resources.files("confluence_moi").joinpath("moi_params.toml").read_text()
    out = {}
    for group, row in tomllib.loads(text).items():
        rules = tuple(ParamRule(r["name"], r["source"], r["transform"], float(r["power"])) for r in row["params"])
        for r in rules:
            if r.transform not in TRANSFORMS:
                raise ValueError(f"moi_params.toml: [{group}] {r.name}: unknown transform {r.transform!r}")
        out[group] = rules
    return out


def rules_for(group: str) -> tuple[ParamRule, ...]:
    """The parameter rules of MOI group ``group`` (empty for an algorithm the table does not know)."""
    return table().get(group, ())


def adjust(group: str, flpe_params: Mapping[str, float], k: float) -> dict[str, float]:
    """Parameters of ``group`` for a discharge series scaled by ``k``.

    Parameters
    ----------
    group : str
        MOI group name (``geobam``, ``metroman`` ...).
    flpe_params : mapping
        The algorithm's parameters as read by ``confluence_core.flpe.read_result``
        (NaN where absent).
    k : float
        Integrated over raw reach mean flow (dimensionless); NaN when unknown.

    Returns
    -------
    dict
        MOI parameter name -> value (NaN where the source is absent or ``k`` unknown).
    """
    out = {}
    for rule in rules_for(group):
        raw = float(flpe_params.get(rule.source, np.nan)) if rule.source else np.nan
        value = float(TRANSFORMS[rule.transform](raw))
        out[rule.name] = value * k**rule.power if rule.power else value
    return out


def scale_series(q: np.ndarray, k: float) -> np.ndarray:
    """The discharge series scaled by ``k`` (m3/s); non-positive and missing values stay missing (NaN)."""
    q = np.asarray(q, dtype=np.float64)
    return np.where(np.isfinite(q) & (q > 0), q * k, np.nan)
