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

Sampled with log Q integrated out
---------------------------------
Given the other parameters, each ``log Q_t`` has a truncated normal prior and a
Gaussian likelihood (every node width is linear in it), so it is integrated out
exactly and drawn afterwards from its truncated normal conditional posterior, one
draw per draw of the rest (:func:`neobam_model`).  The node offsets are sampled as
offsets of log width, ``e_i = (1 - b) delta_i``, what the widths pin.  In the
original coordinates (:func:`neobam_model_full`, kept as the reference) ``log Q_t``
and ``delta_i`` sit on a narrow ridge that moves with ``b`` (the widths fix
``b log Q_t`` to thousandths while ``b`` is known to tens of percent): NUTS filled
its whole tree (255 leapfrog steps) on every draw of a 20-node reach and still gave
6 to 29 effective draws of 1,200.  Measured on Pepsi-1 (``scripts/posterior_check.py``,
two reaches per river, 16 reaches): where both converge the two samplers agree (posterior
mean discharge within 0.1 posterior sd; median 0.06 over all 16).  The collapsed sampler
converged (split R-hat <= 1.05) on 14 of 16 reaches with 65 to 1,174 effective draws and
11 to 59 leapfrog steps per draw, the full one on 10 with 2 to 546 and 22 to 251.  Where
the collapsed one did not (a reach of 14 times with r near 7, where the widths barely
follow the flow), its chains reach flows near the prior's upper bound that the full
sampler never visited; the convergence check flags it.  Once compiled, a reach takes
0.5 to 3.7 CPU s instead of 2.4 to 7.  ``make bench-accuracy`` (neoBAM, Pepsi-1): median
nRMSE 0.704, 0.707 with the full sampler.

Convergence is checked, and reported
------------------------------------
:func:`sample` computes split R-hat and the effective sample size of ``log r``
and of the reach's mean ``log Q`` (:func:`convergence`); the plug-in warns
when R-hat is above :data:`RHAT_MAX` or there are fewer than :data:`ESS_MIN`
effective draws.

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
from jax.scipy.special import log_ndtr
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


def _flowlaw_params(prior: jnp.ndarray) -> dict[str, jnp.ndarray]:
    """The four flow-law parameters (:data:`PARAMS`), each a truncated normal on the log scale."""
    vals = {}
    for k, name in enumerate(PARAMS):
        hat, sd, lo, hi = prior[k, 0], prior[k, 1], prior[k, 2], prior[k, 3]
        vals[name] = numpyro.sample(name, dist.TruncatedNormal(hat, sd, low=lo, high=hi))
    return vals


def _centred(x: jnp.ndarray, wmask: jnp.ndarray) -> jnp.ndarray:
    """``x`` minus its mean over the observed nodes (log Wb is the reach mean of the node values)."""
    seen = jnp.any(wmask, axis=1)
    return x - jnp.sum(jnp.where(seen, x, 0.0)) / jnp.maximum(jnp.sum(seen), 1)


def _log_mass(lo: jnp.ndarray, hi: jnp.ndarray) -> jnp.ndarray:
    """``log(Phi(hi) - Phi(lo))`` for ``lo < hi``, accurate in either tail."""
    flip = lo > 0.0  # upper tail: use the mirror image, where the CDFs are small and exact
    a, b = jnp.where(flip, -hi, lo), jnp.where(flip, -lo, hi)
    la, lb = log_ndtr(a), log_ndtr(b)
    return lb + jnp.log1p(-jnp.exp(jnp.minimum(la - lb, -1e-7)))


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
    """numpyro model of neoBAM with ``log Q`` integrated out (the sampler's model).

    Same joint distribution as :func:`neobam_model_full` (module docstring), sampled in
    other coordinates:

    - ``log Q_t`` is integrated out exactly.  Given the other parameters it has a
      truncated normal prior and a Gaussian likelihood (each observed node width
      is linear in it, ``log W_it ~ N(b log Q_t + c_it, s_it^2)``), so its
      marginal likelihood is closed-form: with ``w_it = 1 / s_it^2``, the
      weighted mean residual ``y_t`` of ``log W_it - c_it`` and ``sw_t = sum_i w_it``,
      ``log p(log W_.t) = sum_i [-log(2 pi s_it^2) / 2 - w_it (log W_it - c_it - y_t)^2 / 2]
      - log(1 + b^2 v sw_t) / 2 - (y_t - b m_t)^2 / (2 (b^2 v + 1 / sw_t)) + log(Zpost_t / Zprior_t)``,
      where ``m_t, v`` are the prior's centre and variance and ``Z`` the normal mass of
      ``[q_lo, q_hi]`` under the prior and under the conditional posterior
      ``N(mp_t, 1 / Pp_t)``, ``Pp_t = 1 / v + b^2 sw_t``,
      ``mp_t = (m_t / v + b sw_t y_t) / Pp_t``.  The draws of ``log Q_t`` are then
      drawn from that truncated conditional posterior, one per draw of the rest
      (exact: the joint posterior factors as p(theta | W) p(log Q | theta, W)).
    - The node offsets are sampled as offsets of log width, ``e_i = (1 - b) delta_i``
      (the quantity the widths pin), with the prior ``delta_i ~ N(0, node_sd)``
      carried over exactly: ``e_i | b ~ N(0, (1 - b) node_sd)``.
    - ``sigma_q`` is sampled as ``u = log(b sigma_q)``, the spread of log width that
      the spread of flow makes, which the widths pin while ``b`` and ``sigma_q``
      trade along a hyperbola (log sigma_q's normal prior is carried over exactly:
      the map has unit Jacobian at fixed ``b``).  On a 20-node synthetic reach this
      halved the divergent transitions and doubled the effective draws.

    Both removed the ridge on which NUTS filled its whole tree (see the module
    docstring): the sampler takes a few leapfrog steps per draw instead of 255.
    """
    vals = _flowlaw_params(prior)
    sigma_w = numpyro.sample("sigma_w", dist.LogNormal(jnp.log(sigma_w_hat), 1.0))
    b = 1.0 / (1.0 + 5.0 / 3.0 * jnp.exp(vals["logr"]))
    level = numpyro.sample("level", dist.Normal(0.0, q_level_sd))
    # u = log(b sigma_q), the spread of log width that the flow's spread makes: the widths pin it while
    # b and sigma_q trade along a hyperbola.  At fixed b, d(log sigma_q)/du = 1: log sigma_q's prior density.
    u = numpyro.sample("u", dist.ImproperUniform(constraints.real, (), ()))
    sigma_q = numpyro.deterministic("sigma_q", jnp.exp(u) / b)
    numpyro.factor("sigma_q_prior", dist.Normal(jnp.log(q_var_hat), q_var_sd).log_prob(u - jnp.log(b)))
    e = numpyro.sample("e", dist.Normal(jnp.zeros(logW.shape[0]), node_sd * (1.0 - b)))
    numpyro.deterministic("delta", e / (1.0 - b))
    # log W_it = b log Q_t + c_it + noise
    c = (b * (vals["logn"] - 0.5 * logS - 5.0 / 3.0 * vals["logDb"]))[None, :] \
        + ((1.0 - b) * vals["logWb"] + _centred(e, wmask))[:, None]
    var = sigma_w**2 + werr_rel**2
    w = jnp.where(wmask, 1.0 / var, 0.0)
    res = jnp.where(wmask, logW - c, 0.0)
    sw = jnp.sum(w, axis=0)
    has = sw > 0.0
    sw1 = jnp.where(has, sw, 1.0)  # safe denominators: no inf/NaN in the gradient of unused times
    y = jnp.sum(w * res, axis=0) / sw1
    cell = -0.5 * jnp.log(2.0 * jnp.pi * var) - 0.5 * w * (res - y[None, :]) ** 2
    within = jnp.sum(jnp.where(wmask, cell, 0.0), axis=0)
    m = q_loc + level
    v = sigma_q**2
    marg = within - 0.5 * jnp.log1p(b**2 * v * sw) - 0.5 * (y - b * m) ** 2 / (b**2 * v + 1.0 / sw1)
    prec = 1.0 / v + b**2 * sw
    mp = (m / v + b * sw * y) / prec
    sp = 1.0 / jnp.sqrt(prec)
    s0 = jnp.sqrt(v)
    trunc = _log_mass((q_lo - mp) / sp, (q_hi - mp) / sp) - _log_mass((q_lo - m) / s0, (q_hi - m) / s0)
    numpyro.factor("logW", jnp.sum(jnp.where(has, marg + trunc, 0.0)))
    numpyro.deterministic("q_mp", mp)
    numpyro.deterministic("q_sp", sp)


def neobam_model_full(
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
    """numpyro model of neoBAM with every site sampled (the module docstring's equations).

    The reference for :func:`neobam_model`, which samples the same posterior with
    ``log Q`` integrated out: ``SamplerSettings(collapsed=False)`` runs this one
    (``scripts/posterior_check.py`` compares the two).
    """
    vals = _flowlaw_params(prior)
    level = numpyro.sample("level", dist.Normal(0.0, q_level_sd))
    sigma_q = numpyro.sample("sigma_q", dist.LogNormal(jnp.log(q_var_hat), q_var_sd))
    logQ = numpyro.sample("logQ", dist.TruncatedNormal(q_loc + level, sigma_q, low=q_lo, high=q_hi))
    delta = numpyro.sample("delta", dist.Normal(jnp.zeros(logW.shape[0]), node_sd))
    sigma_w = numpyro.sample("sigma_w", dist.LogNormal(jnp.log(sigma_w_hat), 1.0))
    b = 1.0 / (1.0 + 5.0 / 3.0 * jnp.exp(vals["logr"]))
    drive = logQ + vals["logn"] - 0.5 * logS - 5.0 / 3.0 * vals["logDb"]
    mu = b * drive[None, :] + (1.0 - b) * (vals["logWb"] + _centred(delta, wmask))[:, None]
    sigma = jnp.sqrt(sigma_w**2 + werr_rel**2)
    with numpyro.handlers.mask(mask=wmask):
        numpyro.sample("logW", dist.Normal(mu, sigma), obs=logW)


@dataclass(frozen=True)
class SamplerSettings:
    """NUTS settings: 3 chains (the public file has 3) of 400 warm-up + 400 draws,
    dense mass matrix (log Q and the flow-law parameters are strongly correlated),
    target acceptance 0.8, tree depth at most 8; ``log Q`` integrated out
    (:func:`neobam_model`; ``collapsed=False`` samples every site, :func:`neobam_model_full`)."""

    num_chains: int = 3
    num_warmup: int = 400
    num_samples: int = 400
    target_accept: float = 0.8
    max_tree_depth: int = 8
    chain_method: str = "sequential"
    dense_mass: bool = True
    collapsed: bool = True


#: The model's positional arguments (:meth:`ModelData.as_args`; traced jax arrays inside the sampler).
ModelArgs = tuple[Any, ...]
#: Their names, in order (the fields of :class:`ModelData`).
ARG_NAMES = tuple(f.name for f in fields(ModelData))
#: The jitted sampler of all chains: (key, model args) -> (draws by name, diverging, leapfrog steps).
Runner = Callable[[jax.Array, ModelArgs], tuple[dict[str, jax.Array], jax.Array, jax.Array]]

_RUNNERS: dict[tuple[tuple[int, ...], SamplerSettings], Runner] = {}


def _init_z(args: ModelArgs, collapsed: bool) -> dict[str, jnp.ndarray]:
    """Unconstrained start: every parameter at its prior centre (kept inside its bounds); in the
    collapsed model the node offsets ``e`` at their data value and ``u`` at the prior centres."""
    a = dict(zip(ARG_NAMES, args, strict=True))
    logW, q_loc, q_lo, q_hi, q_var_hat, prior = a["logW"], a["q_loc"], a["q_lo"], a["q_hi"], a["q_var_hat"], a["prior"]

    def _inside(x: jnp.ndarray, lo: jnp.ndarray, hi: jnp.ndarray) -> jnp.ndarray:
        pad = 0.05 * (hi - lo)
        z: jnp.ndarray = biject_to(constraints.interval(lo, hi)).inv(jnp.clip(x, lo + pad, hi - pad))
        return z

    z = {name: _inside(prior[k, 0], prior[k, 2], prior[k, 3]) for k, name in enumerate(PARAMS)}
    z["level"] = jnp.zeros((), dtype=logW.dtype)
    if collapsed:
        # node offsets of log width at their data value: each node's mean departure from the
        # reach's mean log width at the same times (what the widths pin, to thousandths)
        wmask = a["wmask"]
        nt_seen = jnp.maximum(jnp.sum(wmask, axis=0), 1)
        reach_mean = jnp.sum(jnp.where(wmask, logW, 0.0), axis=0) / nt_seen
        dev = jnp.where(wmask, logW - reach_mean[None, :], 0.0)
        z["e"] = jnp.sum(dev, axis=1) / jnp.maximum(jnp.sum(wmask, axis=1), 1)
        b0 = 1.0 / (1.0 + 5.0 / 3.0 * jnp.exp(jnp.clip(prior[1, 0], prior[1, 2], prior[1, 3])))
        z["u"] = jnp.log(q_var_hat) + jnp.log(b0)  # u = log(b sigma_q)
    else:
        z["logQ"] = _inside(q_loc, q_lo, q_hi)
        z["delta"] = jnp.zeros(logW.shape[0], dtype=logW.dtype)
        z["sigma_q"] = jnp.log(q_var_hat)
    z["sigma_w"] = jnp.log(a["sigma_w_hat"])
    return z


def _draw_logq(rng: jax.Array, values: dict[str, jax.Array], args: ModelArgs) -> jax.Array:
    """One draw of ``log Q`` per draw of the collapsed model, from its truncated normal
    conditional posterior (:func:`neobam_model`): ``[draws, ntp]``."""
    a = dict(zip(ARG_NAMES, args, strict=True))
    mp, sp = values["q_mp"], values["q_sp"]
    lo, hi = (a["q_lo"] - mp) / sp, (a["q_hi"] - mp) / sp
    u: jax.Array = mp + sp * jax.random.truncated_normal(rng, lo, hi, shape=mp.shape, dtype=mp.dtype)
    return u


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
    model = neobam_model if settings.collapsed else neobam_model_full

    def pot_gen(*args: Any) -> Callable[[dict[str, jax.Array]], jax.Array]:
        return lambda z: potential_energy(model, args, {}, z)

    def post_gen(*args: Any) -> Callable[[dict[str, jax.Array]], dict[str, jax.Array]]:
        return lambda z: constrain_fn(model, args, {}, z, return_deterministic=True)

    init_kernel, sample_kernel = hmc(potential_fn_gen=pot_gen, algo="NUTS")

    def one_chain(rng: jnp.ndarray, args: ModelArgs) -> tuple[dict[str, jax.Array], jax.Array, jax.Array]:
        rng, rng_q = jax.random.split(rng)
        state = init_kernel(
            _init_z(args, settings.collapsed),
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
        if settings.collapsed:
            values["logQ"] = _draw_logq(rng_q, values, args)
            values = {k: v for k, v in values.items() if k not in ("q_mp", "q_sp", "e")}
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
