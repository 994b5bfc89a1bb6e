"""Constrained replacement: exactly the calibration reaches, originals kept, idempotent."""

from __future__ import annotations

import numpy as np
from confluence_core.sos import MODEL_Q_VARS
from confluence_priors.constrain import ModelState, apply_calibration, pick_calibration

IDS = np.array([71000000011, 71000000021, 71000000031, 71000000041], dtype=np.int64)


def model() -> ModelState:
    n = IDS.size
    vals = {k: np.arange(n, dtype=float) + 1 for k in ("mean_q", "min_q", "max_q", "two_year_return_q")}
    vals["monthly_q"] = np.tile(np.arange(n, dtype=float)[:, None] + 1, (1, 12))
    vals["flow_duration_q"] = np.tile(np.arange(n, dtype=float)[:, None] + 1, (1, 20))
    return ModelState(IDS.copy(), vals, np.zeros(n, dtype=np.int64), np.array([""] * n, dtype=object))


def gauges(reach: list[int], cal: list[int], n_days: list[int], agency: list[str]) -> dict:
    k = len(reach)
    vals = {name: np.full(k, 1000.0) + np.arange(k) for name in ("mean_q", "min_q", "max_q", "two_year_return_q")}
    vals["monthly_q"] = np.full((k, 12), 2000.0)
    vals["flow_duration_q"] = np.full((k, 20), 3000.0)
    vals["two_year_return_q"][:] = np.nan  # e.g. no complete year: the model value stays
    return pick_calibration(np.asarray(reach), np.asarray(agency, dtype=object), np.asarray(cal),
                            np.asarray(n_days), vals)


def test_replaces_exactly_the_cal1_reaches() -> None:
    m = model()
    cal = gauges([IDS[1], IDS[2], IDS[1]], [1, 0, 1], [100, 500, 300], ["USGS", "USGS", "WSC"])
    res = apply_calibration(m, cal)
    # reach 1: two CAL 1 gauges, the longer (WSC, 300 days, index 2 -> 1002) wins; reach 2: CAL 0, untouched
    assert res.model.values["mean_q"].tolist() == [1.0, 1002.0, 3.0, 4.0]
    assert res.model.values["monthly_q"][1].tolist() == [2000.0] * 12
    assert res.model.values["two_year_return_q"].tolist() == [1.0, 2.0, 3.0, 4.0]  # NaN gauge stat kept model
    assert res.model.overwritten_indexes.tolist() == [0, 1, 0, 0]
    assert res.model.overwritten_source.tolist() == ["", "WSC", "", ""]
    # the preserved originals: reach 1 only, with every replaced value
    assert res.original.reach_id.tolist() == [IDS[1]]
    for name in MODEL_Q_VARS:
        np.testing.assert_array_equal(res.original.values[name][0], m.values[name][1])
    assert res.original.overwritten_indexes.tolist() == [0]
    # the input was not modified
    assert m.values["mean_q"].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_second_run_does_not_apply_twice() -> None:
    cal = gauges([IDS[0]], [1], [10], ["USGS"])
    first = apply_calibration(model(), cal)
    second = apply_calibration(first.model, cal, first.original)
    for name in MODEL_Q_VARS:
        np.testing.assert_array_equal(second.model.values[name], first.model.values[name])
        np.testing.assert_array_equal(second.original.values[name], first.original.values[name])
    assert second.original.reach_id.tolist() == [IDS[0]]  # the first originals, not the gauge values
    assert second.original.values["mean_q"].tolist() == [1.0]


def test_reach_without_gauge_any_more_gets_its_original_back() -> None:
    first = apply_calibration(model(), gauges([IDS[3]], [1], [10], ["USGS"]))
    again = apply_calibration(first.model, gauges([IDS[0]], [1], [10], ["USGS"]), first.original)
    assert again.model.values["mean_q"].tolist() == [1000.0, 2.0, 3.0, 4.0]
    assert again.model.overwritten_indexes.tolist() == [1, 0, 0, 0]
    assert again.restored_reaches.tolist() == [IDS[3]]
    assert sorted(again.original.reach_id.tolist()) == [IDS[0], IDS[3]]


def test_no_calibration_gauge_leaves_model() -> None:
    m = model()
    res = apply_calibration(m, gauges([IDS[0]], [0], [10], ["USGS"]))
    for name in MODEL_Q_VARS:
        np.testing.assert_array_equal(res.model.values[name], m.values[name])
    assert res.original.reach_id.size == 0
