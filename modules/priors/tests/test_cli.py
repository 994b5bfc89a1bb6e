"""The whole step on small SoS fixtures: versions, gauges, constrained runs, bad input."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from confluence_core import ncio
from confluence_core.sos import MODEL_Q_VARS
from confluence_priors.cli import main

from .conftest import REACHES, model_values, write_sos

SOS = "na_sword_v16_SOS_priors.nc"


def run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["--index", "1", *args])
    return res.exit_code, res.output


def read(path: Path, group: str, name: str) -> np.ndarray:
    with ncio.open_dataset(path) as ds:
        g = ncio.get_group(ds, group)
        if g.variables[name].dtype == str:
            return ncio.read_strings(g, name)
        return ncio.read_float(g, name)


def read_int(path: Path, group: str, name: str) -> list[int]:
    with ncio.open_dataset(path) as ds:
        return ncio.read_int(ncio.get_group(ds, group), name).tolist()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_unconstrained_run(run_folder: Callable[..., Path], gauge_a: dict) -> None:
    sos = run_folder()
    before = model_values(3)
    code, out = run()
    assert code == 0, out
    with ncio.open_dataset(sos) as ds:
        assert ds.product_version == "0002" and ds.gauge_agency == "USGS"
        assert ds.groups["reaches"].variables["river_name"][:].tolist() == ["A river", "A river", "B river"]
    for name in MODEL_Q_VARS:  # model untouched
        np.testing.assert_array_equal(read(sos, "model", name), before[name])
    assert read(sos, "model", "overwritten_indexes").tolist() == [0, 0, 0]
    # gauge statistics stored in the agency group
    q = np.asarray(gauge_a["q"])
    assert read(sos, "USGS", "USGS_mean_q")[0] == pytest.approx(q.mean())
    assert read(sos, "USGS", "USGS_max_q")[0] == pytest.approx(q.max())
    assert read(sos, "USGS", "USGS_two_year_return_q")[0] == pytest.approx(np.median([10 + 365, 10 + 730]))
    assert read(sos, "USGS", "USGS_CAL").tolist() == [1, 0]
    # previous version kept, untouched
    kept = sos.parent / "versions" / "0001" / SOS
    with ncio.open_dataset(kept) as ds:
        assert ds.product_version == "0001"


def test_gbpriors_written_for_reaches_and_nodes(run_folder: Callable[..., Path]) -> None:
    sos = run_folder()
    assert run()[0] == 0
    # geoBAM expert types: reach 1 mean ln W 4.375 (79 m: type 12, below the 81.2 m boundary of 13),
    # reach 2 ln W 5.98 (396 m: type 15, below the 665 m of big rivers); reach 3 has no SWOT file: fill
    assert read_int(sos, "gbpriors/reach", "river_type") == [12, 15, -999]
    qc = read(sos, "gbpriors/reach", "logQc_hat")
    assert qc[:2] == pytest.approx(np.log([100.0, 200.0])) and np.isnan(qc[2])
    # node 1 of each reach is unobserved; nodes 2, 3 are 1.0x and 1.1x the reach widths (reach 1: 79 m
    # type 12, 87 m type 13); reach 3's nodes have no file
    assert read_int(sos, "gbpriors/node", "river_type") == [-999, 12, 13, -999, 15, 15, -999, -999, -999]
    assert read(sos, "gbpriors/node", "logn_hat")[2] == pytest.approx(-3.404202242)  # type 13 (geoBAMr)
    with ncio.open_dataset(sos) as ds:
        for level in ("reach", "node"):
            names = set(ds.groups["gbpriors"].groups[level].variables)
            assert {"logA0_hat", "lower_logn", "upper_logQc", "sigma_amhg", "Werr_sd"} <= names


def test_constrained_run_replaces_only_cal1_and_is_idempotent(run_folder: Callable[..., Path],
                                                               gauge_a: dict) -> None:
    sos = run_folder()
    before = model_values(3)
    assert run("--branch", "constrained")[0] == 0
    q = np.asarray(gauge_a["q"])
    mean = read(sos, "model", "mean_q")
    assert mean[0] == pytest.approx(q.mean())  # CAL 1 gauge on reach 0
    assert mean[1:].tolist() == before["mean_q"][1:].tolist()  # CAL 0 gauge on reach 1: untouched
    assert read(sos, "model", "overwritten_indexes").tolist() == [1, 0, 0]
    assert read(sos, "model", "overwritten_source").tolist() == ["USGS", "", ""]
    assert read(sos, "model_original", "reach_id").tolist() == [REACHES[0]]
    for name in MODEL_Q_VARS:
        np.testing.assert_array_equal(read(sos, "model_original", name)[0], before[name][0])
    # logQc follows the (constrained) model mean flow
    assert read(sos, "gbpriors/reach", "logQc_hat")[0] == pytest.approx(np.log(q.mean()))

    first = {n: read(sos, "model", n) for n in MODEL_Q_VARS}
    assert run("--branch", "constrained")[0] == 0
    with ncio.open_dataset(sos) as ds:
        assert ds.product_version == "0003"
    for name in MODEL_Q_VARS:
        np.testing.assert_array_equal(read(sos, "model", name), first[name])
        np.testing.assert_array_equal(read(sos, "model_original", name)[0], before[name][0])
    assert read(sos, "model_original", "reach_id").tolist() == [REACHES[0]]

    # an unconstrained run afterwards leaves model (constrained values) and the originals alone
    assert run()[0] == 0
    np.testing.assert_array_equal(read(sos, "model", "mean_q"), first["mean_q"])
    assert read(sos, "model_original", "reach_id").tolist() == [REACHES[0]]


def test_csv_gauges_added_and_bad_gauge_skipped(run_folder: Callable[..., Path], tmp_path: Path) -> None:
    sos = run_folder()
    csv = tmp_path / "gauges.csv"
    rows = ["agency,site,reach_id,date,discharge_cms,cal"]
    rows += [f"WSC,08MF005,{REACHES[2]},2020-01-{d:02d},{d * 1.5},1" for d in range(1, 11)]
    rows += [f"WSC,NEG,{REACHES[1]},2020-01-{d:02d},{-d},1" for d in range(1, 4)]
    rows += [f"WSC,EMPTY,{REACHES[1]},2020-01-{d:02d},,1" for d in range(1, 4)]
    rows += [f"WSC,OTHER,11111100011,2020-01-{d:02d},3,1" for d in range(1, 4)]
    csv.write_text("\n".join(rows) + "\n")
    code, out = run("--gauges", str(csv), "--branch", "constrained")
    assert code == 0, out
    with ncio.open_dataset(sos) as ds:
        assert ds.gauge_agency == "USGS;WSC"
    assert read(sos, "WSC", "WSC_id").tolist() == ["08MF005"]  # NEG, EMPTY skipped; OTHER not in this SoS
    assert read(sos, "model", "mean_q")[2] == pytest.approx(np.mean(np.arange(1, 11) * 1.5))
    assert read(sos, "model", "overwritten_source").tolist() == ["USGS", "", "WSC"]


def test_malformed_gauge_file_leaves_sos(run_folder: Callable[..., Path], tmp_path: Path) -> None:
    sos = run_folder()
    before = digest(sos)
    bad = tmp_path / "g.csv"
    bad.write_text(f"agency,site,reach_id,date,discharge_cms\nUSGS,1,{REACHES[0]},2020-13-01,3\n")
    code, out = run("--gauges", str(bad))
    assert code == 1
    assert f"error: confluence-priors: {bad}: line 2: unparsable date '2020-13-01'" in out
    assert digest(sos) == before
    assert not (sos.parent / "versions").exists()
    assert [p.name for p in sos.parent.iterdir()] == [SOS]  # no partial file left


def test_sos_missing_group(run_folder: Callable[..., Path]) -> None:
    sos = run_folder(skip_group="model")
    code, out = run()
    assert code == 1
    assert f"{sos}: SoS has no group 'model'" in out


def test_sos_missing_file(mnt: Path, run_folder: Callable[..., Path]) -> None:
    run_folder().unlink()
    code, out = run()
    assert code == 1 and "file not found" in out


def test_sos_listed_agency_without_group(run_folder: Callable[..., Path]) -> None:
    sos = run_folder(gauges=[])
    with ncio.open_dataset(sos, "a") as ds:
        ds.gauge_agency = "USGS;WSC"
    code, out = run()
    assert code == 1 and "lists gauge agency 'USGS' but has no group 'USGS'" in out


def test_sos_gauge_with_all_missing_flow_is_kept(run_folder: Callable[..., Path], gauge_a: dict) -> None:
    empty = dict(gauge_a, site="EMPTY", q=[np.nan] * 5, reach_id=REACHES[2])
    sos = run_folder(gauges=[gauge_a, empty])
    code, out = run("--branch", "constrained")
    assert code == 0, out
    assert read(sos, "USGS", "USGS_id").tolist() == [gauge_a["site"], "EMPTY"]
    assert np.isnan(read(sos, "USGS", "USGS_mean_q")[1])
    assert read(sos, "model", "overwritten_indexes").tolist() == [1, 0, 0]


def test_version_width_and_missing_attr(tmp_path: Path) -> None:
    from confluence_core.errors import InputError
    from confluence_priors.io import next_version

    assert next_version("0001", "f") == "0002" and next_version("0999", "f") == "1000"
    assert next_version("9999", "f") == "10000"
    with pytest.raises(InputError, match="not a number"):
        next_version("v1", "f")
    path = write_sos(tmp_path / SOS)
    from confluence_priors.io import read_sos

    assert read_sos(path).version == "0001"


def test_reach_without_usable_observations_is_logged(run_folder: Callable[..., Path], mnt: Path) -> None:
    import netCDF4

    sos = run_folder()
    swot = mnt / "input" / "swot" / f"{REACHES[1]}_SWOT.nc"
    with netCDF4.Dataset(swot, "a") as ds:
        ds["reach/width"][:] = -999999999999.0
    res = CliRunner().invoke(main, ["--index", "1"])
    assert res.exit_code == 0, res.output
    assert f"reach {REACHES[1]}: no usable width observations" in res.output
    assert f"reach {REACHES[2]}: no geoBAM priors" in res.output and "file not found" in res.output
    assert read_int(sos, "gbpriors/reach", "river_type") == [12, -999, -999]


def test_reach_with_too_few_widths_gets_the_global_prior(run_folder: Callable[..., Path], mnt: Path) -> None:
    import netCDF4

    sos = run_folder()
    swot = mnt / "input" / "swot" / f"{REACHES[1]}_SWOT.nc"
    with netCDF4.Dataset(swot, "a") as ds:
        width = np.full(ds["reach/width"].shape, -999999999999.0)
        width[:2] = [400.0, 420.0]
        ds["reach/width"][:] = width
    res = CliRunner().invoke(main, ["--index", "1"])
    assert res.exit_code == 0, res.output
    assert f"reach {REACHES[1]}: too few widths to classify: geoBAM's global priors" in res.output
    assert read_int(sos, "gbpriors/reach", "river_type") == [12, -999, -999]  # unclassified is written as fill
    wb = read(sos, "gbpriors/reach", "logWb_hat")
    assert wb[1] == pytest.approx(0.0037 + 1.0028 * np.mean(np.log([400.0, 420.0])))  # geoBAM's global fit


def test_published_cal_variable_name_is_read(tmp_path, gauge_a, gauge_b, monkeypatch):
    """The PO.DAAC SoS names the calibration flag ``CAL`` inside the agency group, not ``USGS_CAL``."""
    from confluence_priors.io import read_sos

    from . import conftest

    real_write = ncio.write_var

    def published_names(group, name, *args, **kwargs):  # the tests' writer, with the published name
        return real_write(group, "CAL" if name == "USGS_CAL" else name, *args, **kwargs)

    monkeypatch.setattr(conftest.ncio, "write_var", published_names)
    path = write_sos(tmp_path / "na_sword_v16_SOS_priors.nc", gauges=[gauge_a, gauge_b])
    monkeypatch.undo()
    with ncio.open_dataset(path) as ds:
        assert "CAL" in ds["USGS"].variables and "USGS_CAL" not in ds["USGS"].variables
    sos = read_sos(path)
    assert sorted(sos.gauge_cal.values()) == sorted([gauge_a["cal"], gauge_b["cal"]]) and 1 in sos.gauge_cal.values()


def test_left_out_reach_is_fill_with_its_reason(run_folder: Callable[..., Path], mnt: Path) -> None:
    from confluence_core import leftout

    sos = run_folder()
    (mnt / "input" / "swot" / f"{REACHES[0]}_SWOT.nc").unlink()  # left out at input: no SWOT file
    leftout.write(mnt / "input", [{"reach_id": REACHES[0], "step": "input", "reason": "no granule"}])
    res = CliRunner().invoke(main, ["--index", "1"])
    assert res.exit_code == 0, res.output
    warned = [ln for ln in res.output.splitlines() if "WARNING" in ln and f"reach {REACHES[0]}" in ln]
    assert len(warned) == 1
    assert f"{REACHES[0]}_SWOT.nc" in warned[0] and "left out upstream: input: no granule" in warned[0]
    assert read_int(sos, "gbpriors/reach", "river_type") == [-999, 15, -999]  # the other reach as before
    assert read_int(sos, "gbpriors/node", "river_type")[:6] == [-999, -999, -999, -999, 15, 15]
