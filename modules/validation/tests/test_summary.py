"""``confluence-validation summary``: the run's CSV table and figure."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from confluence_core.scores import NAMES as STATISTICS
from validation_builders import make_run


def _run_one_reach(mnt: Path, run_cli) -> None:
    make_run(mnt)
    assert run_cli("--index", "0").exit_code == 0


def test_summary_writes_csv_and_png(mnt: Path, run_cli) -> None:
    _run_one_reach(mnt, run_cli)
    (mnt / "validation" / "99999999999_validation.nc").write_text("broken")  # left out with a warning
    res = run_cli("summary")
    assert res.exit_code == 0, res.output
    csv_path, png_path = mnt / "validation" / "summary.csv", mnt / "validation" / "summary.png"
    lines = res.output.strip().splitlines()
    assert lines[-2].endswith(f"wrote {csv_path}") and lines[-1].endswith(f"wrote {png_path}")
    assert "99999999999_validation.nc" in res.output and "left out of the summary" in res.output
    with csv_path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["reach_id", "gauge_agency", "gauge_id", "product", "family", "n_matched",
                             *STATISTICS, "left_out"]
    assert {r["left_out"] for r in rows} == {""}
    assert [r["product"] for r in rows] == ["momma", "consensus", "moi_momma", "moi_sad", "offline_momma_c",
                                            "offline_momma_uc"]
    momma = rows[0]
    assert (momma["reach_id"], momma["gauge_agency"], momma["gauge_id"]) == ("74269800011", "USGS", "15744500")
    assert float(momma["nbias"]) == pytest.approx(0.1) and momma["n_matched"] == "6"
    assert rows[3]["nse"] == "" and rows[3]["n_matched"] == "0"  # no matched day: empty cells
    png = png_path.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert not [p for p in (mnt / "validation").iterdir() if p.name.endswith(".part")]


def test_summary_matches_the_netcdf_values(mnt: Path, run_cli) -> None:
    import netCDF4

    _run_one_reach(mnt, run_cli)
    assert run_cli("summary", "--hydrographs", "0").exit_code == 0
    with (mnt / "validation" / "summary.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    with netCDF4.Dataset(mnt / "validation" / "74269800011_validation.nc") as ds:
        for stat in STATISTICS:
            want = np.ma.filled(ds[stat][:], np.nan)
            got = np.array([float(r[stat]) if r[stat] else np.nan for r in rows])
            np.testing.assert_allclose(got, want, rtol=1e-9, equal_nan=True)


def test_nothing_to_summarise(mnt: Path, run_cli) -> None:
    res = run_cli("summary")
    assert res.exit_code == 0
    assert res.output.strip().count("\n") == 0 and "nothing to summarise" in res.output
    assert not list((mnt / "validation").iterdir())


def test_left_out_reach_with_a_gauge_is_a_row_of_fill(mnt: Path, run_cli) -> None:
    from confluence_core import leftout

    _run_one_reach(mnt, run_cli)
    gauged, ungauged = 74269800021, 74269800099  # make_run: a CAL 0 gauge on the first, none on the second
    leftout.write(mnt / "input", [{"reach_id": gauged, "step": "flpe_momma", "reason": "crashed"},
                                  {"reach_id": ungauged, "step": "input", "reason": "no granule"}])
    res = run_cli("summary", "--hydrographs", "0")
    assert res.exit_code == 0, res.output
    warned = [ln for ln in res.output.splitlines() if "WARNING" in ln]
    assert len(warned) == 1 and str(gauged) in warned[0] and f"{gauged}_validation.nc" in warned[0]
    assert "flpe_momma: crashed" in warned[0] and str(ungauged) not in res.output
    with (mnt / "validation" / "summary.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["reach_id"] for r in rows] == ["74269800011"] * 6 + [str(gauged)]  # the scored reach as before
    last = rows[-1]
    assert (last["gauge_agency"], last["gauge_id"], last["product"], last["n_matched"]) == ("USGS", "00000001", "", "0")
    assert all(last[s] == "" for s in STATISTICS) and last["left_out"] == "flpe_momma: crashed"


def test_only_left_out_reaches_still_give_a_summary(mnt: Path, run_cli) -> None:
    from confluence_core import leftout

    make_run(mnt)  # inputs only: the reach's validation job never ran
    leftout.write(mnt / "input", [{"reach_id": 74269800011, "step": "validation", "reason": "killed"}])
    res = run_cli("summary", "--hydrographs", "0")
    assert res.exit_code == 0, res.output
    with (mnt / "validation" / "summary.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["reach_id"], r["gauge_id"], r["left_out"]) for r in rows] == [("74269800011", "15744500",
                                                                             "validation: killed")]
