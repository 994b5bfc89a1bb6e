"""The parameter table against the reference file and the flow laws."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest
from confluence_core import flpe
from confluence_moi import params

REF = Path("reference_outputs") / "moi" / "77449100071_integrator.nc"


def test_table_rows_give_the_reference_variables_in_order(shared_data: Path) -> None:
    with netCDF4.Dataset(shared_data / REF) as ds:
        ref = {name: list(g.variables) for name, g in ds.groups.items()}
    ours = {s.moi: ["q", *(r.name for r in params.rules_for(s.moi)), "qbar_reachScale", "qbar_basinScale"]
            for s in flpe.algorithms().values()}
    assert ours == ref


def test_sources_exist_in_the_flpe_output_table() -> None:
    by_group = {s.moi: s for s in flpe.algorithms().values()}
    for group, rules in params.table().items():
        for rule in rules:
            assert not rule.source or rule.source in by_group[group].params, (group, rule)


def test_manning_roughness_follows_the_scaled_discharge_exactly() -> None:
    A, W, S, n, k = np.array([500.0, 800.0]), np.array([100.0, 120.0]), 1e-4, 0.03, 1.7
    manning = A ** (5 / 3) * W ** (-2 / 3) * S**0.5
    out = params.adjust("sad", {"A0": 450.0, "n": n}, k)
    assert out == pytest.approx({"n": n / k, "a0": 450.0})
    np.testing.assert_allclose(manning / out["n"], k * manning / n)


def test_log_source_hivdi_alpha_and_missing_values() -> None:
    assert params.adjust("geobam", {"logn": np.log(0.04)}, 2.0) == pytest.approx({"a0": np.nan, "n": 0.02},
                                                                                 nan_ok=True)
    assert params.adjust("hivdi", {"A0": 3.0, "alpha": 10.0, "beta": 0.5}, 2.0) == {"Abar": 3.0, "alpha": 20.0,
                                                                                   "beta": 0.5}
    unknown_k = params.adjust("metroman", {"A0": 3.0, "na": 0.03, "x1": 0.1}, np.nan)
    assert unknown_k["Abar"] == 3.0 and np.isnan(unknown_k["na"])
    assert params.adjust("an_algorithm_added_later", {"x": 1.0}, 2.0) == {}


def test_scale_series_keeps_missing_values_missing() -> None:
    out = params.scale_series(np.array([1.0, -2.0, np.nan, 4.0]), 2.0)
    np.testing.assert_array_equal(np.isnan(out), [False, True, True, False])
    assert out[[0, 3]].tolist() == [2.0, 8.0]
