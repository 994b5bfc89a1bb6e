"""The ``neobam`` plug-in: run and file layout.

Output ``flpe/neobam/{reach_id}_geobam.nc`` as the public workflow writes it
(``reference_outputs/flpe/geobam/74269800011_geobam.nc``): root attribute
``reach_id`` (and ``valid``), dimension ``nt`` with its int32 coordinate
``nt`` (units "time"); groups ``r``, ``logn``, ``logWb``, ``logDb`` holding
float64 scalars ``mean{c}``, ``sd{c}`` (posterior mean and sd of chain c,
c = 1..3); group ``q`` holding ``q{c}[nt]``, the posterior mean discharge
(m3/s) of chain c.  Fill -999999999999 where no estimate (unused times, a
flagged reach).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
from confluence_core import ncio, sos
from confluence_core.volumes import volume_path
from confluence_flpe.interface import AlgorithmBase, FlpeResult, Priors, ReachObs
from confluence_flpe.output import set_valid, time_dim

from .model import ESS_MIN, RHAT_MAX, SamplerSettings, enable_compile_cache, sample_many
from .priors import ReachInputs, build_inputs

log = logging.getLogger(__name__)

#: Output groups holding per-chain scalar summaries (``r`` is exp(logr)).
PARAM_GROUPS = ("r", "logn", "logWb", "logDb")


def summarise(draws: dict[str, np.ndarray], nt: int, used: np.ndarray) -> dict[str, np.ndarray]:
    """Per-chain posterior means and sds, and discharge summaries.

    Parameters
    ----------
    draws : dict
        Output of :func:`confluence_flpe_neobam.model.sample`.
    nt : int
        Number of observation times of the reach.
    used : ndarray of bool [nt]
        Times that entered the likelihood (others get NaN).

    Returns
    -------
    dict of ndarray
        ``{p}_mean``, ``{p}_sd`` [chains] for :data:`PARAM_GROUPS`; ``q_chain``
        [chains, nt] (posterior mean Q per chain, m3/s); ``q`` and ``q_u`` [nt]
        (mean and sd of Q over all draws, m3/s).
    """
    vals = {p: draws[p] for p in ("logn", "logWb", "logDb")}
    vals["r"] = np.exp(draws["logr"])
    out = {}
    for p in PARAM_GROUPS:
        out[f"{p}_mean"] = vals[p].mean(axis=1)
        out[f"{p}_sd"] = vals[p].std(axis=1)
    q = np.exp(draws["logQ"][..., :nt])
    out["q_chain"] = np.where(used[None, :], q.mean(axis=1), np.nan)
    flat = q.reshape(-1, nt)
    out["q"] = np.where(used, flat.mean(axis=0), np.nan)
    out["q_u"] = np.where(used, flat.std(axis=0), np.nan)
    return out


class NeoBAM(AlgorithmBase):
    """neoBAM FLPE plug-in (entry point ``neobam`` in group ``confluence.flpe``).

    Parameters
    ----------
    settings : SamplerSettings, optional
        NUTS settings; default 3 chains of 400 warm-up + 400 draws.
    seed : int
        Seed of the sampler (results are reproducible for a given seed).
    """

    name: ClassVar[str] = "neobam"
    #: Fewest usable times: 5 (a posterior with fewer times is the prior echoed back).
    min_obs: ClassVar[int] = 5
    #: ``run`` takes a job's reaches in one call (the FLPE runner hands them over together).
    batched: ClassVar[bool] = True

    def __init__(self, settings: SamplerSettings | None = None, seed: int = 0) -> None:
        self.settings = settings or SamplerSettings()
        self.seed = seed

    def run(self, reaches: Sequence[tuple[ReachObs, Priors]]) -> list[FlpeResult]:
        """Sample the posterior of each reach (see :mod:`confluence_flpe_neobam.model`).

        A grouped job hands every reach in one call (:attr:`batched`): reaches of
        one padded shape share one compiled sampler, compiled once per process or
        loaded from the persistent cache.  Each reach's result depends only on
        its own inputs and the seed.
        """
        _use_compile_cache()
        out: list[FlpeResult | None] = []
        runnable: list[tuple[int, ReachObs, ReachInputs]] = []
        for obs, pri in reaches:
            prepared = self._prepare(obs, pri)
            if isinstance(prepared, FlpeResult):
                out.append(prepared)
            else:
                runnable.append((len(out), obs, prepared))
                out.append(None)
        draws = sample_many([inp.data for _, _, inp in runnable], self.settings, self.seed)
        for (k, obs, inp), d in zip(runnable, draws, strict=True):
            out[k] = self._result(obs, inp, d)
        return [r for r in out if r is not None]

    def _prepare(self, obs: ReachObs, pri: Priors) -> ReachInputs | FlpeResult:
        """The reach's model inputs, or its flagged result when it cannot run."""
        inputs = build_inputs(
            obs.time, obs.width, obs.slope, obs.node_width, pri.mean_q, pri.min_q, pri.max_q,
            pri.monthly_q, pri.flow_duration_q, np.asarray(sos.EXCEEDANCE, dtype=float), pri.gb,
        )
        if isinstance(inputs, str):
            log.info("reach %s: %s; flagged", obs.reach_id, inputs)
            return FlpeResult.invalid(obs.reach_id, obs.nt, inputs)
        n_used = int(np.count_nonzero(inputs.used_times))
        if n_used < self.min_obs:
            reason = f"{n_used} usable times (positive slope and a width), neobam needs {self.min_obs}"
            log.info("reach %s: %s; flagged", obs.reach_id, reason)
            return FlpeResult.invalid(obs.reach_id, obs.nt, reason)
        if inputs.defaults:
            log.info("reach %s: default priors for %s", obs.reach_id, ", ".join(inputs.defaults))
        return inputs

    def _result(self, obs: ReachObs, inputs: ReachInputs, draws: dict[str, np.ndarray]) -> FlpeResult:
        s = summarise(draws, obs.nt, inputs.used_times)
        n_div = int(np.sum(draws["diverging"]))
        if n_div:
            log.warning("reach %s: %d divergent transitions", obs.reach_id, n_div)
        extra: dict[str, float | np.ndarray] = {k: v for k, v in s.items() if k not in ("q", "q_u")}
        extra["divergences"] = float(n_div)
        if "rhat" in draws:
            rhat, ess = float(draws["rhat"]), float(draws["ess"])
            extra["rhat"], extra["ess"] = rhat, ess
            if rhat > RHAT_MAX or ess < ESS_MIN:
                log.warning("reach %s: the sampler did not converge (split R-hat %.2f, %.0f effective draws; "
                            "wanted <= %.2f and >= %.0f): read its discharge with care",
                            obs.reach_id, rhat, ess, RHAT_MAX, ESS_MIN)
        params: dict[str, float | np.ndarray] = {p: float(np.mean(s[f"{p}_mean"])) for p in PARAM_GROUPS}
        return FlpeResult(reach_id=obs.reach_id, q=s["q"], q_u=s["q_u"], params=params, extra=extra)

    def write(self, path: Path, obs: Sequence[ReachObs], results: Sequence[FlpeResult]) -> None:
        """Write ``{reach_id}_geobam.nc`` (layout in the module docstring)."""
        o, res = obs[0], results[0]
        nchain = self.settings.num_chains
        with ncio.create(path) as ds:
            ds.setncattr("reach_id", np.int64(o.reach_id))
            set_valid(ds, res.valid)
            time_dim(ds, o.nt)
            for p in PARAM_GROUPS:
                g = ds.createGroup(p)
                means = np.asarray(res.extra.get(f"{p}_mean", np.full(nchain, np.nan)), dtype=float)
                sds = np.asarray(res.extra.get(f"{p}_sd", np.full(nchain, np.nan)), dtype=float)
                for c in range(means.size):
                    ncio.write_var(g, f"mean{c + 1}", means[c], ())
                    ncio.write_var(g, f"sd{c + 1}", sds[c], ())
            g = ds.createGroup("q")
            qc = np.asarray(res.extra.get("q_chain", np.full((nchain, o.nt), np.nan)), dtype=float)
            for c in range(qc.shape[0]):
                ncio.write_var(g, f"q{c + 1}", qc[c] if res.valid else np.full(o.nt, np.nan), ("nt",))


#: Where a job keeps the compiled sampler (overridable; "off" disables it).
CACHE_ENV = "CONFLUENCE_JAX_CACHE"


def _use_compile_cache() -> None:
    """Share XLA's compiled sampler between the jobs of a run, in the flpe volume."""
    setting = os.environ.get(CACHE_ENV, "")
    if setting == "off":
        return
    flpe = volume_path("flpe")
    if setting or flpe.is_dir():
        enable_compile_cache(setting or flpe / "neobam" / ".jax-cache")
