"""The sampler's model integrates log Q out exactly: its density equals the full model's
density integrated over log Q by quadrature (no sampling, so fast), and its log Q draws come
from the right conditional."""

from __future__ import annotations

import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402
import numpyro.distributions as dist  # noqa: E402
from confluence_flpe_neobam.model import PARAMS, PriorSpec, neobam_model, neobam_model_full, pack  # noqa: E402
from numpyro.infer.util import log_density  # noqa: E402

enable_x64 = jax.enable_x64


def _data(nt: int = 2, nx: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    logW = np.log(80.0) + 0.1 * rng.standard_normal((nx, nt))
    logW[0, 1] = np.nan  # a missing node-time
    logS = np.log(1e-4) + 0.05 * rng.standard_normal(nt)
    q_loc = np.full(nt, np.log(200.0))
    spec = {p: PriorSpec(h, 0.5, h - 3, h + 3) for p, h in zip(PARAMS, (np.log(0.03), 0.5, np.log(80.0), 0.5),
                                                               strict=True)}
    d = pack(logW, 0.05, logS, q_loc, q_loc - 2.0, q_loc + 1.5, 0.8, 0.5, 0.3, spec, 0.08, 0.3)
    return tuple(jnp.asarray(np.asarray(getattr(d, f))) for f in d.__dataclass_fields__)


def test_collapsed_density_is_the_full_density_integrated_over_logq() -> None:
    with enable_x64():  # quadrature to 1e-4 needs double precision (scoped: other tests keep float32)
        _check_integral()


def _check_integral() -> None:
    args = _data()
    a = dict(zip(("logW", "wmask", "werr_rel", "logS", "q_loc", "q_lo", "q_hi", "q_level_sd", "q_var_hat",
                  "q_var_sd", "prior", "sigma_w_hat", "node_sd"), args, strict=True))
    nxp, ntp = a["logW"].shape
    theta = {"logn": jnp.log(0.035), "logr": jnp.asarray(0.3), "logWb": jnp.log(85.0), "logDb": jnp.asarray(0.6),
             "level": jnp.asarray(0.2), "sigma_q": jnp.asarray(0.6), "sigma_w": jnp.asarray(0.07)}
    b = 1.0 / (1.0 + 5.0 / 3.0 * jnp.exp(theta["logr"]))
    e = 0.02 * jnp.arange(nxp) - 0.03
    u = jnp.log(b * theta["sigma_q"])  # the collapsed model samples log(b sigma_q) in place of sigma_q
    coll, _ = log_density(neobam_model, args, {}, {**{k: v for k, v in theta.items() if k != "sigma_q"},
                                                   "e": e, "u": u})

    # full model: integrate log Q over the two observed times on a grid (padded times keep a value;
    # their prior density is taken out again), with delta = e / (1 - b) and the Jacobian of that map
    grid = jnp.linspace(a["q_lo"][0], a["q_hi"][0], 801)
    q1, q2 = jnp.meshgrid(grid, grid, indexing="ij")
    pad = jnp.zeros(ntp - 2)
    tn = dist.TruncatedNormal(a["q_loc"][2:] + theta["level"], theta["sigma_q"], low=a["q_lo"][2:], high=a["q_hi"][2:])

    def full(x1: jnp.ndarray, x2: jnp.ndarray) -> jnp.ndarray:
        logq = jnp.concatenate([jnp.stack([x1, x2]), pad])
        lp, _ = log_density(neobam_model_full, args, {}, {**theta, "delta": e / (1.0 - b), "logQ": logq})
        return lp - jnp.sum(tn.log_prob(pad))

    vals = jax.vmap(jax.vmap(full))(q1, q2)
    h = grid[1] - grid[0]
    integral = jax.scipy.special.logsumexp(vals) + 2 * jnp.log(h)
    # Jacobians: delta = e / (1 - b) per node; sigma_q's density is per sigma_q, u's per log sigma_q
    expected = integral - nxp * jnp.log(1.0 - b) + jnp.log(theta["sigma_q"])
    assert float(coll) == pytest.approx(float(expected), abs=1e-4)


def test_logq_draws_follow_the_truncated_conditional() -> None:
    from confluence_flpe_neobam.model import ARG_NAMES, _draw_logq

    args = _data()
    mp = jnp.array([[5.0, 5.5] + [0.0] * 6])
    sp = jnp.array([[0.2, 3.0] + [1.0] * 6])
    draws = jax.vmap(lambda k: _draw_logq(k, {"q_mp": mp, "q_sp": sp}, args))(jax.random.split(jax.random.PRNGKey(1),
                                                                                            4000))
    a = dict(zip(ARG_NAMES, args, strict=True))
    x = np.asarray(draws)[:, 0, :2]
    assert np.all(x >= np.asarray(a["q_lo"][:2]) - 1e-9) and np.all(x <= np.asarray(a["q_hi"][:2]) + 1e-9)
    assert abs(x[:, 0].mean() - 5.0) < 0.02  # far from the bounds: the normal itself
    assert abs(x[:, 0].std() - 0.2) < 0.02
    # wide sd: truncation pulls the mean toward the middle of [lo, hi]
    lo, hi = float(a["q_lo"][1]), float(a["q_hi"][1])
    ref = dist.TruncatedNormal(5.5, 3.0, low=lo, high=hi).mean
    assert abs(x[:, 1].mean() - float(ref)) < 0.05
