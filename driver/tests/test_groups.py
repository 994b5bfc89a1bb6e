"""Grouped fan-out (issue 18): a row's ``group = N`` makes one child take N list entries.

Runs the real selftest module through `confluence run --engine process` with groups of 1, 3 (does not
divide the 7 entries), 10 (larger than the list): the same files, one failed entry fails alone and
is the only one redone, and AWS Batch array sizes are entries / group rounded up.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluence_core import leftout
from confluence_core.entries import indices_of_job, job_count, pack, parse
from confluence_core.errors import ConfluenceError
from confluence_driver.cli import main

REACHES = [f"742698000{k}1" for k in range(1, 8)]

@pytest.fixture()
def make_run(tmp_path: Path, selftest_workflow: Callable[..., str]) -> Callable[[int], Path]:
    """``make_run(group)``: a run folder of REACHES and its workflow table, ``group`` entries a job."""
    def make(group: int) -> Path:
        run = tmp_path / f"run{group}"
        (run / "input").mkdir(parents=True)
        (run / "input" / "reaches.json").write_text(json.dumps([{"reach_id": int(r)} for r in REACHES]))
        (tmp_path / f"workflow{group}.toml").write_text(selftest_workflow(group=group))
        return run
    return make


def cli(run: Path, group: int, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["run", "--workflow", str(run.parent / f"workflow{group}.toml"),
                                       "--workdir", str(run), "--engine", "process", "--jobs", "2", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def contents(run: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for p in sorted((run / "output" / "selftest").glob("*.json")):
        data = json.loads(p.read_text())
        out[p.name] = (data["entry"], data["index"])
    return out


def test_job_indices_and_packing():
    assert job_count(7, 1) == 7 and job_count(7, 3) == 3 and job_count(7, 10) == 1
    assert [indices_of_job(k, 3, 7) for k in range(3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert indices_of_job(0, 10, 7) == list(range(7))
    with pytest.raises(ConfluenceError, match="past the end"):
        indices_of_job(3, 3, 7)
    assert pack([0, 2, 3, 5, 6], 2) == [[0, 2], [3, 5], [6]]
    done, failed = parse(['x INFO a: entry done: {"index": 3}', 'x ERROR a: entry failed: {"index": 4, "reason": "r"}',
                          "entry done: {bad"])
    assert done == {3} and failed == {4: "r"}


@pytest.mark.parametrize("group", [1, 3, 10])
def test_groups_write_the_same_files_as_single_entries(make_run, group):
    run = make_run(group)
    code, text = cli(run, group)
    assert code == 0, text
    assert "7/7 done" in text
    assert contents(run) == {f"{r}.json": ({"reach_id": int(r)}, k) for k, r in enumerate(REACHES)}
    pids = {json.loads(p.read_text())["pid"] for p in (run / "output" / "selftest").glob("*.json")}
    assert len(pids) == job_count(7, group)  # one process per job
    markers = sorted(p.name for p in (run / "state" / "fan").glob("*.json"))
    assert markers == [f"{k}.json" for k in range(7)]  # resume is per entry, whatever the group


def test_a_failed_entry_of_a_group_fails_alone_and_alone_is_redone(make_run):
    run = make_run(3)
    bad = REACHES[4]
    code, text = cli(run, 3, "--env", f"SELFTEST_FAIL_ON={bad}")
    assert code == 1
    assert "6/7 done, 1 failed" in text
    left = leftout.read(run / "input")
    assert list(left) == [int(bad)] and "is the entry to fail on" in left[int(bad)]
    assert sorted(contents(run)) == sorted(f"{r}.json" for r in REACHES if r != bad)
    before = {p.name: p.stat().st_mtime_ns for p in (run / "output" / "selftest").glob("*.json")}
    code, text = cli(run, 3)
    assert code == 0, text
    assert "1/7 done, 0 failed, 6 skipped" in text
    after = {p.name: p.stat().st_mtime_ns for p in (run / "output" / "selftest").glob("*.json")}
    assert [n for n in after if after[n] != before.get(n)] == [f"{bad}.json"]


def test_aws_array_size_is_entries_over_group():
    from confluence_core import workflow as wf

    flow = wf.load()
    for step in flow.steps:
        assert step.group >= 1
        if step.fanout in ("once", "continent"):
            assert step.group == 1


def test_index_by_hand_is_one_entry_and_the_array_index_a_group(tmp_path, make_run):
    import os
    import subprocess
    import sys

    run = make_run(3)
    env = {**os.environ, "CONFLUENCE_MNT": str(run), "CONFLUENCE_WORKFLOW": str(tmp_path / "workflow3.toml"),
           "CONFLUENCE_STEP": "fan"}
    env.pop("AWS_BATCH_JOB_ARRAY_INDEX", None)
    exe = str(Path(sys.executable).parent / "confluence-selftest")
    by_hand = subprocess.run([exe, "--list", "reaches.json", "--index", "5"], env=env, capture_output=True,
                             text=True, check=False)
    assert by_hand.returncode == 0, by_hand.stderr
    assert sorted(contents(run)) == [f"{REACHES[5]}.json"]
    child = subprocess.run([exe, "--list", "reaches.json"], env={**env, "AWS_BATCH_JOB_ARRAY_INDEX": "1"},
                           capture_output=True, text=True, check=False)
    assert child.returncode == 0, child.stderr
    assert sorted(contents(run)) == sorted(f"{r}.json" for r in REACHES[3:6])  # array child 1: entries 3-5
