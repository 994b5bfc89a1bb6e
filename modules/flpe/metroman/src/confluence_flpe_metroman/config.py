"""MetroMan settings: sampler length, seed and prior / likelihood scales (all documented defaults)."""

from __future__ import annotations

from dataclasses import dataclass

from confluence_core import envconfig

#: Environment variables that override :class:`MetroManConfig` fields (the FLPE CLI builds
#: the plug-in with no arguments, so run-wide settings reach it this way).
ENV_PREFIX = "CONFLUENCE_METROMAN_"


@dataclass(frozen=True)
class MetroManConfig:
    """Settings of one MetroMan run.

    Attributes
    ----------
    n_iter : int
        Metropolis iterations (each updates every reach once and the set's common scale once).
    burn_in : int
        Iterations discarded; the proposal adapts only during burn-in, so the kept chain is
        a fixed-kernel Markov chain.
    thin : int
        Keep every ``thin``-th post-burn-in state to summarise discharge.
    seed : int
        Base seed; the generator is seeded with ``(seed, *reach_ids)`` so a set's result is
        deterministic and independent of job order.
    min_obs : int
        Fewest times a fit needs: common valid times across the fitted reaches (set mode)
        or valid times of the reach (single-reach mode).
    na_median, sigma_log_na : float
        Lognormal prior of ``na`` (s m^-1/3): median and sd of its natural log.
    x1_mean, sigma_x1 : float
        Normal prior of ``x1`` (dimensionless); mean 0 is Manning-Strickler's constant n.
    sigma_log_a0 : float
        sd of log A0 around the width-depth-scaling median (dimensionless).
    sigma_log_qbar : float
        sd of the log of the SoS mean flow as a prior of the mean of Q over the observed
        times (dimensionless); a set counts as one prior (each reach weighted 1/R).
    sigma_model : float
        Flow-law error of log Q per reach and time (dimensionless).
    sigma_lateral : float
        Lateral inflow / storage error of log Q between consecutive reaches (dimensionless).
    max_lateral_gain : float
        Cap of the expected log Q gain between consecutive reaches taken from their
        flow accumulation (dimensionless).
    time_tolerance : float
        Observation times of different reaches within this many seconds are one pass.
    storage : bool
        The storage term ``dA/dt`` in the mass-conservation likelihood (Durand et al. 2014);
        False: steady flow between reaches (``CONFLUENCE_METROMAN_STORAGE=0``).
    """

    n_iter: int = 10_000
    burn_in: int = 2_000
    thin: int = 5
    seed: int = 20140101
    min_obs: int = 5
    na_median: float = 0.03
    sigma_log_na: float = 0.5
    x1_mean: float = 0.0
    sigma_x1: float = 0.25
    sigma_log_a0: float = 0.7
    sigma_log_qbar: float = 0.5
    sigma_model: float = 0.10
    sigma_lateral: float = 0.05
    max_lateral_gain: float = 0.2
    time_tolerance: float = 3600.0
    storage: bool = True

    def __post_init__(self) -> None:
        if self.n_iter < 1 or not 0 <= self.burn_in < self.n_iter:
            raise ValueError(f"need 0 <= burn_in < n_iter, got {self.burn_in}, {self.n_iter}")
        if self.thin < 1 or self.min_obs < 2:
            raise ValueError("thin must be >= 1 and min_obs >= 2")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> MetroManConfig:
        """Defaults overridden by ``CONFLUENCE_METROMAN_<FIELD>`` variables (e.g. ``..._N_ITER``)."""
        return envconfig.from_env(cls, ENV_PREFIX, environ)
