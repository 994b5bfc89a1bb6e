"""HiVDI settings: prior scales, defaults when the SoS has no geoBAM priors, solver limits."""

from __future__ import annotations

from dataclasses import dataclass, fields

from confluence_core import envconfig

#: Environment variables that override :class:`HivdiConfig` fields (the FLPE CLI builds the
#: plug-in with no arguments, so run-wide settings reach it this way).
ENV_PREFIX = "CONFLUENCE_HIVDI_"


@dataclass(frozen=True)
class HivdiConfig:
    """Settings of one HiVDI run (every default documented in docs/science.md, section HiVDI).

    Attributes
    ----------
    min_obs : int
        Fewest valid times of each reach of a set.
    sigma_log_qbar : float
        sd of ln of the SoS mean flow as a prior of the set's flow level over the observed
        times (the error shared by every time).
    sigma_log_q : float
        sd of each time's ln discharge around the low-Froude background shape (H8).
    sigma_beta : float
        sd of the Strickler exponent beta around ``beta_prior``.
    beta_prior : float
        Prior beta (0: Manning-Strickler's constant K).
    sigma_tilt : float
        sd of the tilt of the low-flow depth along a reach (H2).
    sigma_bc : float
        sd (m) of the downstream elevation around its first guess (a weak regulariser: the
        node elevations decide it).
    n_default, sigma_log_n_default : float
        Manning's n prior (s m^-1/3) and the sd of its ln when the SoS has no ``logn_hat``.
    sigma_log_a0_default : float
        sd of ln A0 when the SoS has no ``logA0_hat`` (the prior is then the Moody & Troutman
        2002 depth at the mean flow).
    sigma_z_floor : float
        Least node-elevation error (m); the error is otherwise the robust spread of the nodes
        around each time's straight profile (the model error of an effective channel included).
    time_tolerance : float
        Observation times of different reaches within this many seconds are one pass.
    max_junction_gap : float
        Consecutive reaches whose median water surfaces miss each other at their junction by more
        than this (m) are modelled as separate stretches, each with its own downstream elevation.
    node_spacing : float
        Node spacing (m) when SWORD gives no reach length; also the spacing of the model nodes
        of a reach with no node observations.
    max_nfev : int
        Most cost evaluations of the minimisation.
    """

    min_obs: int = 5
    sigma_log_qbar: float = 0.5
    sigma_log_q: float = 0.5
    sigma_beta: float = 0.25
    beta_prior: float = 0.0
    sigma_tilt: float = 0.5
    sigma_bc: float = 1.0
    n_default: float = 0.03
    sigma_log_n_default: float = 0.5
    sigma_log_a0_default: float = 0.7
    sigma_z_floor: float = 0.05
    time_tolerance: float = 3600.0
    max_junction_gap: float = 0.0
    node_spacing: float = 200.0
    max_nfev: int = 60

    def __post_init__(self) -> None:
        if self.min_obs < 2 or self.max_nfev < 1:
            raise ValueError("min_obs must be >= 2 and max_nfev >= 1")
        scales = [f.name for f in fields(self) if f.name.startswith("sigma") and getattr(self, f.name) <= 0]
        if scales or self.n_default <= 0 or self.node_spacing <= 0:
            raise ValueError(f"scales must be positive ({', '.join(scales) or 'n_default, node_spacing'})")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> HivdiConfig:
        """Defaults overridden by ``CONFLUENCE_HIVDI_<FIELD>`` variables (e.g. ``..._SIGMA_LOG_QBAR``)."""
        return envconfig.from_env(cls, ENV_PREFIX, environ)
