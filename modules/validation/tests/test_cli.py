"""``confluence-validation`` per reach on small hand-made runs."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from confluence_core.fill import FLOAT_FILL
from validation_builders import OBS_DAYS, RID, SOS, gauge_q, gauge_series, make_run, qt, write_sos


def read(path: Path) -> tuple[dict, dict]:
    with netCDF4.Dataset(path) as ds:
        ds.set_auto_mask(False)
        attrs = {k: ds.getncattr(k) for k in ds.ncattrs()}
        data = {name: var[...] for name, var in ds.variables.items()}
        data["products"] = list(netCDF4.chartostring(data["products"]))
        data["dims"] = {k: len(v) for k, v in ds.dimensions.items()}
    return attrs, data


def test_reach_with_gauge_writes_statistics(mnt: Path, run_cli) -> None:
    make_run(mnt)
    res = run_cli("--index", "0")
    assert res.exit_code == 0, res.output
    path = mnt / "validation" / f"{RID}_validation.nc"
    attrs, d = read(path)
    assert d["products"] == ["momma", "consensus", "moi_momma", "moi_sad", "offline_momma_c", "offline_momma_uc"]
    assert "sads_q_c" in res.output and "product skipped" in res.output
    assert d["dims"]["num_products"] == 6 and d["dims"]["num_days"] == 6  # the fill time has no day
    assert attrs["gauge_agency"] == "USGS" and attrs["gauge_id"] == "15744500"
    assert attrs["gauge_utc_offset_hours"] == 0.0 and attrs["reach_id"] == RID
    assert d["n_matched"].tolist() == [6, 6, 6, 0, 6, 6]
    # momma = 1.1 x gauge: r 1, alpha 1.1, beta 1.1, nBIAS 0.1, nRMSE = 0.1 sqrt(mean(o^2)) / mean(o)
    o = np.array([gauge_q(day) for day in OBS_DAYS])
    assert d["nbias"][0] == pytest.approx(0.1)
    assert d["r"][0] == pytest.approx(1.0) and d["r2"][0] == pytest.approx(1.0)
    assert d["kge"][0] == pytest.approx(1 - math.sqrt(0.02))
    assert d["rmse"][0] == pytest.approx(0.1 * math.sqrt(np.mean(o**2)))
    assert d["nrmse"][0] == pytest.approx(0.1 * math.sqrt(np.mean(o**2)) / o.mean())
    assert d["nse"][0] == pytest.approx(1 - np.sum((0.1 * o) ** 2) / np.sum((o - o.mean()) ** 2))
    assert d["rmse"][1] == pytest.approx(np.sqrt(np.mean((0.1 * o - 20) ** 2)))
    assert (d["nse"][3] == FLOAT_FILL) and (d["kge"][3] == FLOAT_FILL)  # all-missing MOI group: fill
    np.testing.assert_allclose(d["gauge_q"], o)
    np.testing.assert_array_equal(d["day"], [qt(day) for day in OBS_DAYS])
    assert "wrote" in res.output and str(path) in res.output


def test_reach_without_validation_gauge_writes_nothing(mnt: Path, run_cli) -> None:
    make_run(mnt)
    res = run_cli("--index", "1", "-v")
    assert res.exit_code == 0, res.output
    assert not list((mnt / "validation").iterdir())
    lines = [ln for ln in res.output.splitlines() if "74269800099" in ln]
    assert len(lines) == 1 and "DEBUG" in lines[0] and "no validation gauge" in lines[0]


def test_calibration_gauge_is_not_used(mnt: Path, run_cli) -> None:
    days, q = gauge_series()
    make_run(mnt, gauges={"USGS": [{"reach_id": RID, "id": "1", "cal": 1, "qt": days, "q": q}]})
    res = run_cli("--index", "0")
    assert res.exit_code == 0 and not (mnt / "validation" / f"{RID}_validation.nc").exists()


def test_gauge_without_matched_days_gives_fill_statistics(mnt: Path, run_cli) -> None:
    days, q = gauge_series(start="2020-01-01")
    make_run(mnt, gauges={"WSC": [{"reach_id": RID, "id": "08MF005", "cal": 0, "qt": days, "q": q}]})
    res = run_cli("--index", "0")
    assert res.exit_code == 0, res.output
    attrs, d = read(mnt / "validation" / f"{RID}_validation.nc")
    assert attrs["gauge_agency"] == "WSC" and attrs["gauge_id"] == "08MF005"
    assert d["n_matched"].tolist() == [0] * 6
    for name in ("nse", "r2", "kge", "rmse", "nrmse", "nbias", "r"):
        assert (d[name] == FLOAT_FILL).all(), name
    assert "no usable value on any of the 6 observation days" in res.output


def test_duplicates_averaged_with_warning_gaps_and_negatives_unmatched(mnt: Path, run_cli) -> None:
    days, q = gauge_series()
    i1, i3, i5 = (days.index(qt(day)) for day in ("2024-07-01", "2024-07-03", "2024-07-05"))
    q[i3] = -1.0                                   # negative -> missing
    days2, q2 = [*days, days[i1]], [*q, q[i1] + 40.0]  # duplicate of 07-01: mean = q + 20
    del days2[i5], q2[i5]                          # gap on 07-05
    est = np.array([gauge_q(day) for day in OBS_DAYS] + [1.0])
    make_run(mnt, gauges={"USGS": [{"reach_id": RID, "id": "15744500", "cal": 0, "qt": days2, "q": q2}]},
             est=est)
    res = run_cli("--index", "0")
    assert res.exit_code == 0, res.output
    warn = [ln for ln in res.output.splitlines() if "WARNING" in ln]
    assert any("USGS gauge 15744500" in ln and "1 days recorded more than once" in ln for ln in warn)
    assert any("USGS gauge 15744500" in ln and "1 negative" in ln for ln in warn)
    attrs, d = read(mnt / "validation" / f"{RID}_validation.nc")
    assert d["n_matched"][0] == 4  # 6 days - gap - negative
    assert d["gauge_q"][0] == pytest.approx(gauge_q("2024-07-01") + 20.0)
    assert d["gauge_q"][1] == FLOAT_FILL and d["gauge_q"][2] == FLOAT_FILL
    assert attrs["gauge_duplicate_days"] == 1 and attrs["gauge_negative_values"] == 1
    assert d["rmse"][0] == pytest.approx(math.sqrt(20.0**2 / 4))


def test_utc_offset_moves_the_gauge_day(mnt: Path, run_cli) -> None:
    est = make_run(mnt)
    res = run_cli("--index", "0", env={"CONFLUENCE_GAUGE_UTC_OFFSET": "-9"})
    assert res.exit_code == 0, res.output
    attrs, d = read(mnt / "validation" / f"{RID}_validation.nc")
    assert attrs["gauge_utc_offset_hours"] == -9.0
    prev = [(dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat() for day in OBS_DAYS]
    np.testing.assert_array_equal(d["day"], [qt(day) for day in prev])
    np.testing.assert_allclose(d["gauge_q"], [gauge_q(day) for day in prev])
    np.testing.assert_allclose(d["product_q"][0], est[:6])
    assert d["nbias"][0] == pytest.approx(np.mean(est[:6] - d["gauge_q"]) / d["gauge_q"].mean())
    assert run_cli("--index", "0", "--utc-offset", "-20").exit_code == 2  # outside -14..14


def test_agencies_from_comma_list_and_group_names(mnt: Path, run_cli) -> None:
    days, q = gauge_series()
    gauges = {"USGS": [{"reach_id": RID, "id": "a", "cal": 0, "qt": days[:3], "q": q[:3]}],
              "WSC": [{"reach_id": RID, "id": "b", "cal": 0, "qt": days, "q": q}]}
    make_run(mnt, gauges=gauges)
    write_sos(mnt / "input" / "sos" / SOS, gauges, gauge_agency="USGS")  # WSC only found as a group
    res = run_cli("--index", "0")
    assert res.exit_code == 0, res.output
    attrs, _ = read(mnt / "validation" / f"{RID}_validation.nc")
    assert (attrs["gauge_agency"], attrs["gauge_id"]) == ("WSC", "b")  # more observation days covered
    assert attrs["other_validation_gauges"] == "USGS gauge a"
    write_sos(mnt / "input" / "sos" / SOS, {"USGS": gauges["USGS"]}, gauge_agency="GRDC, USGS")
    assert run_cli("--index", "0").exit_code == 0
    assert read(mnt / "validation" / f"{RID}_validation.nc")[0]["gauge_id"] == "a"


def test_missing_sos_is_one_error_line(mnt: Path, run_cli) -> None:
    make_run(mnt)
    (mnt / "input" / "sos" / SOS).unlink()
    res = run_cli("--index", "0")
    assert res.exit_code == 1
    assert res.output.strip().splitlines()[-1] == \
        f"error: confluence-validation: {mnt / 'input' / 'sos' / SOS}: file not found"


def test_unreadable_product_is_skipped_with_warning(mnt: Path, run_cli) -> None:
    make_run(mnt)
    (mnt / "moi" / f"{RID}_integrator.nc").write_text("not netcdf")
    res = run_cli("--index", "0")
    assert res.exit_code == 0, res.output
    assert "MOI products skipped" in res.output
    _, d = read(mnt / "validation" / f"{RID}_validation.nc")
    assert d["products"] == ["momma", "consensus", "offline_momma_c", "offline_momma_uc"]
