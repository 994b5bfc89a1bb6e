"""Synthetic reaches that obey the neoBAM flow law exactly (plus small noise)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from confluence_flpe.interface import Priors, ReachObs

#: True flow-law parameters of the synthetic reach.
TRUTH = {"n": 0.03, "r": 2.5, "Wb": 120.0, "Db": 3.0}


@dataclass
class Synthetic:
    obs: ReachObs
    priors: Priors
    q_true: np.ndarray


def make_reach(seed: int = 1, nx: int = 30, nt: int = 50, bias: float = 1.3, missing: float = 0.2,
               noise: float = 0.03) -> Synthetic:
    """A reach with ``nx`` nodes and ``nt`` times; flow prior = ``bias`` x the true mean flow.

    log W = b (log Q + log n - log S / 2 - 5/3 log Db) + (1 - b)(log Wb + delta_i) + noise,
    b = 1 / (1 + 5 r / 3); a fraction ``missing`` of node widths is NaN.
    """
    rng = np.random.default_rng(seed)
    logQ = np.log(300.0) + 0.8 * rng.standard_normal(nt)
    logS = np.log(1e-4) + 0.15 * (logQ - logQ.mean()) + 0.05 * rng.standard_normal(nt)
    delta = 0.1 * rng.standard_normal(nx)
    b = 1.0 / (1.0 + 5.0 * TRUTH["r"] / 3.0)
    drive = logQ + np.log(TRUTH["n"]) - 0.5 * logS - 5.0 / 3.0 * np.log(TRUTH["Db"])
    logW = b * drive[None, :] + (1 - b) * (np.log(TRUTH["Wb"]) + delta)[:, None]
    logW += noise * rng.standard_normal((nx, nt))
    node_w = np.exp(logW)
    node_w[rng.random((nx, nt)) < missing] = np.nan
    time = (np.arange(nt) * 10.0 + 8000.0) * 86400.0
    obs = ReachObs(
        reach_id=74269800011, time=time, time_str=np.full(nt, "2022-01-01T00:00:00Z", dtype=object),
        width=np.nanmedian(node_w, axis=0), wse=np.full(nt, 10.0), slope=np.exp(logS),
        d_x_area=np.zeros(nt), node_width=node_w,
    )
    q_prior = bias * float(np.exp(logQ).mean())
    gb = {
        "logn_hat": np.log(TRUTH["n"]) + 0.1, "logn_sd": 0.25, "lower_logn": -4.6, "upper_logn": -1.5,
        "logr_hat": np.log(TRUTH["r"]) + 0.2, "logr_sd": 0.4, "lower_logr": np.log(0.5),
        "upper_logr": np.log(10.0),
        "logWb_hat": np.log(TRUTH["Wb"]) + 0.05, "logWb_sd": 0.1, "lower_logWb": np.log(TRUTH["Wb"]) - 1,
        "upper_logWb": np.log(TRUTH["Wb"]) + 1,
        "logDb_hat": np.log(TRUTH["Db"]) - 0.1, "logDb_sd": 0.3, "lower_logDb": np.log(TRUTH["Db"]) - 2,
        "upper_logDb": np.log(TRUTH["Db"]) + 2,
        "logQ_sd": 0.8326, "Werr_sd": 10.0,
    }
    priors = Priors(reach_id=obs.reach_id, mean_q=q_prior, min_q=q_prior / 100, max_q=q_prior * 100,
                    monthly_q=np.full(12, q_prior), gb=gb)
    return Synthetic(obs, priors, np.exp(logQ))


@pytest.fixture()
def synthetic() -> Synthetic:
    return make_reach()


@pytest.fixture(scope="session")
def make_synthetic():
    """The :func:`make_reach` factory (tests cannot import conftest under importlib mode)."""
    return make_reach
