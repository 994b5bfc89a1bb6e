"""A twin experiment: known truth, FLPE-like results with known per-reach bias, then the MOI.

The tiny basin of ``moi_fixtures``: true mean flows that conserve mass (:data:`TRUTH`), each
algorithm's result its own flow law with parameters biased per reach (:data:`MOMMA_BIAS`,
:data:`METRO_BIAS`), SoS priors off by 10-20 %.  The MOI must cut the mean-flow error, close the
basin's mass balance, and its integrated parameters put back through each flow law must give its
integrated mean flows (within 1 %).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from click.testing import Result
from confluence_flpe import flowlaws
from confluence_moi import integrate as ig
from moi_fixtures import METRO_BIAS, MOMMA_BIAS, REACHES, TRUTH, observations

#: Downstream index of each reach of REACHES (outlet, mid, dam, trib A, trib B).
DOWN = np.array([-1, 0, 1, 2, 2])


def _read(run: Path, rid: int, group: str) -> dict:
    with netCDF4.Dataset(run / "moi" / f"{rid}_integrator.nc") as ds:
        ds.set_auto_mask(False)
        g = ds[group]
        values = {v: np.asarray(g[v][...], dtype=float) for v in g.variables}
    return {k: np.where(v == -999999999999.0, np.nan, v) for k, v in values.items()}


@pytest.mark.parametrize(("group", "bias"), [("momma", MOMMA_BIAS), ("metroman", METRO_BIAS)])
def test_moi_cuts_the_error_closes_the_balance_and_its_parameters_hold(
        tiny_run: Path, run_cli: Callable[..., Result], group: str, bias: dict[int, float]) -> None:
    result = run_cli()
    assert result.exit_code == 0, result.output
    out = {r: _read(tiny_run, r, group) for r in REACHES}
    raw = np.array([float(out[r]["qbar_reachScale"]) for r in REACHES])
    moi = np.array([float(out[r]["qbar_basinScale"]) for r in REACHES])
    truth = np.array([TRUTH[r] for r in REACHES])
    has = np.isfinite(raw)
    assert has.sum() == len(bias)
    np.testing.assert_allclose(raw[has], [TRUTH[r] * bias[r] for r in np.array(REACHES)[has]], rtol=1e-9)

    # the error of the mean flows drops where the algorithm has results
    err_raw = np.abs(np.log(raw[has] / truth[has]))
    err_moi = np.abs(np.log(moi[has] / truth[has]))
    print(f"\nTWIN {group}: median |ln err| raw {np.median(err_raw):.3f} moi {np.median(err_moi):.3f}; "
          f"max raw {err_raw.max():.3f} moi {err_moi.max():.3f}; "
          f"deficit raw {ig.mass_deficit(DOWN, raw):.3g} moi {ig.mass_deficit(DOWN, moi):.3g}")
    assert np.median(err_moi) < np.median(err_raw), (err_raw, err_moi)
    assert err_moi.max() < err_raw.max()
    # mass is conserved over the whole basin (every reach carries what flows into it)
    assert ig.mass_deficit(DOWN, raw) > 0 or has.sum() < 3
    assert ig.mass_deficit(DOWN, moi) == pytest.approx(0.0, abs=1e-9)

    # the integrated parameters, through the algorithm's own flow law, give MOI's mean flow
    law = flowlaws.get(group)
    for k, r in enumerate(REACHES):
        if not has[k]:
            continue
        params = {name: float(out[r][name]) for name in law.params}
        assert law.mean_q(params, observations(r)) == pytest.approx(moi[k], rel=0.01)
        np.testing.assert_allclose(law.q(params, observations(r)), out[r]["q"], rtol=1e-12)
