"""The neoBAM likelihood and its NUTS sampler (numpyro on JAX, CPU).

Flow law
--------
Manning's equation for a wide channel, ``Q = n^-1 W D^(5/3) S^(1/2)``
(Q m3/s, W width m, D mean depth m, S slope m/m), with the mean depth tied to
the width by the channel-shape power law of Dingman (2007,
doi:10.1016/j.jhydrol.2006.09.021), ``D = Db (W / Wb)^r``: ``Wb``/``Db`` are
the bankfull width and depth (m) and ``r`` the shape exponent (r = 1
triangle-like, r -> inf rectangle).  Solved for the width, in logs, with
``b = 1 / (1 + 5 r / 3)``::

    log W_it = b (log Q_t + log n - 0.5 log S_t - 5/3 log Db) + (1 - b) (log Wb + delta_i)

``b`` is the at-a-station width exponent implied by Manning and the shape law
(W ~ Q^b at constant slope), so this is the AHG width relation of BAM
(Gleason & Smith 2014, doi:10.1073/pnas.1317606111; Hagemann et al. 2017,
doi:10.1002/2017WR021626) with coefficients that carry the flow law.
``delta_i`` is node i's offset of log Wb from the reach value (nodes of one
reach differ in width at the same discharge); ``Q_t`` is shared by every node
(mass conservation along the reach, the premise of BAM/geoBAM, Brinkerhoff et
al. 2020, doi:10.1029/2020WR027949).

Likelihoods and priors (all logs natural)
-----------------------------------------
- ``log W_it ~ Normal(mu_it, sqrt(sigma_w^2 + (Werr / W_it)^2))`` for each
  observed node-time (masked node-times add nothing): ``sigma_w`` is the
  structural error of the flow law in log width, learned
  (``sigma_w ~ LogNormal(ln sigma_w_hat, 1)``), ``Werr`` the width
  measurement error (m).  The error is deliberately not ``b sigma_man`` (a
  Manning error in log Q mapped to width): that sd shrinks with ``b`` and the
  likelihood's normalisation then drives ``r`` upward (seen on synthetic
  reaches: r 2.5 -> 7.9).
- ``log Q_t ~ TruncatedNormal(q_loc_t + level, sigma_q, q_lo_t, q_hi_t)`` with
  ``level ~ Normal(0, logQ_sd)`` (the error of the prior's flow level is one
  error shared by all times, not independent per time: independent per-time
  errors would pin the mean flow to the prior to logQ_sd / sqrt(nt)) and
  ``sigma_q ~ LogNormal(ln q_var_hat, q_var_sd)`` (spread of log Q about the
  monthly centre).
- ``log n``, ``log r``, ``log Wb``, ``log Db`` ~ TruncatedNormal(hat, sd, lower, upper)
- ``delta_i ~ Normal(0, node_sd)``, used centred on the observed nodes, so
  ``log Wb`` is the reach mean of the node values.

Identifiability: widths and slopes fix ``b (log Q_t - log S_t / 2)`` up to a
constant; the scale ``b`` (so ``r``) is learned only against the priors on
``r`` and ``sigma_q``, and the flow level against the priors on n, Db, Wb and
the flow level.  With an unbiased r prior the flow level error of the prior
is largely removed (tests/test_sampling.py); with a wrong r prior it is not.

Convergence is checked, and reported
------------------------------------
:func:`sample` computes split R-hat and the effective sample size of ``log r``
and of the reach's mean ``log Q`` (:func:`convergence`); the plug-in warns
when R-hat is above :data:`RHAT_MAX` or there are fewer than :data:`ESS_MIN`
effective draws.  On reaches whose many nodes pin the widths tightly, NUTS in
these coordinates fills its whole tree (255 leapfrog steps) on every draw and
still mixes poorly: ``log Q_t`` and ``delta_i`` sit on a narrow ridge that moves
with ``b`` (the widths fix ``b log Q_t`` to thousandths while ``b`` is known to
tens of percent).  An exact change of variables to what the widths pin (the
reach log width per time and the node offsets in log width) mixed about 100
times better per CPU second on such reaches but stalled at the truncation
bounds of ``log Q`` on Pepsi-1's few-node reaches, so it is not used; the
issue-18 closing note keeps the figures and the way forward (integrating
``log Q`` out: it is conditionally Gaussian given the flow-law parameters).

The sampler is the No-U-Turn Sampler (Hoffman & Gelman 2014,
http://jmlr.org/papers/v15/hoffman14a.html) of numpyro (Phan et al. 2019,
arXiv:1912.11554) with a mass matrix adapted during warm-up (dense by default,
:class:`SamplerSettings`).

Compile once per job, or never
------------------------------
Arrays are padded to bucket sizes (:func:`bucket`) and carry masks, and the
model's data are traced arguments (``jit_model_args=True``), so every reach
whose padded shape was seen before reuses the compiled sampler: one
compilation per bucket shape and per process.  Padded times and nodes get a
standard-normal prior and no likelihood: they cost a little sampling effort
and are dropped from the output.  A grouped job hands all its reaches to
:func:`sample_many` (through ``NeoBAM.run``), so the compile is paid once per
shape for the whole job; with the persistent cache (:func:`enable_compile_cache`)
filled ahead of time by ``python -m confluence_flpe_neobam.warm`` it is not paid
at all.  Each reach is sampled with its own key ``PRNGKey(seed)`` by the same
program whatever else the job holds, so its draws do not depend on the other
reaches.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

# Pin JAX to the CPU before it is imported (no accelerator in the images).
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# One process, one core: XLA's intra-op threads only add overhead on these small arrays.
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax import lax
from numpyro.diagnostics import effective_sample_size, split_gelman_rubin
from numpyro.distributions import constraints
from numpyro.distributions.transforms import biject_to
from numpyro.infer.hmc import hmc
from numpyro.infer.util import constrain_fn, potential_energy


def enable_compile_cache(folder: str | os.PathLike[str]) -> None:
    """Keep XLA's compiled sampler in ``folder`` so later processes skip the ~20 s compile.

    Every reach runs in its own job (process or container); without a
    persistent cache each would compile the same padded model again.
    """
    os.makedirs(folder, exist_ok=True)
    update: Callable[[str, Any], None] = jax.config.update  # jax does not annotate Config.update
    update("jax_compilation_cache_dir", str(folder))
    update("jax_persistent_cache_min_compile_time_secs", 0.0)
    update("jax_persistent_cache_min_entry_size_bytes", -1)


#: Model parameters sampled per reach, the rows of ``ModelData.prior``.
PARAMS = ("logn", "logr", "logWb", "logDb")
#: Bucket sizes for padding the time and node axes.
BUCKETS = (8, 16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)


def bucket(n: int) -> int:
    """Smallest bucket size >= ``n`` (multiples of 256 beyond the table)."""
    for size in BUCKETS:
        if n <= size:
            return size
    return int(-(-n // 256) * 256)


@dataclass
class PriorSpec:
    """Prior of one parameter: truncated normal on the log scale."""

    hat: float
    sd: float
    lower: float
    upper: float


@dataclass
class ModelData:
    """Padded arrays handed to the model (``nxp`` nodes, ``ntp`` times).

    Attributes
    ----------
    logW : ndarray [nxp, ntp]
        log node width (log m), 0 where masked.
    wmask : ndarray of bool [nxp, ntp]
        True where a node width enters the likelihood.
    werr_rel : ndarray [nxp, ntp]
        Width error relative to the width, ``Werr / W`` (-).
    logS : ndarray [ntp]
        log reach slope (log m/m), 0 where masked.
    q_loc, q_lo, q_hi : ndarray [ntp]
        Prior centre and bounds of log Q per time (log m3/s).
    q_level_sd : float
        sd of the shared error of the prior's flow level (log m3/s).
    q_var_hat : float
        Prior median of ``sigma_q``, the sd of log Q about the shifted prior
        centre (log m3/s).
    q_var_sd : float
        sd of log ``sigma_q`` (-).
    prior : ndarray [4, 4]
        Rows :data:`PARAMS`, columns hat, sd, lower, upper.
    sigma_w_hat : float
        Prior median of the structural width error ``sigma_w`` (log m).
    node_sd : float
        Prior sd of the node offsets of log Wb (-).
    """

    logW: np.ndarray
    wmask: np.ndarray
    werr_rel: np.ndarray
    logS: np.ndarray
    q_loc: np.ndarray
    q_lo: np.ndarray
    q_hi: np.ndarray
    q_level_sd: float
    q_var_hat: float
    q_var_sd: float
    prior: np.ndarray
    sigma_w_hat: float
    node_sd: float

    def as_args(self) -> tuple[np.ndarray, ...]:
        """The model's positional arguments (float32 / bool arrays)."""
        out = []
        for f in fields(self):
            val = np.asarray(getattr(self, f.name))
            out.append(val if val.dtype == bool else val.astype(np.float32))
        return tuple(out)


def pack(
    logW: np.ndarray,
    werr_rel: np.ndarray,
    logS: np.ndarray,
    q_loc: np.ndarray,
    q_lo: np.ndarray,
    q_hi: np.ndarray,
    q_level_sd: float,
    q_var_hat: float,
    q_var_sd: float,
    priors: dict[str, PriorSpec],
    sigma_w_hat: float,
    node_sd: float,
) -> ModelData:
    """Pad the observations to bucket sizes and build the masks.

    Parameters
    ----------
    logW : ndarray [nx, nt]
        log node width (log m), NaN where unobserved.
    werr_rel : ndarray [nx, nt] or float
        Width error over width (-).
    logS : ndarray [nt]
        log reach slope (log m/m), NaN where unusable; such times are masked.
    q_loc, q_lo, q_hi : ndarray [nt]
        Prior of log Q per time (log m3/s): centre, lower and upper bound.
    q_level_sd, q_var_hat, q_var_sd : float
        See :class:`ModelData`.
    priors : dict
        :class:`PriorSpec` for each name of :data:`PARAMS`.
    sigma_w_hat : float
        Prior median of the structural width error (log m).
    node_sd : float
        Prior sd of the node offsets of log Wb.

    Returns
    -------
    ModelData
    """
    logW = np.asarray(logW, dtype=float)
    nx, nt = logW.shape
    nxp, ntp = bucket(nx), bucket(nt)
    tmask = np.isfinite(logS)
    wmask = np.zeros((nxp, ntp), dtype=bool)
    wmask[:nx, :nt] = np.isfinite(logW) & tmask[None, :]
    padW = np.zeros((nxp, ntp))
    padW[:nx, :nt] = np.where(wmask[:nx, :nt], logW, 0.0)
    padE = np.zeros((nxp, ntp))
    padE[:nx, :nt] = np.where(wmask[:nx, :nt], np.broadcast_to(werr_rel, (nx, nt)), 0.0)
    padS = np.zeros(ntp)
    padS[:nt] = np.where(tmask, logS, 0.0)

    def _pad(a: np.ndarray, fill: float) -> np.ndarray:
        out = np.full(ntp, fill)
        out[:nt] = np.broadcast_to(a, (nt,))
        return out

    prior = np.array([[priors[p].hat, priors[p].sd, priors[p].lower, priors[p].upper] for p in PARAMS])
    return ModelData(
        logW=padW,
        wmask=wmask,
        werr_rel=padE,
        logS=padS,
        q_loc=_pad(q_loc, 0.0),
        q_lo=_pad(q_lo, -10.0),
        q_hi=_pad(q_hi, 10.0),
        q_level_sd=float(q_level_sd),
        q_var_hat=float(q_var_hat),
        q_var_sd=float(q_var_sd),
        prior=prior,
        sigma_w_hat=float(sigma_w_hat),
        node_sd=float(node_sd),
    )


def neobam_model(
    logW: jnp.ndarray,
    wmask: jnp.ndarray,
    werr_rel: jnp.ndarray,
    logS: jnp.ndarray,
    q_loc: jnp.ndarray,
    q_lo: jnp.ndarray,
    q_hi: jnp.ndarray,
    q_level_sd: jnp.ndarray,
    q_var_hat: jnp.ndarray,
    q_var_sd: jnp.ndarray,
    prior: jnp.ndarray,
    sigma_w_hat: jnp.ndarray,
    node_sd: jnp.ndarray,
) -> None:
    """numpyro model of neoBAM (see the module docstring for the equations)."""
    vals = {}
    for k, name in enumerate(PARAMS):
        hat, sd, lo, hi = prior[k, 0], prior[k, 1], prior[k, 2], prior[k, 3]
        vals[name] = numpyro.sample(name, dist.TruncatedNormal(hat, sd, low=lo, high=hi))
    level = numpyro.sample("level", dist.Normal(0.0, q_level_sd))
    sigma_q = numpyro.sample("sigma_q", dist.LogNormal(jnp.log(q_var_hat), q_var_sd))
    logQ = numpyro.sample("logQ", dist.TruncatedNormal(q_loc + level, sigma_q, low=q_lo, high=q_hi))
    delta = numpyro.sample("delta", dist.Normal(jnp.zeros(logW.shape[0]), node_sd))
    sigma_w = numpyro.sample("sigma_w", dist.LogNormal(jnp.log(sigma_w_hat), 1.0))
    r = jnp.exp(vals["logr"])
    b = 1.0 / (1.0 + 5.0 / 3.0 * r)
    drive = logQ + vals["logn"] - 0.5 * logS - 5.0 / 3.0 * vals["logDb"]
    # Node offsets centred on the observed nodes: log Wb is the reach mean of the node log Wb.
    seen = jnp.any(wmask, axis=1)
    dc = delta - jnp.sum(jnp.where(seen, delta, 0.0)) / jnp.maximum(jnp.sum(seen), 1)
    mu = b * drive[None, :] + (1.0 - b) * (vals["logWb"] + dc)[:, None]
    sigma = jnp.sqrt(sigma_w**2 + werr_rel**2)
    with numpyro.handlers.mask(mask=wmask):
        numpyro.sample("logW", dist.Normal(mu, sigma), obs=logW)


@dataclass(frozen=True)
class SamplerSettings:
    """NUTS settings: 3 chains (the public file has 3) of 400 warm-up + 400 draws,
    dense mass matrix (log Q and the flow-law parameters are strongly correlated),
    target acceptance 0.8, tree depth at most 8."""

    num_chains: int = 3
    num_warmup: int = 400
    num_samples: int = 400
    target_accept: float = 0.8
    max_tree_depth: int = 8
    chain_method: str = "sequential"
    dense_mass: bool = True


#: The model's positional arguments (:meth:`ModelData.as_args`; traced jax arrays inside the sampler).
ModelArgs = tuple[Any, ...]
#: Their names, in order (the fields of :class:`ModelData`).
ARG_NAMES = tuple(f.name for f in fields(ModelData))
#: The jitted sampler of all chains: (key, model args) -> (draws by name, diverging, leapfrog steps).
Runner = Callable[[jax.Array, ModelArgs], tuple[dict[str, jax.Array], jax.Array, jax.Array]]

_RUNNERS: dict[tuple[tuple[int, ...], SamplerSettings], Runner] = {}


def _init_z(args: ModelArgs) -> dict[str, jnp.ndarray]:
    """Unconstrained start: every parameter at its prior centre (kept inside its bounds)."""
    a = dict(zip(ARG_NAMES, args, strict=True))
    logW, q_loc, q_lo, q_hi, q_var_hat, prior = a["logW"], a["q_loc"], a["q_lo"], a["q_hi"], a["q_var_hat"], a["prior"]

    def _inside(x: jnp.ndarray, lo: jnp.ndarray, hi: jnp.ndarray) -> jnp.ndarray:
        pad = 0.05 * (hi - lo)
        z: jnp.ndarray = biject_to(constraints.interval(lo, hi)).inv(jnp.clip(x, lo + pad, hi - pad))
        return z

    z = {name: _inside(prior[k, 0], prior[k, 2], prior[k, 3]) for k, name in enumerate(PARAMS)}
    z["logQ"] = _inside(q_loc, q_lo, q_hi)
    z["delta"] = jnp.zeros(logW.shape[0], dtype=logW.dtype)
    z["level"] = jnp.zeros((), dtype=logW.dtype)
    z["sigma_q"] = jnp.log(q_var_hat)
    z["sigma_w"] = jnp.log(a["sigma_w_hat"])
    return z


def _runner(shape: tuple[int, ...], settings: SamplerSettings) -> Runner:
    """Build (once per padded shape and settings) the jitted sampler of all chains.

    numpyro's NUTS kernel with its warm-up adaptation (``numpyro.infer.hmc.hmc``)
    is driven by ``lax.scan`` inside one ``jax.jit``; chains run one after the
    other (``lax.map``), which suits one CPU core.  (``jax.vmap`` over chains
    was measured no faster per reach on CPU: NUTS's branches and tree-building
    loops run for the slowest chain of the batch.)
    """
    key = (shape, settings)
    if key in _RUNNERS:
        return _RUNNERS[key]

    # The potential and the map back to the model's sites, built straight from the model: numpyro's
    # initialize_model would also search for a valid start by running the model op by op (about 17 s
    # of CPU per process and shape, which no compile cache saves); the start is :func:`_init_z`.
    def pot_gen(*args: Any) -> Callable[[dict[str, jax.Array]], jax.Array]:
        return lambda z: potential_energy(neobam_model, args, {}, z)

    def post_gen(*args: Any) -> Callable[[dict[str, jax.Array]], dict[str, jax.Array]]:
        return lambda z: constrain_fn(neobam_model, args, {}, z, return_deterministic=True)

    init_kernel, sample_kernel = hmc(potential_fn_gen=pot_gen, algo="NUTS")

    def one_chain(rng: jnp.ndarray, args: ModelArgs) -> tuple[dict[str, jax.Array], jax.Array, jax.Array]:
        state = init_kernel(
            _init_z(args),
            settings.num_warmup,
            dense_mass=settings.dense_mass,
            target_accept_prob=settings.target_accept,
            max_tree_depth=settings.max_tree_depth,
            model_args=args,
            rng_key=rng,
        )

        # One scan over warm-up and draws (the kernel adapts while its iteration count is in warm-up):
        # one copy of the NUTS kernel in the program instead of two cuts the compile by a third.
        def step(st: Any, _: None) -> tuple[Any, tuple[Any, jax.Array, jax.Array]]:
            st = sample_kernel(st, model_args=args)
            return st, (st.z, st.diverging, st.num_steps)

        _, (zs, div, steps) = lax.scan(step, state, None, length=settings.num_warmup + settings.num_samples)
        keep = settings.num_warmup
        zs = jax.tree_util.tree_map(lambda x: x[keep:], zs)
        div, steps = div[keep:], steps[keep:]
        values = jax.vmap(post_gen(*args))(zs)
        return values, div, steps

    @jax.jit
    def run(rng: jnp.ndarray, args: ModelArgs) -> tuple[dict[str, jax.Array], jax.Array, jax.Array]:
        keys = jax.random.split(rng, settings.num_chains)
        chains: tuple[dict[str, jax.Array], jax.Array, jax.Array] = lax.map(lambda k: one_chain(k, args), keys)
        return chains

    _RUNNERS[key] = run
    return run


def pack_dummy(shape: tuple[int, ...]) -> ModelData:
    """A well-formed :class:`ModelData` of padded shape ``shape`` = (nxp, ntp) (for tracing and warming)."""
    nxp, ntp = shape
    spec = PriorSpec(0.0, 1.0, -5.0, 5.0)
    data = pack(
        np.zeros((nxp, ntp)), np.zeros((nxp, ntp)), np.zeros(ntp), np.zeros(ntp), np.full(ntp, -3.0), np.full(ntp, 3.0),
        1.0, 0.5, 0.5, dict.fromkeys(PARAMS, spec), 0.1, 0.3,
    )
    if data.logW.shape != shape:
        raise ValueError(f"{shape} is not a bucket shape")
    return data


def compile_shape(shape: tuple[int, ...], settings: SamplerSettings) -> None:
    """Compile the sampler of padded ``shape`` ahead of time (fills the persistent cache when enabled)."""
    run: Any = _runner(shape, settings)  # a jax.jit function (Runner does not type .lower)
    run.lower(jax.random.PRNGKey(0), pack_dummy(shape).as_args()).compile()


def sample_many(
    datas: Sequence[ModelData], settings: SamplerSettings, seed: int = 0
) -> list[dict[str, np.ndarray]]:
    """Draw from the neoBAM posterior of many reaches (a grouped job).

    Reaches of one padded shape share one compiled program (compiled once per
    process, or loaded from the persistent cache); shapes are run one after the
    other and a shape's program is released before the next one's is built, so
    the job's memory is that of one program, however many shapes it holds.  Each reach is sampled on
    its own with the key ``PRNGKey(seed)``: its draws do not depend on the
    other reaches of the call.

    Parameters
    ----------
    datas : sequence of ModelData
        Outputs of :func:`pack`, one per reach.
    settings : SamplerSettings
    seed : int
        Seed of each reach's JAX random key (same seed and data, same draws).

    Returns
    -------
    list of dict of ndarray
        Per reach, draws by chain: ``logn``, ``logr``, ``logWb``, ``logDb``
        ``[chains, draws]``, ``logQ`` ``[chains, draws, ntp]``, ``delta``
        ``[chains, draws, nxp]``, plus ``diverging`` and ``num_steps`` (leapfrog
        steps) ``[chains, draws]``.
    """
    out: list[dict[str, np.ndarray] | None] = [None] * len(datas)
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for k, d in enumerate(datas):
        by_shape.setdefault(tuple(d.logW.shape), []).append(k)
    for n, ks in enumerate(by_shape.values()):
        if n:  # one compiled program in memory at a time: a job of many shapes stays small
            release_programs()
        for k in ks:
            out[k] = sample(datas[k], settings, seed)
    return [o for o in out if o is not None]


def release_programs() -> None:
    """Drop the compiled samplers of this process (they stay in the persistent cache)."""
    _RUNNERS.clear()
    jax.clear_caches()  # type: ignore[no-untyped-call]


#: Convergence checks of a sampled reach: split R-hat at most this ...
RHAT_MAX = 1.05
#: ... and at least this many effective draws (of log r and of the reach's mean log Q).
ESS_MIN = 100.0


def convergence(draws: dict[str, np.ndarray], times: np.ndarray) -> tuple[float, float]:
    """Worst split R-hat and smallest effective sample size of ``log r`` and the mean ``log Q``
    over ``times`` (Gelman et al. 2013, Bayesian Data Analysis, 3rd ed., sections 11.4-11.5;
    numpyro's estimators), from ``[chains, draws]`` arrays."""
    mean_logq = draws["logQ"][..., times].mean(axis=-1)
    rhat = max(float(split_gelman_rubin(draws["logr"])), float(split_gelman_rubin(mean_logq)))
    ess = min(float(effective_sample_size(draws["logr"])), float(effective_sample_size(mean_logq)))
    return rhat, ess


def sample(data: ModelData, settings: SamplerSettings, seed: int = 0) -> dict[str, np.ndarray]:
    """Draw from the neoBAM posterior of one reach (output as :func:`sample_many`'s items), and
    check the draws (:func:`convergence`): the output also holds ``rhat`` and ``ess``."""
    run = _runner(data.logW.shape, settings)
    values, div, steps = run(jax.random.PRNGKey(seed), data.as_args())
    out = {k: np.asarray(v) for k, v in values.items()}
    out["diverging"] = np.asarray(div)
    out["num_steps"] = np.asarray(steps)
    rhat, ess = convergence(out, np.asarray(data.wmask.any(axis=0)))  # times with widths (never padding)
    out["rhat"], out["ess"] = np.asarray(rhat), np.asarray(ess)
    return out
