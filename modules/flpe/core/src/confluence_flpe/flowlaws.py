"""The flow laws of the FLPE algorithms: discharge from observations and parameters, one place for all.

Each FLPE algorithm names its flow law in its workflow-table row (``[steps.flpe]
flowlaw``) and maps the law's parameters to the variables of its output file
(``params``).  The algorithm itself, MOI (which integrates the parameters over
a basin) and offline (which recomputes discharge from the integrated
parameters) all evaluate the law through this module, never through a copy.

A law gives, for parameters ``p`` and a reach's observations
(:class:`FlowObs`: width W, water-surface elevation H, slope S, area change dA
and their 1-sigma uncertainties, all ``[nt]``, SI units):

- :meth:`FlowLaw.q`: discharge ``[nt]`` (m3/s), NaN where the law is not
  defined (non-positive width, slope or flow area);
- :meth:`FlowLaw.q_u`: its random 1-sigma uncertainty ``[nt]`` (m3/s) by
  first-order propagation of the observation errors (as the SWOT RiverSP
  product's ``dschg_*_u``), NaN where an uncertainty is unknown;
- :meth:`FlowLaw.mean_q` and :meth:`FlowLaw.with_mean`: the function pair
  that maps parameters to a mean flow and back.  Every law scales with one
  parameter (``Q ~ scale**power``, all else fixed): ``with_mean`` changes
  that parameter alone so that the law's mean over the observed times is the
  given mean flow (closed form; a bracketed root search where the law clips).

Laws (the SWOT L2_HR_RiverSP discharge laws, JPL D-56413, as RiverObs
implements them; see ``docs/science.md``)::

    manning   Q = (a0 + dA)^(5/3) W^(-2/3) S^(1/2) / n                       (BAM, SADS, SIC4DVar)
    metroman  Q = (Abar + dA)^(5/3) W^(-2/3) S^(1/2) / n,  n = na ((Abar + dA) / W)^x1
    hivdi     Q = alpha ((Abar + dA) / W)^beta (Abar + dA)^(5/3) W^(-2/3) S^(1/2)
    momma     Q = W Y^(5/3) S^(1/2) / n,  Y = r/(1+r) (H_obs - B),
              n = nb ((H - B) / (H_obs - B))^x clipped to [0.01, 0.20]   (Bjerklie; MOMMA v3.3)
    bam       Q = W D^(5/3) S^(1/2) / n,  D = Db (W / Wb)^r                  (neoBAM's shape law)

The reference area of ``a0``/``Abar`` is the stage where ``dA = 0`` (the
reach file's ``d_x_area`` reference).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike

from .interface import ReachObs

Params = Mapping[str, float]


@dataclass(frozen=True)
class FlowObs:
    """What a flow law needs of a reach's observations, ``[nt]`` each (NaN where unobserved)."""

    width: np.ndarray  # m
    wse: np.ndarray  # m
    slope: np.ndarray  # m/m
    d_x_area: np.ndarray  # m2, relative to the reach file's reference stage
    width_u: np.ndarray | None = None
    wse_u: np.ndarray | None = None
    slope_u: np.ndarray | None = None
    d_x_area_u: np.ndarray | None = None

    @classmethod
    def of(cls, obs: ReachObs) -> FlowObs:
        """The flow-law view of a reach's :class:`~confluence_flpe.interface.ReachObs`."""
        return cls(obs.width, obs.wse, obs.slope, obs.d_x_area, obs.width_u, obs.wse_u, obs.slope_u,
                   obs.d_x_area_u)

    @property
    def nt(self) -> int:
        return int(np.size(self.width))


def _positive(x: ArrayLike) -> np.ndarray:
    """``x`` as float64, NaN where it is not a finite positive number."""
    a = np.asarray(x, dtype=np.float64)
    return np.where(np.isfinite(a) & (a > 0), a, np.nan)


def _rel(u: np.ndarray | None, x: ArrayLike) -> np.ndarray:
    """``u / x`` (NaN where ``u`` is unknown)."""
    if u is None:
        return np.full(np.shape(x), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.asarray(u, dtype=np.float64) / np.asarray(x, dtype=np.float64))


class FlowLaw(abc.ABC):
    """A flow law (see the module docstring)."""

    #: Name used in the workflow table (``[steps.flpe] flowlaw``).
    name: ClassVar[str]
    #: Parameter names, in the order MOI and offline write them.
    params: ClassVar[tuple[str, ...]]
    #: The parameter discharge scales with, and how: ``Q ~ scale**power``.
    scale: ClassVar[str]
    power: ClassVar[float]

    @abc.abstractmethod
    def q(self, p: Params, o: FlowObs) -> np.ndarray:
        """Discharge (m3/s) ``[nt]``; NaN where the law is undefined."""

    @abc.abstractmethod
    def sensitivities(self, p: Params, o: FlowObs) -> list[np.ndarray]:
        """Relative-error terms ``d ln Q`` of each observation error ``[nt]`` (their squares add up)."""

    def q_u(self, p: Params, o: FlowObs) -> np.ndarray:
        """Random 1-sigma uncertainty of :meth:`q` (m3/s), first order; NaN where an error is unknown."""
        terms = self.sensitivities(p, o)
        rel = np.sqrt(np.sum([t**2 for t in terms], axis=0)) if terms else np.full(o.nt, np.nan)
        return np.asarray(self.q(p, o) * rel)

    def mean_q(self, p: Params, o: FlowObs) -> float:
        """Mean of :meth:`q` over the times where it is defined (m3/s); NaN when none is."""
        q = self.q(p, o)
        return float(np.nanmean(q)) if np.isfinite(q).any() else float("nan")

    def with_mean(self, p: Params, o: FlowObs, qbar: float) -> dict[str, float]:
        """Parameters ``p`` with :attr:`scale` changed so that ``mean_q`` equals ``qbar`` (m3/s).

        The other parameters are kept.  Closed form ``scale * (qbar / mean) ** (1 / power)`` where
        the law is a pure power of its scale; where it is not (a clipped roughness), bisection of the
        monotone ``log(mean_q)`` on ``log(scale)`` to 1e-12.  NaN parameters or means, and a mean the law cannot
        reach (every roughness at its bound), give a NaN scale.
        """
        out = {k: float(v) for k, v in p.items()}
        mean = self.mean_q(p, o)
        s = float(p.get(self.scale, np.nan))
        if not (np.isfinite(mean) and mean > 0 and np.isfinite(qbar) and qbar > 0 and np.isfinite(s) and s > 0):
            out[self.scale] = float("nan")
            return out
        out[self.scale] = s * (qbar / mean) ** (1.0 / self.power)
        got = self.mean_q(out, o)
        if np.isfinite(got) and abs(got / qbar - 1.0) < 1e-9:
            return out

        def gap(log_s: float) -> float:
            return float(np.log(self.mean_q({**out, self.scale: float(np.exp(log_s))}, o) / qbar))

        lo, hi = np.log(s) - 30.0, np.log(s) + 30.0
        g_lo, g_hi = gap(lo), gap(hi)
        if not (np.isfinite(g_lo) and np.isfinite(g_hi) and g_lo * g_hi < 0):
            out[self.scale] = float("nan")  # the mean is out of the law's reach
            return out
        while hi - lo > 1e-12:
            mid = 0.5 * (lo + hi)
            g_mid = gap(mid)
            if g_mid == 0:
                lo = hi = mid
            elif (g_mid < 0) == (g_lo < 0):
                lo, g_lo = mid, g_mid
            else:
                hi = mid
        out[self.scale] = float(np.exp(0.5 * (lo + hi)))
        return out


class Manning(FlowLaw):
    """``Q = (a0 + dA)^(5/3) W^(-2/3) S^(1/2) / n`` (Manning 1891; wide channel, hydraulic radius A/W)."""

    name = "manning"
    params = ("n", "a0")
    scale, power = "n", -1.0

    def q(self, p: Params, o: FlowObs) -> np.ndarray:
        area = _positive(p["a0"] + np.asarray(o.d_x_area, dtype=np.float64))
        w, s = _positive(o.width), _positive(o.slope)
        return np.asarray(area ** (5 / 3) * w ** (-2 / 3) * np.sqrt(s) / _positive(p["n"]))

    def sensitivities(self, p: Params, o: FlowObs) -> list[np.ndarray]:
        area = p["a0"] + np.asarray(o.d_x_area, dtype=np.float64)
        return [2 / 3 * _rel(o.width_u, o.width), 5 / 3 * _rel(o.d_x_area_u, area), 0.5 * _rel(o.slope_u, o.slope)]


class MetroMan(FlowLaw):
    """``n = na (A / W)^x1`` in Manning's equation, ``A = Abar + dA`` (Durand et al. 2014; RiverSP ``dschg_m``)."""

    name = "metroman"
    params = ("Abar", "na", "x1")
    scale, power = "na", -1.0

    def q(self, p: Params, o: FlowObs) -> np.ndarray:
        area = _positive(p["Abar"] + np.asarray(o.d_x_area, dtype=np.float64))
        w, s = _positive(o.width), _positive(o.slope)
        n = _positive(p["na"]) * (area / w) ** p["x1"]
        return np.asarray(area ** (5 / 3) * w ** (-2 / 3) * np.sqrt(s) / n)

    def sensitivities(self, p: Params, o: FlowObs) -> list[np.ndarray]:
        area = p["Abar"] + np.asarray(o.d_x_area, dtype=np.float64)
        x1 = p["x1"]
        return [(x1 - 2 / 3) * _rel(o.width_u, o.width), (5 / 3 - x1) * _rel(o.d_x_area_u, area),
                0.5 * _rel(o.slope_u, o.slope)]


class HiVDI(FlowLaw):
    """``1/n = alpha (A / W)^beta`` in Manning's equation, ``A = Abar + dA`` (Larnier et al. 2021; ``dschg_h``)."""

    name = "hivdi"
    params = ("Abar", "alpha", "beta")
    scale, power = "alpha", 1.0

    def q(self, p: Params, o: FlowObs) -> np.ndarray:
        area = _positive(p["Abar"] + np.asarray(o.d_x_area, dtype=np.float64))
        w, s = _positive(o.width), _positive(o.slope)
        strickler = _positive(p["alpha"]) * (area / w) ** p["beta"]
        return np.asarray(strickler * area ** (5 / 3) * w ** (-2 / 3) * np.sqrt(s))

    def sensitivities(self, p: Params, o: FlowObs) -> list[np.ndarray]:
        area = p["Abar"] + np.asarray(o.d_x_area, dtype=np.float64)
        beta = p["beta"]
        return [(2 / 3 + beta) * _rel(o.width_u, o.width), (5 / 3 + beta) * _rel(o.d_x_area_u, area),
                0.5 * _rel(o.slope_u, o.slope)]


#: MOMMA's channel shape r (parabolic) and its mean-over-maximum depth r / (1 + r).
MOMMA_SHAPE_R = 2.0
#: MOMMA's bounds on Manning's n (MOMMA v3.3 ``resist.min``, ``resist.max``).
MOMMA_N_BOUNDS = (0.01, 0.20)


class Momma(FlowLaw):
    """MOMMA's law: ``Q = W Y^(5/3) S^(1/2) / n`` with ``n = nb ((H - B) / (H_obs - B))^x``.

    ``B`` is the zero-flow stage (m), ``H`` the reference stage where ``n = nb`` (the highest
    observed stage, m), ``Y = r/(1+r) (H_obs - B)`` the mean depth of a parabolic channel
    (r = 2); n is bounded to [0.01, 0.20] (Bjerklie et al. 2018; MOMMA v3.3, see docs/science.md).
    """

    name = "momma"
    params = ("B", "H", "nb", "x")
    scale, power = "nb", -1.0

    @staticmethod
    def roughness(p: Params, wse: np.ndarray) -> np.ndarray:
        """Manning's n of each stage (s m^-1/3), NaN at or below the zero-flow stage."""
        depth = _positive(np.asarray(wse, dtype=np.float64) - p["B"])
        with np.errstate(divide="ignore", invalid="ignore"):
            n = p["nb"] * ((p["H"] - p["B"]) / depth) ** p["x"]
        return np.asarray(np.clip(n, *MOMMA_N_BOUNDS))

    def q(self, p: Params, o: FlowObs) -> np.ndarray:
        depth = MOMMA_SHAPE_R / (1 + MOMMA_SHAPE_R) * _positive(np.asarray(o.wse, dtype=np.float64) - p["B"])
        w, s = _positive(o.width), _positive(o.slope)
        return np.asarray(w * depth ** (5 / 3) * np.sqrt(s) / self.roughness(p, o.wse))

    def sensitivities(self, p: Params, o: FlowObs) -> list[np.ndarray]:
        depth = np.asarray(o.wse, dtype=np.float64) - p["B"]
        return [_rel(o.width_u, o.width), (5 / 3 + p["x"]) * _rel(o.wse_u, depth), 0.5 * _rel(o.slope_u, o.slope)]


class Bam(FlowLaw):
    """neoBAM's law: ``Q = W D^(5/3) S^(1/2) / n`` with ``D = Db (W / Wb)^r`` (Dingman 2007 shape)."""

    name = "bam"
    params = ("n", "Wb", "Db", "r")
    scale, power = "n", -1.0

    def q(self, p: Params, o: FlowObs) -> np.ndarray:
        w, s = _positive(o.width), _positive(o.slope)
        depth = p["Db"] * (w / _positive(p["Wb"])) ** p["r"]
        return np.asarray(w * _positive(depth) ** (5 / 3) * np.sqrt(s) / _positive(p["n"]))

    def sensitivities(self, p: Params, o: FlowObs) -> list[np.ndarray]:
        return [(1 + 5 / 3 * p["r"]) * _rel(o.width_u, o.width), 0.5 * _rel(o.slope_u, o.slope)]


#: Every flow law by name.
LAWS: dict[str, FlowLaw] = {law.name: law for law in (Manning(), MetroMan(), HiVDI(), Momma(), Bam())}


def get(name: str) -> FlowLaw:
    """The flow law ``name``; KeyError listing the known ones."""
    if name not in LAWS:
        raise KeyError(f"unknown flow law {name!r}; known: {', '.join(LAWS)}")
    return LAWS[name]
