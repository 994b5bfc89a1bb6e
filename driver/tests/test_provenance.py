"""Issue 17 on the driver: resume that verifies, provenance (out of date, as make decides), --dry-run
reasons, --keep-going / --no-keep-going, counted skips (skipped.csv, --strict).

The runs use the real selftest module (images/test-image) through `confluence run --engine process`
with a small workflow written here: two per-reach steps and one once step.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluence_core import leftout
from confluence_driver.cli import main

REACHES = ["74269800011", "74269800021", "74269800031", "74269800041"]

#: The steps after ``fan`` (driver/tests/conftest.py).
MORE_STEPS = """
[[steps]]
name = "fan2"
stage = 2
image = "selftest"
path = "images/test-image"
command = ["confluence-selftest", "--list", "reaches.json", "--volume", "validation"]
fanout = "reach"
list = "reaches.json"
reads = ["output"]
writes = ["validation"]
outputs = ["validation:selftest/{reach_id}.json"]
resources = "small"

[[steps]]
name = "after"
stage = 3
image = "selftest"
path = "images/test-image"
command = ["confluence-selftest", "--list", "once.json", "--volume", "diagnostics"]
fanout = "once"
list = ""
reads = ["output", "validation"]
writes = ["diagnostics"]
outputs = ["diagnostics:selftest/done.json"]
resources = "small"
"""


@pytest.fixture()
def run_dir(tmp_path: Path, selftest_workflow: Callable[..., str]) -> Path:
    run = tmp_path / "run"
    (run / "input").mkdir(parents=True)
    (run / "input" / "reaches.json").write_text(json.dumps([{"reach_id": int(r)} for r in REACHES]))
    (run / "input" / "once.json").write_text(json.dumps(["done"]))
    (tmp_path / "workflow.toml").write_text(selftest_workflow(MORE_STEPS))
    return run


def cli(run: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["run", "--workflow", str(run.parent / "workflow.toml"),
                                       "--workdir", str(run), "--engine", "process", "--jobs", "2", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def stamps(run: Path, volume: str = "output", suffix: str = ".json") -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in sorted((run / volume / "selftest").glob(f"*{suffix}"))}


def dry(run: Path, *args: str) -> dict[str, str]:
    code, text = cli(run, "--dry-run", *args)
    assert code == 0, text
    return {line.split()[1]: line for line in text.splitlines() if line[:2].strip().isdigit()}


# -- resume verifies what it trusts --------------------------------------------------------------------
def test_a_truncated_output_of_a_finished_step_is_redone_not_skipped(run_dir):
    assert cli(run_dir)[0] == 0
    nc = run_dir / "output" / "selftest" / f"{REACHES[2]}.nc"
    nc.write_bytes(nc.read_bytes()[:100])  # a truncated file, left after the step had finished
    lines = dry(run_dir)
    assert "to run: 1 " in lines["fan"] and "output changed since it was written" in lines["fan"]
    assert "upstream fan will run first" in lines["fan2"] and "to run: 1 " in lines["fan2"]
    before = stamps(run_dir)
    code, text = cli(run_dir, "--steps", "fan")
    assert code == 0, text
    assert "1/4 done, 0 failed, 3 skipped" in text
    after = stamps(run_dir)
    assert [k for k in after if after[k] != before[k]] == [f"{REACHES[2]}.json"]
    import netCDF4

    with netCDF4.Dataset(nc) as ds:  # whole again
        assert int(ds["index"][...]) == 2


def test_marker_records_checksums_and_inputs(run_dir):
    assert cli(run_dir, "--steps", "fan")[0] == 0
    marker = json.loads((run_dir / "state" / "fan" / "0.json").read_text())
    assert set(marker["outputs"]) == {f"output/selftest/{REACHES[0]}.json", f"output/selftest/{REACHES[0]}.nc"}
    assert all(len(d["sha256"]) == 64 and d["size"] > 0 for d in marker["outputs"].values())
    assert set(marker["inputs"]) == {"code", "settings", "upstream"}


# -- provenance: out of date as make decides -------------------------------------------------------------
def test_redoing_one_reach_upstream_redoes_only_what_reads_it(run_dir):
    assert cli(run_dir)[0] == 0
    fan2_before, after_before = stamps(run_dir, "validation"), stamps(run_dir, "diagnostics")
    code, text = cli(run_dir, "--steps", "fan", "--reaches", REACHES[1], "--force")
    assert code == 0 and "1/1 done" in text
    lines = dry(run_dir)
    assert "to run: 0 " in lines["fan"]
    assert "to run: 1 " in lines["fan2"] and "upstream changed: fan" in lines["fan2"]
    assert "to run: 1 " in lines["after"] and "upstream fan2 will run first" in lines["after"]
    code, text = cli(run_dir)
    assert code == 0, text
    fan2_after = stamps(run_dir, "validation")
    assert [k for k in fan2_after if fan2_after[k] != fan2_before[k]] == [f"{REACHES[1]}.json"]
    assert stamps(run_dir, "diagnostics") != after_before
    lines = dry(run_dir)
    assert all("to run: 0 " in line for line in lines.values()), lines


def test_changed_settings_make_children_out_of_date(run_dir):
    assert cli(run_dir, "--steps", "fan")[0] == 0
    lines = dry(run_dir, "--steps", "fan", "--env", "CONFLUENCE_SOME_SETTING=2")
    assert "to run: 4 " in lines["fan"] and "settings changed" in lines["fan"]
    code, text = cli(run_dir, "--steps", "fan", "--env", "CONFLUENCE_SOME_SETTING=2")
    assert code == 0 and "4/4 done" in text
    code, text = cli(run_dir, "--steps", "fan", "--env", "CONFLUENCE_SOME_SETTING=2")
    assert code == 0 and "4 skipped" in text


# -- fail one, not all -------------------------------------------------------------------------------
def test_keep_going_runs_everything_that_does_not_depend_on_the_failed_reach(run_dir):
    bad = REACHES[1]
    code, text = cli(run_dir, "--env", f"SELFTEST_FAIL_ON={bad}")
    assert code == 1
    error = [ln for ln in text.splitlines() if ln.startswith("error:")]
    assert len(error) == 1 and "1 children failed (fan (1))" in error[0] and "left_out.json" in error[0]
    assert "1 children not run: one of their reaches failed upstream" in text
    assert sorted(stamps(run_dir, "validation")) == sorted(f"{r}.json" for r in REACHES if r != bad)
    assert (run_dir / "diagnostics" / "selftest" / "done.json").exists()  # the once step went on
    left = leftout.read(run_dir / "input")
    assert list(left) == [int(bad)] and left[int(bad)].startswith("fan: index 1: ")
    assert "is the entry to fail on" in left[int(bad)]
    record = json.loads((run_dir / "run.json").read_text())
    assert record["status"] == "incomplete" and record["steps"]["fan2"]["blocked"] == 1
    # fixed: the rerun does the failed reach and what depends on it, and the left-out list empties
    code, text = cli(run_dir)
    assert code == 0, text
    assert not leftout.path(run_dir / "input").exists()
    assert sorted(stamps(run_dir, "validation")) == sorted(f"{r}.json" for r in REACHES)


def test_no_keep_going_stops_at_the_first_failed_step(run_dir):
    code, text = cli(run_dir, "--env", f"SELFTEST_FAIL_ON={REACHES[1]}", "--no-keep-going")
    assert code == 1
    assert "step fan failed: 1 of 4 children" in text and "later steps were not started" in text
    assert not (run_dir / "validation" / "selftest").exists()


# -- counted skips ------------------------------------------------------------------------------------
def test_skips_are_counted_shown_and_written_to_skipped_csv(run_dir):
    code, text = cli(run_dir, "--steps", "fan", "--env", f"SELFTEST_SKIP_ON={REACHES[3]}")
    assert code == 0, text
    assert "fan: left out 1 row (why: " in text and "skipped.csv" in text
    rows = list(csv.DictReader((run_dir / "skipped.csv").open()))
    assert len(rows) == 1
    assert rows[0]["step"] == "fan" and rows[0]["key"] == REACHES[3] and rows[0]["kind"] == "row"
    assert "is not a number" in rows[0]["reason"]
    record = json.loads((run_dir / "run.json").read_text())
    assert record["steps"]["fan"]["left_out"] == {"row": 1}
    # the child redone without the defect: its row leaves skipped.csv
    code, text = cli(run_dir, "--steps", "fan", "--force")
    assert code == 0 and not (run_dir / "skipped.csv").exists()


def test_strict_turns_a_skip_into_a_failure(run_dir):
    code, text = cli(run_dir, "--strict", "--env", f"SELFTEST_SKIP_ON={REACHES[0]}")
    assert code == 1
    error = [ln for ln in text.splitlines() if ln.startswith("error:")]
    assert len(error) == 1 and "--strict: step fan left data out (1 row)" in error[0]
    assert not (run_dir / "validation" / "selftest").exists()  # later steps not started


def test_code_version_follows_the_sources_of_a_checkout(tmp_path):
    from confluence_driver.provenance import code_version

    for pkg in ("modules/x/src/confluence_x", "core/src/confluence_core"):
        (tmp_path / pkg).mkdir(parents=True)
        (tmp_path / pkg / "a.py").write_text("A = 1\n")
    first = code_version("0.1.0", "modules/x", tmp_path)
    assert first.startswith("0.1.0+") and code_version("0.1.0", "modules/x", tmp_path) == first
    (tmp_path / "core/src/confluence_core/a.py").write_text("A = 2\n")  # the shared library changed
    assert code_version("0.1.0", "modules/x", tmp_path) != first
    assert code_version("0.1.0", "modules/none", tmp_path) == "0.1.0"  # an installed release: its version
