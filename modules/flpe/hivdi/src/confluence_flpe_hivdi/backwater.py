"""Steady backwater on effective sections, and its tangent linear model (pure numpy).

The forward model of HiVDI (equations H1-H6 of the package docstring; Garambois & Monnier 2015,
doi:10.1016/j.advwatres.2015.02.007 (DOI unverified); Larnier et al. 2021, doi:10.1080/17415977.2020.1803858):
for each observation time, the steady water-surface profile along the nodes of a reach set,
marched upstream from a downstream water-surface elevation by the standard-step energy balance,
with the Strickler coefficient varying with depth (``K = alpha h^beta``).

Every function works on all observation times at once (arrays ``[T]``); the only Python loop is
along the nodes.  :func:`solve` also carries the exact derivatives of every node's elevation with
respect to the controls (implicit differentiation of each step, H6), which the variational
inversion (:mod:`.inverse`) uses as its Jacobian.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Gravity (m s-2).
G = 9.81
#: Least depth above the bed kept by the solver (m), below any critical depth of a real river.
MIN_DEPTH = 0.01
#: Kinds of per-reach controls, in the column order of :attr:`Profile.dz_dreach`.
REACH_CONTROLS = ("log_kref", "beta", "log_depth", "tilt")


@dataclass(frozen=True)
class Channel:
    """Effective sections of the ``N`` nodes of a reach set, upstream to downstream.

    A node's section (H1) is the width-stage curve through three levels ``(z1, w1)``,
    ``(z2, w2)``, ``(z3, w3)``: width ``w1`` from the bed up to ``z1`` (the unobserved part below
    the lowest observed stage ``z_lo <= z1`` included), linear between the levels and, above
    ``z2``, widening at the rate of the upper part.  Stored as ``z1``, ``z2``, ``w1`` and the
    two rates ``rate12 = (w2 - w1) / (z2 - z1)``, ``rate23 = (w3 - w2) / (z3 - z2)`` (>= 0).
    The bed is ``z_lo - d`` with the low-flow depth ``d`` of :func:`low_flow_depth`.

    Attributes
    ----------
    x : ndarray [N]
        Distance along the channel (m), increasing downstream.
    z_lo : ndarray [N]
        Lowest observed stage at the node (m).
    z1, z2 : ndarray [N]
        First two levels of the width-stage curve (m, ``z_lo <= z1 <= z2``).
    w1 : ndarray [N]
        Width below ``z1`` (m, > 0).
    rate12, rate23 : ndarray [N]
        Widening rates (m/m, >= 0) between ``z1`` and ``z2``, and above ``z2``.
    reach : ndarray of int [N]
        Reach (0 .. R-1, upstream to downstream) of each node.
    s : ndarray [N]
        Position of the node in its reach, 0 at the upstream end, 1 at the downstream end.
    share : ndarray [R]
        Discharge of each reach relative to the set's reference discharge (lateral inflow, H5).
    h_ref : ndarray [R]
        Reference hydraulic depth of each reach (m): the Strickler coefficient there is the
        control ``K_ref`` (H3), so that the friction prior and beta are independent.
    segment : ndarray of int [N]
        Stretch (0 .. S-1, upstream to downstream) of each node: each stretch's profile starts
        from its own downstream elevation ``z_out[segment]`` (H4); a set is cut where its reaches'
        surfaces do not join (a drop, a removed dam reach).
    """

    x: np.ndarray
    z_lo: np.ndarray
    z1: np.ndarray
    z2: np.ndarray
    w1: np.ndarray
    rate12: np.ndarray
    rate23: np.ndarray
    reach: np.ndarray
    s: np.ndarray
    share: np.ndarray
    h_ref: np.ndarray
    segment: np.ndarray

    def __post_init__(self) -> None:
        n = self.x.shape[0]
        per_node = (self.z_lo, self.z1, self.z2, self.w1, self.rate12, self.rate23, self.reach, self.s)
        if n < 2 or any(np.shape(a) != (n,) for a in per_node):
            raise ValueError("a channel needs at least 2 nodes and [N] arrays of one length")
        if not np.all(np.diff(self.x) > 0) or not np.all(self.w1 > 0):
            raise ValueError("x must increase downstream and w1 be positive")
        if not (np.all(self.z_lo <= self.z1) and np.all(self.z1 <= self.z2)
                and np.all(self.rate12 >= 0) and np.all(self.rate23 >= 0)):
            raise ValueError("levels must be z_lo <= z1 <= z2 and widening rates non-negative")
        R = int(self.reach[-1]) + 1
        if np.any(np.diff(self.reach) < 0) or self.share.shape != (R,) or self.h_ref.shape != (R,):
            raise ValueError("reach must be 0 .. R-1 in order along the channel, with one share and h_ref per reach")
        if not np.all(self.h_ref > 0):
            raise ValueError("h_ref must be positive")
        if self.segment.shape != (n,) or self.segment[0] != 0 or np.any(~np.isin(np.diff(self.segment), (0, 1))):
            raise ValueError("segment must be 0 .. S-1 in order along the channel")

    @classmethod
    def rectangular(cls, x: np.ndarray, z_lo: np.ndarray, width: np.ndarray | float, reach: np.ndarray | None = None,
                    share: np.ndarray | None = None, h_ref: np.ndarray | None = None) -> Channel:
        """A channel of rectangular sections (one reach unless ``reach`` says otherwise)."""
        n = x.shape[0]
        reach = np.zeros(n, dtype=int) if reach is None else reach
        R = int(reach[-1]) + 1
        s = np.zeros(n)
        for r in range(R):
            k = np.flatnonzero(reach == r)
            s[k] = (x[k] - x[k[0]]) / (x[k[-1]] - x[k[0]]) if k.size > 1 else 0.5
        zero = np.zeros(n)
        return cls(x=x, z_lo=z_lo, z1=z_lo.copy(), z2=z_lo.copy(), w1=np.broadcast_to(width, (n,)).astype(float),
                   rate12=zero, rate23=zero.copy(), reach=reach, s=s,
                   share=np.ones(R) if share is None else share, h_ref=np.ones(R) if h_ref is None else h_ref,
                   segment=np.zeros(n, dtype=int))

    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    @property
    def n_reaches(self) -> int:
        return int(self.share.shape[0])

    @property
    def n_segments(self) -> int:
        return int(self.segment[-1]) + 1

    @property
    def outlets(self) -> np.ndarray:
        """Whether each node is the downstream end of its stretch (where ``z_out`` applies)."""
        return np.asarray(np.r_[np.diff(self.segment) != 0, True], dtype=bool)

    def section(self, j: int | np.ndarray | slice, z: np.ndarray, bed: np.ndarray | float) -> tuple[
            np.ndarray, np.ndarray, np.ndarray]:
        """Flow area (m2), top width (m) and ``dW/dZ`` of node(s) ``j`` at stage ``z`` above ``bed`` (H1).

        ``z`` is ``[..., T]`` with the node(s) ``j`` along its first axis (any trailing axes: times).
        """
        z = np.asarray(z, dtype=np.float64)
        levels = (self.z1[j], self.z2[j], self.w1[j], self.rate12[j], self.rate23[j])
        shape = np.shape(levels[0]) + (1,) * (z.ndim - np.ndim(levels[0]))
        z1, z2, w1, r12, r23 = (np.reshape(v, shape) for v in levels)
        return section(z1, z2, w1, r12, r23, z, np.reshape(bed, np.shape(bed) + (1,) * (z.ndim - np.ndim(bed))))


def section(z1: np.ndarray, z2: np.ndarray, w1: np.ndarray, r12: np.ndarray, r23: np.ndarray, z: np.ndarray,
            bed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flow area (m2), top width (m) and ``dW/dZ`` of effective sections at stage ``z`` (H1; arrays broadcast).

    Width ``w1`` from ``bed`` to ``z1``, widening at ``r12`` up to ``z2`` and at ``r23`` above;
    the area is the integral of the width from the bed.
    """
    u = np.minimum(np.maximum(z, z1), z2) - z1
    v = np.maximum(z - z2, 0.0)
    area = w1 * (z - bed) + r12 * (0.5 * u * u + (z2 - z1) * v) + 0.5 * r23 * v * v
    width = w1 + r12 * u + r23 * v
    dwidth = np.where(v > 0, r23, np.where(u > 0, r12, 0.0))
    return area, width, dwidth


@dataclass(frozen=True)
class Controls:
    """What the inversion estimates (``T`` times, ``R`` reaches).

    Attributes
    ----------
    log_q : ndarray [T]
        ln of the set's reference discharge (m3/s); reach r carries ``share[r] exp(log_q)``.
    z_out : ndarray [S, T]
        Water-surface elevation at the downstream node of each stretch (m): the boundary conditions.
    log_kref, beta : ndarray [R]
        Strickler law of each reach, ``K = K_ref (h / h_ref)^beta`` (H3): ln of ``K_ref``
        (m^(1/3) s-1) and beta; ``alpha = K_ref h_ref^-beta``.
    log_depth : ndarray [R]
        ln of the reach's mean low-flow depth ``D`` (m) below ``z_lo``.
    tilt : ndarray [R]
        ``d = D e^tilt`` at the reach's upstream end, ``D e^-tilt`` at its downstream end.
    """

    log_q: np.ndarray
    z_out: np.ndarray
    log_kref: np.ndarray
    beta: np.ndarray
    log_depth: np.ndarray
    tilt: np.ndarray


@dataclass(frozen=True)
class Profile:
    """The solved profiles, ``[N, T]`` each, and their derivatives when asked for.

    ``dz_dlogq[j, t]`` and ``dz_dzout[j, t]`` are ``dZ[j, t] / d log_q[t]`` and
    ``dZ[j, t] / d z_out[segment[j], t]`` (a time's profile depends on that time's controls only,
    a node on its own stretch's boundary only);
    ``dz_dreach[j, t, k]`` the derivative with respect to per-reach control ``k`` (columns
    ``kind * R + r``, kinds :data:`REACH_CONTROLS`).  ``choked`` marks nodes held at the least
    depth because no subcritical profile exists there.
    """

    z: np.ndarray
    area: np.ndarray
    width: np.ndarray
    choked: np.ndarray
    dz_dlogq: np.ndarray | None = None
    dz_dzout: np.ndarray | None = None
    dz_dreach: np.ndarray | None = None


def low_flow_depth(ch: Channel, log_depth: np.ndarray, tilt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Low-flow depth ``d`` of every node (m) and ``dd/dtilt`` (H2).

    ``d = D (e^tilt (1 - s) + e^-tilt s)``: linear along the reach, ``D`` at its middle when
    ``tilt = 0``; ``dd/dlog_depth = d``.
    """
    D = np.exp(np.asarray(log_depth, dtype=np.float64))[ch.reach]
    e = np.exp(np.asarray(tilt, dtype=np.float64))[ch.reach]
    return D * (e * (1 - ch.s) + ch.s / e), D * (e * (1 - ch.s) - ch.s / e)


_EMPTY = np.zeros((0, 0, 4))


@dataclass
class _Nodes:
    """The solved state of some nodes ``[A, T]`` (and their direct derivatives for the tangent model)."""

    z: np.ndarray
    area: np.ndarray
    width: np.ndarray
    conv: np.ndarray  # conveyance K A h^(2/3) (m3/s)
    dconv: np.ndarray  # d conv / dZ
    head: np.ndarray  # velocity head Q^2 / (2 g A^2) (m)
    dhead: np.ndarray  # d head / dZ
    p_conv: np.ndarray  # [A, T, 4] d conv / d(own reach's controls), Z held
    p_head: np.ndarray  # [A, T, 4] d head / d(own reach's controls), Z held

    def take(self, rows: np.ndarray) -> _Nodes:
        return _Nodes(*(getattr(self, f)[rows] if getattr(self, f).size else getattr(self, f)
                        for f in ("z", "area", "width", "conv", "dconv", "head", "dhead", "p_conv", "p_head")))


class _Solver:
    """The marching of :func:`solve` (one instance per call); node arguments are index arrays ``J``."""

    def __init__(self, ch: Channel, c: Controls) -> None:
        self.ch = ch
        self.q = ch.share[ch.reach][:, None] * np.exp(np.asarray(c.log_q, dtype=np.float64))[None, :]
        beta = np.asarray(c.beta, dtype=np.float64)[ch.reach]
        self.log_href = np.log(ch.h_ref)[ch.reach][:, None]
        self.alpha = np.exp(np.asarray(c.log_kref, dtype=np.float64)[ch.reach][:, None] - beta[:, None] * self.log_href)
        self.beta = beta[:, None]
        d, dd_dtilt = low_flow_depth(ch, c.log_depth, c.tilt)
        self.d, self.dd_dtilt = d[:, None], dd_dtilt[:, None]
        self.bed = (ch.z_lo - d)[:, None]
        self.col = {name: np.asarray(getattr(ch, name), dtype=np.float64)[:, None]
                    for name in ("z1", "z2", "w1", "rate12", "rate23", "x")}

    def floor(self, J: np.ndarray) -> np.ndarray:
        """Least stage kept at nodes ``J``: the bed plus the critical depth of its rectangle (or MIN_DEPTH)."""
        h_c = (self.q[J] ** 2 / (G * self.col["w1"][J] ** 2)) ** (1.0 / 3.0)
        return np.asarray(self.bed[J] + np.maximum(h_c, MIN_DEPTH))

    def gather(self, J: np.ndarray) -> tuple[np.ndarray, ...]:
        """The columns of nodes ``J`` that :meth:`state` uses (taken once for a node's Newton iterations)."""
        c = self.col
        beta = self.beta[J]
        return (c["z1"][J], c["z2"][J], c["w1"][J], c["rate12"][J], c["rate23"][J], self.bed[J], self.alpha[J],
                5.0 / 3.0 + beta, 2.0 / 3.0 + beta, self.q[J] ** 2)

    def state(self, J: np.ndarray, z: np.ndarray, partials: bool = False,
              cols: tuple[np.ndarray, ...] | None = None) -> _Nodes:
        """Conveyance (H3) and velocity head of nodes ``J`` at stages ``z`` ``[A, T]``, with their derivatives.

        ``partials``: also their derivatives with respect to the reach's controls (``Z`` held);
        ``cols``: :meth:`gather` of ``J`` when the caller has it.
        """
        z1, z2, w1, r12, r23, bed, alpha, e1, e2, q2 = self.gather(J) if cols is None else cols
        area, width, dwidth = section(z1, z2, w1, r12, r23, z, bed)
        conv = alpha * np.exp(e1 * np.log(area) - e2 * np.log(width))
        dconv = conv * (e1 / area * width - e2 * dwidth / width)
        head = q2 / (2.0 * G * area * area)
        nodes = _Nodes(z, area, width, conv, dconv, head, -2.0 * head * width / area, _EMPTY, _EMPTY)
        if partials:
            da_dlogd, da_dtilt = w1 * self.d[J] / area, w1 * self.dd_dtilt[J] / area
            nodes.p_conv = conv[..., None] * np.stack([np.ones_like(area), np.log(area / width) - self.log_href[J],
                                                       e1 * da_dlogd, e1 * da_dtilt], axis=-1)
            zero = np.zeros_like(area)
            nodes.p_head = head[..., None] * np.stack([zero, zero, -2.0 * da_dlogd, -2.0 * da_dtilt], axis=-1)
        return nodes

    def step(self, J: np.ndarray, down: _Nodes, tol: float, max_iter: int, partials: bool,
             z_known: np.ndarray | None = None) -> tuple[_Nodes, np.ndarray]:
        """Solve the energy balance (H4) for nodes ``J`` from their downstream neighbours ``down``.

        ``z_known``: the elevations this Newton iteration converged to in an earlier solve of the
        same controls (the iteration is deterministic, so it would end there again); not iterated.
        """
        dx = self.col["x"][J + 1] - self.col["x"][J]
        qsum = self.q[J] + self.q[J + 1]
        floor = self.floor(J)
        cols = self.gather(J)
        z = np.maximum(down.z + dx * (qsum / (2.0 * down.conv)) ** 2, floor + 0.01) if z_known is None else z_known
        for _ in range(max_iter if z_known is None else 0):
            nodes = self.state(J, z, cols=cols)
            csum = nodes.conv + down.conv
            sf = (qsum / csum) ** 2
            f = z + nodes.head - down.z - down.head - dx * sf
            df = 1.0 + nodes.dhead + 2.0 * dx * sf * nodes.dconv / csum
            subcritical = df > 1e-9
            z_new = np.where(subcritical, z - f / np.where(subcritical, df, 1.0), z + (z - floor) + 0.1)
            z_new = np.where(z_new < floor, 0.5 * (z + floor), z_new)
            done = bool(np.all(np.abs(z_new - z) <= tol))
            z = z_new
            if done:
                break
        nodes = self.state(J, z, partials, cols)
        csum = nodes.conv + down.conv
        f = z + nodes.head - down.z - down.head - dx * (qsum / csum) ** 2
        choked = (z <= floor + 1e-6) & (f > 1e-6)
        return nodes, choked


def solve(ch: Channel, c: Controls, tangent: bool = False, tol: float = 1e-10, max_iter: int = 60,
          known: Profile | None = None) -> Profile:
    """Steady water-surface profiles of every time, and (``tangent``) their derivatives (H4, H6).

    Every stretch is marched at once, node by node from its outlet.

    Parameters
    ----------
    ch : Channel
        The effective sections.
    c : Controls
        Discharge and boundary elevation per time, friction and bed per reach.
    tangent : bool
        Also return the derivatives of every node's elevation with respect to the controls.
    tol : float
        Convergence of each node's Newton iteration (m).
    max_iter : int
        Most Newton iterations per node.
    known : Profile, optional
        The profile of an earlier call with the same channel, controls, ``tol`` and ``max_iter``
        (e.g. without ``tangent``): its elevations are the ones each node's Newton iteration
        converges to, so they are taken as they are and only the derivatives are computed.

    Returns
    -------
    Profile
    """
    s = _Solver(ch, c)
    N, T, R = ch.n, int(np.size(c.log_q)), ch.n_reaches
    z_all, area, width = (np.empty((N, T)) for _ in range(3))
    choked = np.zeros((N, T), dtype=bool)
    dzq = dzz = dzg = None
    if tangent:
        dzq, dzz, dzg = np.zeros((N, T)), np.zeros((N, T)), np.zeros((N, T, 4 * R))
    z_out = np.asarray(c.z_out, dtype=np.float64).reshape(ch.n_segments, T)
    outlets = np.flatnonzero(ch.outlets)
    length = outlets - np.r_[0, outlets[:-1] + 1] + 1
    J = outlets
    floor = s.floor(J)
    z_bc = z_out[ch.segment[J]]
    choked[J] = z_bc < floor
    down = s.state(J, np.maximum(z_bc, floor), tangent)
    if dzz is not None:
        dzz[J] = np.where(choked[J], 0.0, 1.0)
    z_all[J], area[J], width[J] = down.z, down.area, down.width
    for p in range(1, int(length.max())):
        going = length[length > p - 1] > p  # of the stretches marched so far, those with a node at p
        J = J[going] - 1
        down = down.take(going)
        nodes, choked[J] = s.step(J, down, tol, max_iter, tangent, None if known is None else known.z[J])
        if dzq is not None and dzz is not None and dzg is not None:
            _tangent_step(s, J, nodes, down, dzq, dzz, dzg)
        z_all[J], area[J], width[J] = nodes.z, nodes.area, nodes.width
        down = nodes
    return Profile(z_all, area, width, choked, dzq, dzz, dzg)


def _tangent_step(s: _Solver, J: np.ndarray, node: _Nodes, down: _Nodes, dzq: np.ndarray, dzz: np.ndarray,
                  dzg: np.ndarray) -> None:
    """Derivatives of nodes ``J``'s elevations from those of nodes ``J + 1`` (H6, implicit function)."""
    ch = s.ch
    R = ch.n_reaches
    dx = s.col["x"][J + 1] - s.col["x"][J]
    csum = node.conv + down.conv
    sf = ((s.q[J] + s.q[J + 1]) / csum) ** 2
    k = 2.0 * dx * sf / csum  # -dx dSf/dconv
    f_z = 1.0 + node.dhead + k * node.dconv
    f_zdown = -1.0 - down.dhead + k * down.dconv
    f_q = 2.0 * node.head - 2.0 * down.head - 2.0 * dx * sf
    dzq[J] = -(f_zdown * dzq[J + 1] + f_q) / f_z
    dzz[J] = -(f_zdown * dzz[J + 1]) / f_z
    f_g = f_zdown[..., None] * dzg[J + 1]
    rows = np.arange(J.size)
    own = node.p_head + k[..., None] * node.p_conv
    below = -down.p_head + k[..., None] * down.p_conv
    for kind in range(4):
        f_g[rows, :, kind * R + ch.reach[J]] += own[..., kind]
        f_g[rows, :, kind * R + ch.reach[J + 1]] += below[..., kind]
    dzg[J] = -f_g / f_z[..., None]
