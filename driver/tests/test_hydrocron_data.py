"""Driver side of a Hydrocron run: source detection, job environment, gauge conversion."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from confluence_core.errors import ConfluenceError, InputError
from confluence_driver.data import (
    GAUGES_FILE,
    PRIOR_CSV_DIR,
    is_hydrocron_folder,
    run_environment,
    write_gauges,
)
from confluence_driver.runner import RunFolder


@pytest.fixture()
def kobuk(shared_data: Path) -> Path:
    return shared_data / "real_swot_kobuk"


def test_folder_run_env_and_usgs_gauges(tmp_path: Path, kobuk: Path) -> None:
    folder = RunFolder(tmp_path / "run")
    folder.create()
    assert is_hydrocron_folder(kobuk / "reaches") and not is_hydrocron_folder(kobuk)
    env, note = run_environment(folder, str(kobuk / "reaches"), None, str(kobuk / "usgs_15744500_daily.csv"),
                                (), -9.0)
    assert env == {"CONFLUENCE_GAUGES": GAUGES_FILE, "CONFLUENCE_GAUGE_UTC_OFFSET": "-9"}
    assert "mapped to every reach of the run (5)" in note and "CAL 0" in note
    with (folder.volume("input") / GAUGES_FILE).open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 5 * 731
    assert {r["cal"] for r in rows} == {"0"} and {r["agency"] for r in rows} == {"USGS"}
    first = rows[0]
    assert (first["site"], first["reach_id"], first["date"]) == ("15744500_81320300011", "81320300011",
                                                                 "2023-07-01")
    assert float(first["discharge_cms"]) == pytest.approx(1599.901832448)


def test_live_needs_reach_ids_and_gauge_mapping(tmp_path: Path, kobuk: Path) -> None:
    folder = RunFolder(tmp_path / "run")
    folder.create()
    with pytest.raises(ConfluenceError, match="--source hydrocron needs --reach-ids"):
        run_environment(folder, "hydrocron", None, None, (), None)
    env, _ = run_environment(folder, "hydrocron", {"81320300021", "81320300011"},
                             str(kobuk / "usgs_15744500_daily.csv"), ("15744500=81320300011",), None)
    assert env["CONFLUENCE_SOURCE"] == "hydrocron"
    assert env["CONFLUENCE_REACH_IDS"] == "81320300011,81320300021"
    with (folder.volume("input") / GAUGES_FILE).open() as fh:
        assert {(r["site"], r["reach_id"]) for r in csv.DictReader(fh)} == {("15744500", "81320300011")}
    with pytest.raises(ConfluenceError, match="not SITE=REACH_ID"):
        run_environment(folder, "hydrocron", {"81320300011"}, str(kobuk / "usgs_15744500_daily.csv"),
                        ("15744500",), None)


def test_plain_gauge_csv(tmp_path: Path) -> None:
    src = tmp_path / "g.csv"
    src.write_text("site,reach_id,date,discharge_cms\nA1,81320300011,2024-06-01,12.5\nA1,81320300011,2024-06-02,NA\n")
    n, rows, _, n_cal = write_gauges(src, tmp_path / "out.csv", {}, [])
    assert (n, rows, n_cal) == (1, 2, 0)  # no cal column: every gauge CAL 0 (validation only)
    with (tmp_path / "out.csv").open() as fh:
        assert {r["cal"] for r in csv.DictReader(fh)} == {"0"}
    src.write_text("site,reach_id,date,discharge_cms\nA1,81320300011,June 1,12.5\n")
    with pytest.raises(InputError, match="line 2: date 'June 1' is not YYYY-MM-DD"):
        write_gauges(src, tmp_path / "out.csv", {}, [])
    assert not (tmp_path / "out2.csv").exists()


def test_gauge_cal_column(tmp_path: Path) -> None:
    """A cal column says which gauges calibrate (1) and which validate (0); bad values name the file and line."""
    src = tmp_path / "cal.csv"
    src.write_text("site,reach_id,date,discharge_cms,cal\nA1,81320300011,2024-06-01,12.5,1\n"
                   "A1,81320300011,2024-06-02,13,1\nB2,81320300021,2024-06-01,7,0\n")
    n, rows, _, n_cal = write_gauges(src, tmp_path / "out.csv", {}, [])
    assert (n, rows, n_cal) == (2, 3, 1)
    with (tmp_path / "out.csv").open() as fh:
        assert {(r["site"], r["cal"]) for r in csv.DictReader(fh)} == {("A1", "1"), ("B2", "0")}
    src.write_text("site,reach_id,date,discharge_cms,CAL\nA1,81320300011,2024-06-01,12.5,yes\n")
    with pytest.raises(InputError, match=r"line 2: cal 'yes' is not 0 \(validation gauge\) or 1") as err:
        write_gauges(src, tmp_path / "out.csv", {}, [])
    assert "cal.csv" in str(err.value)
    src.write_text("site,reach_id,date,discharge_cms,cal\nA1,81320300011,2024-06-01,12.5,1\n"
                   "A1,81320300011,2024-06-02,13,0\n")
    with pytest.raises(InputError, match="line 2: site A1 has both cal 0 and cal 1"):
        write_gauges(src, tmp_path / "out.csv", {}, [])


def test_gauge_errors_name_the_users_file_and_line(tmp_path: Path) -> None:
    """Negative flows and bad reach ids fail when the file is read, naming the user's file (issue 17)."""
    src = tmp_path / "my_gauges.csv"
    src.write_text("site,reach_id,date,discharge_cms\nA1,81320300011,2024-06-01,12.5\nA1,81320300011,2024-06-02,-3\n")
    with pytest.raises(InputError, match="line 3: discharge '-3' is negative") as err:
        write_gauges(src, tmp_path / "out.csv", {}, [])
    assert "my_gauges.csv" in str(err.value)
    src.write_text("site,reach_id,date,discharge_cms\nA1,8132030001,2024-06-01,12.5\n")
    with pytest.raises(InputError, match="line 2: reach_id '8132030001' is not an 11-digit SWORD reach id"):
        write_gauges(src, tmp_path / "out.csv", {}, [])
    assert not (tmp_path / "out.csv").exists()


def test_prior_csv_is_copied_and_passed_never_the_gauges(tmp_path: Path, kobuk: Path) -> None:
    folder = RunFolder(tmp_path / "run")
    folder.create()
    prior = tmp_path / "my_priors.csv"
    prior.write_bytes(b"reach_id,mean_q,sd_ln\r\n81320300011,500,0.4\r\n")
    gauges = str(kobuk / "usgs_15744500_daily.csv")
    env, note = run_environment(folder, str(kobuk / "reaches"), None, gauges, (), -9.0, str(prior))
    assert env["CONFLUENCE_PRIOR_CSV"] == f"{PRIOR_CSV_DIR}/my_priors.csv"
    assert (folder.volume("input") / PRIOR_CSV_DIR / "my_priors.csv").read_bytes() == prior.read_bytes()
    assert env["CONFLUENCE_GAUGES"] == GAUGES_FILE and "prior CSV" in note
    # the gauges alone give no prior CSV, and the gauge file is refused as one
    env, _ = run_environment(folder, str(kobuk / "reaches"), None, gauges, (), -9.0)
    assert "CONFLUENCE_PRIOR_CSV" not in env
    with pytest.raises(ConfluenceError, match="validation gauges are never priors"):
        run_environment(folder, str(kobuk / "reaches"), None, gauges, (), -9.0, gauges)


def test_run_has_the_prior_csv_option() -> None:
    from click.testing import CliRunner
    from confluence_driver.cli import main

    res = CliRunner().invoke(main, ["run", "--help"])
    assert res.exit_code == 0 and "--prior-csv" in res.output
