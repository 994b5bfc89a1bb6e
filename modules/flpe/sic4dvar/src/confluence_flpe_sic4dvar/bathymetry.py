"""SIC4DVar's node bathymetry: a cross-section from each node's WSE-width pairs (pure numpy).

Every SWOT pass gives, at each node, one point ``(H, W)`` of the node's
stage-width curve.  Sorted by stage, these points are the shape of the wetted
cross-section above the lowest observed stage: the effective bathymetry of the
node (Oubanas et al. 2018, doi:10.1002/2017WR021735, section 2: the
cross-section as a width-elevation table; the public SIC4DVar's ``algo31``
builds it from the node's observed pairs).  Equations S1-S4 below are this
module's; the citation table is in ``docs/science.md`` (section SIC4DVar).

(S1) Width never decreases with stage: the widths, sorted by stage, are
     replaced by their least-squares non-decreasing fit (isotonic regression,
     pool-adjacent-violators; Barlow et al. 1972) -- the public code smooths
     the widths with a monotone ("increase") constraint to the same end.

(S2) Between two points of the table the width is linear in stage; below the
     lowest observed stage ``z0`` the channel is a rectangle of the lowest
     width ``w0`` (the public ``algo31``'s unobserved part); above the highest
     point the banks are vertical.

(S3) Flow area above ``z0`` (trapezoidal rule, exact for (S2))::

         A1(z) = sum_k (w_k + w_{k+1}) / 2 (z_{k+1} - z_k)    (up to z)

(S4) Wetted perimeter of the symmetric section with half-widths ``w / 2``::

         P1(z) = w0 + 2 sum_k sqrt(((w_{k+1} - w_k) / 2)^2 + (z_{k+1} - z_k)^2)

     so that with a bed at depth ``d`` below ``z0`` the whole section has
     ``A = A1 + w0 d`` and ``P = P1 + 2 d``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Fewest distinct observed stages a node needs for a section (a line needs two points).
MIN_STAGES = 2


@dataclass(frozen=True)
class Section:
    """A node's cross-section: width against stage, and its area and perimeter at each point.

    ``z`` (m) increases, ``w`` (m) does not decrease; ``area[k]`` (m2) is (S3) at ``z[k]``
    (0 at ``z[0]``) and ``perimeter[k]`` (m) is (S4) at ``z[k]`` (``w[0]`` at ``z[0]``).
    """

    z: np.ndarray
    w: np.ndarray
    area: np.ndarray
    perimeter: np.ndarray

    @property
    def z0(self) -> float:
        """Lowest observed stage (m)."""
        return float(self.z[0])

    @property
    def w0(self) -> float:
        """Width at the lowest observed stage (m)."""
        return float(self.w[0])

    def width(self, z: np.ndarray) -> np.ndarray:
        """Top width (m) at stages ``z`` (S2): ``w0`` below the table, the top width above it."""
        return np.asarray(np.interp(np.asarray(z, dtype=np.float64), self.z, self.w))

    def hydraulics(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Area above ``z0`` (m2, negative below it) and wetted perimeter (m) at stages ``z`` (S2-S4).

        NaN stages give NaN.  The perimeter below ``z0`` is the rectangle's, ``w0 + 2 (z - z0)``.
        """
        z = np.asarray(z, dtype=np.float64)
        k = np.clip(np.searchsorted(self.z, z, side="right") - 1, 0, self.z.size - 1)
        zk, wk = self.z[k], self.w[k]
        w = self.width(z)
        dz = z - zk
        area = self.area[k] + 0.5 * (wk + w) * dz
        perimeter = self.perimeter[k] + 2.0 * np.sqrt((0.5 * (w - wk)) ** 2 + dz**2)
        below = z < self.z[0]
        area = np.where(below, self.w[0] * (z - self.z[0]), area)
        perimeter = np.where(below, self.w[0] + 2.0 * (z - self.z[0]), perimeter)
        return area, perimeter


def isotonic(y: np.ndarray, weight: np.ndarray | None = None) -> np.ndarray:
    """Least-squares non-decreasing fit of ``y`` (pool-adjacent-violators), weighted.

    Parameters
    ----------
    y : numpy.ndarray
        Values ``[k]`` in the order the fit must not decrease.
    weight : numpy.ndarray, optional
        Positive weights ``[k]`` (default 1).

    Returns
    -------
    numpy.ndarray
        The fit ``[k]``: the non-decreasing sequence nearest to ``y`` in weighted least squares.
    """
    y = np.asarray(y, dtype=np.float64)
    wt = np.ones_like(y) if weight is None else np.asarray(weight, dtype=np.float64)
    means: list[float] = []
    weights: list[float] = []
    counts: list[int] = []
    for value, w in zip(y.tolist(), wt.tolist(), strict=True):
        means.append(value)
        weights.append(w)
        counts.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            w_sum = weights[-2] + weights[-1]
            merged = (means[-2] * weights[-2] + means[-1] * weights[-1]) / w_sum
            count = counts[-2] + counts[-1]
            del means[-1], weights[-1], counts[-1]
            means[-1], weights[-1], counts[-1] = merged, w_sum, count
    return np.repeat(np.asarray(means), counts)


def build_section(wse: np.ndarray, width: np.ndarray) -> Section | None:
    """Cross-section of a node from its observed stage-width pairs (S1-S4).

    Parameters
    ----------
    wse : numpy.ndarray
        Node water-surface elevations ``[nt]`` (m), NaN where unobserved.
    width : numpy.ndarray
        Node widths ``[nt]`` (m), NaN where unobserved.

    Returns
    -------
    Section or None
        None when fewer than :data:`MIN_STAGES` distinct stages have a positive width.
        Pairs at the same stage are averaged; points inside a run of equal fitted widths
        are dropped (the linear width of (S2) is the same without them).
    """
    h = np.asarray(wse, dtype=np.float64)
    w = np.asarray(width, dtype=np.float64)
    ok = np.isfinite(h) & np.isfinite(w) & (w > 0)
    if not ok.any():
        return None
    z_unique, inverse, counts = np.unique(h[ok], return_inverse=True, return_counts=True)
    if z_unique.size < MIN_STAGES:
        return None
    w_mean = np.bincount(inverse, weights=w[ok]) / counts
    w_fit = isotonic(w_mean, counts.astype(np.float64))
    # keep the ends and every point where the fitted width changes on either side
    keep = np.ones(z_unique.size, dtype=bool)
    flat_before = np.r_[False, np.diff(w_fit) == 0]
    flat_after = np.r_[np.diff(w_fit) == 0, False]
    keep &= ~(flat_before & flat_after)
    z, wf = z_unique[keep], w_fit[keep]
    dz, dw = np.diff(z), np.diff(wf)
    area = np.r_[0.0, np.cumsum(0.5 * (wf[1:] + wf[:-1]) * dz)]
    perimeter = wf[0] + np.r_[0.0, np.cumsum(2.0 * np.sqrt((0.5 * dw) ** 2 + dz**2))]
    return Section(z=z, w=wf, area=area, perimeter=perimeter)
