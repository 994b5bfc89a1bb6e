"""The pure checks: flow realism, parameter ranges, relative change and its flags."""

from __future__ import annotations

import math

import numpy as np
from confluence_postdiagnostics import checks
from confluence_postdiagnostics.checks import FLAGGED, NO_REFERENCE, NO_RESULT, PASS


def test_flow_realistic_series_has_no_problem() -> None:
    q = np.array([50.0, np.nan, 80.0, 120.0])
    assert checks.flow_problems(q, 20.0, 400.0) == []


def test_flow_negative_infinite_and_empty() -> None:
    assert any("negative" in p for p in checks.flow_problems(np.array([5.0, -1.0])))
    assert "infinite flow" in checks.flow_problems(np.array([5.0, np.inf]))
    assert checks.flow_problems(np.full(3, np.nan)) == ["no finite flow"]


def test_flow_bounds_with_tolerance_factor() -> None:
    q = np.array([11.0, 790.0])
    assert checks.flow_problems(q, 20.0, 400.0, factor=2.0) == []
    out = checks.flow_problems(np.array([9.0, 810.0]), 20.0, 400.0, factor=2.0)
    assert len(out) == 2 and "below" in out[0] and "above" in out[1]
    assert checks.flow_problems(np.array([9.0]), math.nan, math.nan) == []  # no prior: no bound check


def test_parameter_ranges_from_the_table() -> None:
    table = checks.param_ranges()
    assert {"a0", "n", "na", "logn"} <= set(table)
    assert checks.parameter_problems({"A0": 300.0, "n": 0.03, "unknown": -5.0, "na": np.nan}) == []
    out = checks.parameter_problems({"a0": 0.0, "n": 6.2, "logn": np.log(0.001)})
    assert [p.split()[0] for p in out] == ["a0", "n", "logn"]
    assert checks.parameter_problems({"n": 0.01}) == [] and checks.parameter_problems({"n": 0.2}) == []


def test_relative_change() -> None:
    rel = checks.relative_change(np.array([110.0, 90.0, 0.0, 1.0, np.nan]), np.array([100.0, 100.0, 0.0, 0.0, 5.0]))
    np.testing.assert_allclose(rel[:4], [0.1, 0.1, 0.0, np.inf])
    assert np.isnan(rel[4])


def test_change_flags_every_case() -> None:
    new = np.array([105.0, 150.0, 100.0, np.nan, 100.0, np.nan, np.nan])
    ref = np.array([100.0, 100.0, np.nan, 100.0, 100.0, np.nan, 100.0])
    has_new = np.array([True, True, True, True, True, True, False])
    has_ref = np.array([True, True, True, True, False, True, True])
    flags, rel = checks.change_flags(new, ref, has_new, has_ref, 0.1)
    assert flags.tolist() == [PASS, FLAGGED, NO_REFERENCE, FLAGGED, NO_REFERENCE, NO_REFERENCE, NO_RESULT]
    assert flags.dtype == np.int32
    np.testing.assert_allclose(rel[:2], [0.05, 0.5])


def test_threshold_is_strict() -> None:
    flags, _ = checks.change_flags(np.array([110.0, 110.1]), np.array([100.0, 100.0]), np.ones(2, bool),
                                   np.ones(2, bool), 0.1 + 1e-9)
    assert flags.tolist() == [PASS, FLAGGED]


def test_realism_flags() -> None:
    assert checks.realism_flags([None, [], ["x"]]).tolist() == [NO_RESULT, PASS, FLAGGED]
