"""``--prior-csv``: a user's per-reach mean flows into the SoS; never the validation gauges."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from confluence_core import ncio
from confluence_priors.cli import main
from confluence_priors.prior_csv import apply_prior_csv, read_prior_csv

from .conftest import REACHES, model_values
from .test_cli import digest, read, run


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_csv_mean_flows_and_sd_go_into_the_sos(run_folder: Callable[..., Path], tmp_path: Path) -> None:
    sos = run_folder()
    before = model_values(3)["mean_q"]
    csv = write(tmp_path / "survey.csv", f"reach_id,mean_q,sd_ln\n{REACHES[1]},640.5,0.3\n"
                                         f"{REACHES[2]},12,\n11111100011,5,0.1\n")
    code, out = run("--prior-csv", str(csv))
    assert code == 0, out
    mean = read(sos, "model", "mean_q")
    assert mean.tolist() == [before[0], 640.5, 12.0]
    sd = read(sos, "model", "mean_q_sd_ln")
    assert np.isnan(sd[0]) and sd[1] == pytest.approx(0.3) and np.isnan(sd[2])
    assert read(sos, "model", "bad_priors").tolist() == [0, 0, 0]
    with ncio.open_dataset(sos) as ds:
        label = ds.prior_csv
        assert label.startswith("survey.csv (sha256 ") and label.endswith("mean_q of 3 reaches")
        assert ds["model/mean_q"].prior_csv == label and ds["model/mean_q_sd_ln"].prior_csv == label
        assert ds["model/mean_q"].units == "m^3/s"  # earlier attributes kept
    assert read(sos, "model", "overwritten_indexes").tolist() == [0, 0, 0]  # not a gauge
    # geoBAM's logQc follows the mean flow it is given
    assert read(sos, "gbpriors/reach", "logQc_hat")[1] == pytest.approx(np.log(640.5))


def test_env_var_and_input_volume_path(run_folder: Callable[..., Path], mnt: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    sos = run_folder()
    write(mnt / "input" / "priors.csv", f"reach_id,mean_q\n{REACHES[0]},77\n")
    monkeypatch.setenv("CONFLUENCE_PRIOR_CSV", "priors.csv")
    res = CliRunner().invoke(main, ["--index", "1"])
    assert res.exit_code == 0, res.output
    assert read(sos, "model", "mean_q")[0] == 77.0
    assert np.isnan(read(sos, "model", "mean_q_sd_ln")).all()


def test_a_calibration_gauge_wins(run_folder: Callable[..., Path], tmp_path: Path, gauge_a: dict) -> None:
    sos = run_folder()
    csv = write(tmp_path / "p.csv", f"reach_id,mean_q\n{REACHES[0]},1\n{REACHES[1]},2\n")
    code, out = run("--branch", "constrained", "--prior-csv", str(csv))
    assert code == 0, out
    mean = read(sos, "model", "mean_q")
    assert mean[0] == pytest.approx(np.mean(gauge_a["q"])) and mean[1] == 2.0


@pytest.mark.parametrize(("text", "reason"), [
    ("", "the prior CSV is empty"),
    ("reach_id,q\n74269800011,5\n", "line 1: header 'reach_id,q' is not reach_id,mean_q[,sd_ln]"),
    ("reach_id,mean_q\n", "the prior CSV has a header but no reach line"),
    ("reach_id,mean_q\n7426980001,5\n", "line 2: reach_id '7426980001' is not an 11-digit SWORD reach id"),
    ("reach_id,mean_q\n74269800011,five\n", "line 2: mean_q 'five' is not a number"),
    ("reach_id,mean_q\n74269800011,-5\n", "line 2: mean_q '-5' is not > 0 (m3/s)"),
    ("reach_id,mean_q\n74269800011,nan\n", "line 2: mean_q 'nan' is not finite"),
    ("reach_id,mean_q,sd_ln\n\n# a comment\n74269800011,5,-1\n", "line 4: sd_ln '-1' is negative"),
    ("reach_id,mean_q\n74269800011,5,1\n", "line 2: 3 fields, the header has 2"),
    ("reach_id,mean_q\n74269800011,5\n74269800011,6\n", "line 3: reach 74269800011 repeated (first on line 2)"),
])
def test_malformed_csv_one_line_naming_file_and_line(run_folder: Callable[..., Path], tmp_path: Path,
                                                     text: str, reason: str) -> None:
    sos = run_folder()
    before = digest(sos)
    bad = write(tmp_path / "bad.csv", text)
    code, out = run("--prior-csv", str(bad))
    assert code == 1
    assert f"error: confluence-priors: {bad}: {reason}" in out
    assert len(out.strip().splitlines()) == 1
    assert digest(sos) == before and not (sos.parent / "versions").exists()


def test_validation_gauges_never_change_the_priors(run_folder: Callable[..., Path], tmp_path: Path) -> None:
    """A validation gauge file (as the driver writes --gauges: cal 0) leaves model and geoBAM priors alone."""
    rows = ["agency,site,reach_id,date,discharge_cms,cal"]
    rows += [f"USGS,15744500_{r},{r},2024-06-{d:02d},{9000 + d},0" for r in REACHES for d in range(1, 29)]
    gauges = write(tmp_path / "validation_gauges.csv", "\n".join(rows) + "\n")
    watched = [("model", "mean_q"), ("model", "min_q"), ("model", "max_q"), ("model", "overwritten_indexes"),
               ("gbpriors/reach", "logQc_hat"), ("gbpriors/reach", "logQ_sd")]
    results = []
    for args in ((), ("--gauges", str(gauges)), ("--gauges", str(gauges), "--branch", "constrained")):
        sos = run_folder(gauges=[])
        code, out = run(*args)
        assert code == 0, out
        results.append({w: read(sos, *w) for w in watched})
        with ncio.open_dataset(sos) as ds:
            assert "mean_q_sd_ln" not in ds["model"].variables and "prior_csv" not in ds.ncattrs()
    for other in results[1:]:
        for w in watched:
            np.testing.assert_array_equal(other[w], results[0][w], err_msg=str(w))
    # and a gauge file given as the prior CSV is refused, not read as priors
    sos = run_folder(gauges=[])
    before = digest(sos)
    code, out = run("--prior-csv", str(gauges))
    assert code == 1 and "is not reach_id,mean_q[,sd_ln] (a prior CSV, not a gauge file)" in out
    assert digest(sos) == before


def test_apply_is_pure_and_reports_what_it_skipped(tmp_path: Path) -> None:
    table = read_prior_csv(write(tmp_path / "p.csv", "Reach_ID , Mean_Q\n74269800011,5\n11111100011,6\n"))
    q = np.array([100.0, 200.0])
    res = apply_prior_csv(table, np.array([74269800011, 74269800021]), q, None, np.array([False, False]))
    assert res.mean_q.tolist() == [5.0, 200.0] and q.tolist() == [100.0, 200.0]
    assert res.not_in_sos.tolist() == [11111100011] and res.rows.tolist() == [0]
    res = apply_prior_csv(table, np.array([74269800011]), np.array([100.0]), np.array([0.2]), np.array([True]))
    assert res.mean_q.tolist() == [100.0] and res.sd_ln.tolist() == [0.2] and res.gauge_kept.tolist() == [74269800011]
