"""Twin experiments: synthetic reach sets of known bathymetry, friction and discharge (``hivdi_testdata``).

The truth is a trapezoidal channel (80 m bed width, banks widening 10 m per m of stage, 1e-4 bed
slope) with the depth-dependent Strickler law ``K = 25 h^0.2``, 40 lognormal discharges around
150 m3/s (cv 0.6) and a downstream control 1-1.6 times the normal depth (backwater curves).  The
SoS mean flow given to HiVDI is off by the factor stated in each test; the geoBAM n and A0 priors
are the truth's.  Measured values (seeds 0, 1, 2) are in each docstring; the bounds leave room.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from confluence_flpe_hivdi import HiVDI, problem
from confluence_flpe_hivdi.config import HivdiConfig
from hivdi_testdata import SWOT_NOISE, make_twin


def scores(seed: int, **kw: Any) -> list[dict[str, float]]:
    """Per reach: nRMSE, Pearson r, mean ratio - 1 of the discharge, relative A0 error, background nRMSE."""
    tw = make_twin(seed=seed, bank=5.0, **kw)
    background = np.exp(problem.build(tw.reaches, HivdiConfig()).background.log_q)
    out = []
    for k, res in enumerate(HiVDI().run(tw.reaches)):
        assert res.valid and res.extra["choked"] == 0
        q, truth = res.q, tw.q[k]
        out.append({"nrmse": float(np.sqrt(np.mean((q - truth) ** 2)) / truth.mean()),
                    "r": float(np.corrcoef(q, truth)[0, 1]), "bias": float(q.mean() / truth.mean() - 1),
                    "a0": float(res.params["A0"] / tw.A0[k] - 1),
                    "background": float(np.sqrt(np.mean((background - truth) ** 2)) / truth.mean())})
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mean_flow_prior_too_high(seed: int) -> None:
    """Prior x1.3, nodes with 0.1 m noise (30 nodes, 8 km): nRMSE <= 0.20, bias <= 10 %, A0 within 10 %.

    Measured: nRMSE 0.090 / 0.131 / 0.087 (background 0.42 / 0.40 / 0.42), bias +1.6 / +3.1 / +1.3 %,
    A0 -5.2 / -3.0 / -5.4 %, r 0.987 / 0.971 / 0.987.
    """
    (s,) = scores(seed, noise=0.1, q_prior_factor=1.3)
    assert s["nrmse"] <= 0.20 and abs(s["bias"]) <= 0.10 and abs(s["a0"]) <= 0.10 and s["r"] >= 0.95
    assert s["nrmse"] < 0.5 * s["background"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mean_flow_prior_too_low(seed: int) -> None:
    """Prior /1.3, the same set: nRMSE <= 0.25, bias within 20 %, A0 within 15 %.

    Measured: nRMSE 0.169 / 0.194 / 0.180 (background 0.32 / 0.30 / 0.33), bias -15.4 / -13.2 / -15.2 %
    (the method's own low bias on this channel, -9 % with the exact prior and no noise, adds to the
    prior's), A0 -9.8 / -5.4 / -8.2 %.
    """
    (s,) = scores(seed, noise=0.1, q_prior_factor=1 / 1.3)
    assert s["nrmse"] <= 0.25 and abs(s["bias"]) <= 0.20 and abs(s["a0"]) <= 0.15 and s["r"] >= 0.95
    assert s["nrmse"] < s["background"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_swot_like_reach_set(seed: int) -> None:
    """Two 5 km reaches of 20 nodes, SWOT-like errors, 10 % of node observations missing, prior x1.3.

    Errors (``SWOT_NOISE``): node wse 0.30 m, reach wse 0.10 m, reach slope 1.7e-5, widths 15 %.
    Stated: nRMSE <= 0.40, r >= 0.80, bias within 20 %, A0 within 20 %, better than the background.
    Measured: nRMSE 0.300 / 0.260 / 0.339 (background 0.43 / 0.44 / 0.42), r 0.865 / 0.909 / 0.901,
    bias +11.1 / +0.8 / +15.3 %, A0 +12.7 and +1.6 / -6.5 and -2.7 / +1.9 and +11.4 %.
    """
    assert SWOT_NOISE["node_wse"] == 0.30
    out = scores(seed, n_reaches=2, nodes=20, length=5000.0, swot=True, gaps=0.1, q_prior_factor=1.3)
    for s in out:
        assert s["nrmse"] <= 0.40 and s["r"] >= 0.80 and abs(s["bias"]) <= 0.20 and abs(s["a0"]) <= 0.20
        assert s["nrmse"] < s["background"]
