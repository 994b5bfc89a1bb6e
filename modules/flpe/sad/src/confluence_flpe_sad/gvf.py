"""Gradually varied flow on Dingman power-law cross-sections (SAD's forward model).

Andreadis, Brinkerhoff & Gleason (2020), doi:10.1029/2019WR026611, section 2.1
(equation numbers below are this package's, S1-S14 over its modules, listed in
``docs/science.md``)::

    (S1) dYm/dx = (S0 - Sf) / (1 - Fr^2)         steady 1-D gradually varied flow (Chow 1959)
    (S2) Fr = Q / (W Y sqrt(g Y))                Froude number
    (S3) Sf = n^2 Q^2 / (W^2 Y^(10/3))           friction slope, Manning, wide channel (R = Y)
    (S4) Y = r / (r + 1) Ym                      mean depth of a Dingman (2007) section
    (S5) W = W* (Ym / Ym*)^(1/r)                 its top width

``x`` points downstream, ``Y = A / W`` is the mean (hydraulic) depth (m), ``Ym`` the maximum
(thalweg) depth, i.e. the water surface above the bed, ``r`` the channel shape exponent
(1 triangular, 2 parabolic, ``inf`` rectangular) and ``(W*, Ym*)`` a reference point of the
section.  (S1) is the energy equation for the water surface above the bed: the stage ``Ym``
changes along x while (S2) and (S3) use the hydraulic depth ``Y`` (Chow 1959: ``Fr^2 =
Q^2 T / (g A^3)`` with ``T = dA/dYm``, which is ``W`` for a Dingman section).  Sad.jl
integrates ``Y`` itself, which tilts still water by ``S0 / r``; see ``docs/science.md``.  Here
the reference point is the node's median observed width and stage (the paper
uses the bankfull, i.e. the largest, ones: the same family of sections, see
``docs/science.md``).  The profile is integrated *upstream* from a
downstream boundary (subcritical flow is controlled from downstream): with
the chainage ``xi`` measured upstream, ``dYm/dxi = (Sf - S0) / (1 - Fr^2)``,
by the classical fourth-order Runge-Kutta method on a fixed step, for many
members (ensemble, times) at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

#: Gravity (m s-2), as Sad.jl.
G = 9.806
#: Largest Runge-Kutta step (m).  The backwater length Y / (10/3 S0) of a SWOT river is
#: kilometres; 100 m keeps the RK4 error far below the observation error (tests/test_gvf.py).
MAX_STEP = 100.0
#: Shallowest thalweg depth (m) a profile may reach before the member is flagged as failed.
MIN_DEPTH = 0.01
#: Largest Fr^2 of a valid (subcritical) profile; beyond it the member is flagged as failed.
MAX_FROUDE2 = 0.9


@dataclass(frozen=True)
class Section:
    """Dingman cross-sections along a reach, nodes ordered upstream from the boundary node.

    ``xi`` chainage of each node upstream of node 0 (m, increasing); ``w_ref`` and ``h_ref``
    the width (m) and water-surface elevation (m) of each node's reference point.  The bed is
    ``z0 + s0 * xi`` (``z0`` the bed elevation at node 0, ``s0`` the bed slope, both per member).
    """

    xi: np.ndarray
    w_ref: np.ndarray
    h_ref: np.ndarray

    @property
    def nx(self) -> int:
        return int(self.xi.size)


def shape_factor(r: np.ndarray | float) -> np.ndarray:
    """``Ym / Y = (r + 1) / r = 1 + 1/r`` (S4); 1 for a rectangular channel (``r = inf``)."""
    return np.asarray(1.0 + 1.0 / np.asarray(r, dtype=np.float64))


def width(ym: np.ndarray, w_ref: np.ndarray, ym_ref: np.ndarray, r: np.ndarray) -> np.ndarray:
    """(S5) top width (m) at maximum depth ``ym`` of a section through ``(w_ref, ym_ref)``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(w_ref * (ym / ym_ref) ** (1.0 / np.asarray(r, dtype=np.float64)))


def area(y: np.ndarray, w_ref: np.ndarray, ym_ref: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Flow area ``W Y`` (m2) at mean depth ``y`` (S4, S5)."""
    return np.asarray(width(shape_factor(r) * y, w_ref, ym_ref, r) * y)


def slope_of_depth(ym: np.ndarray, q: np.ndarray, n: np.ndarray, r: np.ndarray, s0: np.ndarray,
                   w_ref: np.ndarray, ym_ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``dYm/dxi`` (S1 with S2-S5, ``xi`` upstream) and ``Fr^2`` at thalweg depth ``ym``.

    The denominator ``1 - Fr^2`` is held at or above ``1 - MAX_FROUDE2`` (the member is then
    flagged by the caller); depth is held at or above :data:`MIN_DEPTH`.
    """
    ym = np.maximum(ym, MIN_DEPTH)
    y = ym / shape_factor(r)
    w = width(ym, w_ref, ym_ref, r)
    q2w2 = (q / w) ** 2
    sf = n**2 * q2w2 / y ** (10.0 / 3.0)
    fr2 = q2w2 / (G * y**3)
    return (sf - s0) / np.maximum(1.0 - fr2, 1.0 - MAX_FROUDE2), fr2


def normal_depth_rect(q: float, n: float, w: float, s0: float) -> float:
    """Normal depth (m) of a wide rectangular channel: ``Sf = S0`` in (S3)."""
    return float((n * q / (w * np.sqrt(s0))) ** 0.6)


def critical_depth_rect(q: float, w: float) -> float:
    """Critical depth (m) of a rectangular channel: ``Fr = 1`` in (S2)."""
    return float((q**2 / (G * w**2)) ** (1.0 / 3.0))


def profile(sec: Section, q: ArrayLike, n: ArrayLike, r: ArrayLike, z0: ArrayLike, s0: ArrayLike,
            h_bc: ArrayLike, max_step: float = MAX_STEP) -> tuple[np.ndarray, np.ndarray]:
    """Water-surface profile (m) at every node for a batch of members (S1-S5).

    Parameters
    ----------
    sec : Section
        Node chainage and reference points (``[nx]``).
    q, n, r, z0, s0, h_bc : numpy.ndarray
        Discharge (m3/s), Manning's n (s m-1/3), shape exponent, bed elevation at node 0 (m),
        bed slope (m/m) and water-surface elevation at node 0 (m, the boundary): any shapes that
        broadcast to one batch shape ``B``.

    Returns
    -------
    wse : numpy.ndarray
        ``[nx, *B]`` water-surface elevation (m); NaN where the member failed.
    ok : numpy.ndarray
        ``[*B]`` bool: the profile stayed wet (``Ym > MIN_DEPTH``), subcritical
        (``Fr^2 < MAX_FROUDE2``), and every node's reference point is above the bed.
    """
    q, n, r, z0, s0, h_bc = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (q, n, r, z0, s0, h_bc)))
    z = z0[None] + s0[None] * sec.xi.reshape((-1,) + (1,) * z0.ndim)  # bed [nx, *B]
    ym_ref = sec.h_ref.reshape(z.shape[:1] + (1,) * z0.ndim) - z
    ok = np.all(ym_ref > MIN_DEPTH, axis=0) & (q > 0) & (n > 0) & (r > 0)
    ym_ref = np.maximum(ym_ref, MIN_DEPTH)
    ym = h_bc - z[0]
    ok &= ym > MIN_DEPTH
    out = np.empty(z.shape)
    out[0] = z[0] + np.maximum(ym, MIN_DEPTH)
    rate = _Rate(q, n, r, s0)
    for j in range(sec.nx - 1):
        length = float(sec.xi[j + 1] - sec.xi[j])
        steps = max(1, int(np.ceil(length / max_step)))
        h = length / steps
        w_pair, ym_pair = (float(sec.w_ref[j]), float(sec.w_ref[j + 1])), (ym_ref[j], ym_ref[j + 1])
        ahead = rate.geometry(w_pair, ym_pair, 0.0)
        for s in range(steps):
            here, mid, ahead = ahead, rate.geometry(w_pair, ym_pair, (s + 0.5) / steps), \
                rate.geometry(w_pair, ym_pair, (s + 1) / steps)
            f1, fr1 = rate(ym, here)
            f2, fr2 = rate(ym + 0.5 * h * f1, mid)
            f3, fr3 = rate(ym + 0.5 * h * f2, mid)
            f4, fr4 = rate(ym + h * f3, ahead)
            ym = ym + h / 6.0 * (f1 + 2.0 * f2 + 2.0 * f3 + f4)
            ok &= (ym > MIN_DEPTH) & (np.maximum(np.maximum(fr1, fr2), np.maximum(fr3, fr4)) < MAX_FROUDE2)
            ym = np.maximum(ym, MIN_DEPTH)
        out[j + 1] = z[j + 1] + ym
    return np.where(ok, out, np.nan), ok


class _Rate:
    """:func:`slope_of_depth` of one batch of members, in logarithms (the same S1-S5, fewer operations).

    With ``L = ln Ym`` and a section through ``(W*, Ym*)`` at the point of the step:
    ``ln W = ln W* + (L - ln Ym*) / r`` (S5), ``ln Y = L - ln((r + 1) / r)`` (S4), hence
    ``ln Fr^2 = 2 ln Q - ln g - 2 ln W - 3 ln Y`` (S2) and ``ln Sf = 2 ln n + 2 ln Q - 2 ln W - 10/3 ln Y``
    (S3); the terms that do not depend on ``Ym`` are computed once per batch (``__init__``) or per
    point of the reach (:meth:`geometry`).  Equal to :func:`slope_of_depth` to rounding (tests/test_gvf.py).
    """

    def __init__(self, q: np.ndarray, n: np.ndarray, r: np.ndarray, s0: np.ndarray) -> None:
        with np.errstate(divide="ignore", invalid="ignore"):  # failed members (q, n or r <= 0) end as NaN
            self.inv_r = 1.0 / r
            log_shape = np.log1p(self.inv_r)  # ln(Ym / Y), S4
            self.fr_base = 2.0 * np.log(q) + 3.0 * log_shape - np.log(G)  # ln Fr^2 less its Ym terms
            self.sf_extra = 2.0 * np.log(n) + np.log(G) + log_shape / 3.0  # ln Sf - ln Fr^2 less its Ym term
        self.slope = 2.0 * self.inv_r + 3.0  # -d ln Fr^2 / d ln Ym
        self.s0 = s0

    def geometry(self, w_ref: tuple[float, float], ym_ref: tuple[np.ndarray, np.ndarray], a: float) -> np.ndarray:
        """The part of ``ln Fr^2`` set by the section at fraction ``a`` of the way to the next node."""
        w = w_ref[0] + a * (w_ref[1] - w_ref[0])
        ym = ym_ref[0] + a * (ym_ref[1] - ym_ref[0])
        return np.asarray(self.fr_base - 2.0 * (np.log(w) - np.log(ym) * self.inv_r))

    def __call__(self, ym: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``dYm/dxi`` and ``Fr^2`` at thalweg depth ``ym`` (as :func:`slope_of_depth`)."""
        lym = np.log(np.maximum(ym, MIN_DEPTH))
        log_fr2 = base - self.slope * lym
        fr2 = np.exp(log_fr2)
        sf = np.exp(log_fr2 + self.sf_extra - lym / 3.0)
        return (sf - self.s0) / np.maximum(1.0 - fr2, 1.0 - MAX_FROUDE2), fr2
