"""Following a step: a deadline so the driver never hangs; the renew commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from confluence_core import workflow as wf
from confluence_driver.aws.config import Aws, load_config
from confluence_driver.aws.records import RecordStore
from confluence_driver.aws.submit import BatchRun, DirLists
from confluence_driver.cli import main

from .conftest import REGION, write_config


class StuckBatch:
    """A Batch client whose array children stay RUNNING for ever (what a lost host looks like)."""

    def __init__(self) -> None:
        self.terminated: list[str] = []

    def describe_jobs(self, jobs: list[str]) -> dict[str, Any]:
        return {"jobs": [{"jobId": j, "status": "RUNNING",
                          "arrayProperties": {"size": 4, "statusSummary": {"RUNNING": 3, "SUCCEEDED": 1}}}
                         for j in jobs]}

    def terminate_job(self, jobId: str, reason: str) -> None:
        self.terminated.append(jobId)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_step_that_never_ends_times_out_and_is_terminated(tmp_path: Path):
    config = load_config(write_config(tmp_path / "d.toml", efs=True, poll=30))
    aws = Aws(config)
    stuck = StuckBatch()
    aws._clients["batch"] = stuck
    clock, lines = Clock(), []
    run = BatchRun(wf.load(), aws, RecordStore(tmp_path / "records"), DirLists(tmp_path), echo=lines.append,
                   sleep=clock.sleep, clock=clock)
    run.record = {"run_id": "r1", "steps": {"input": {
        "state": "SUBMITTED", "size": 4, "jobs": [{"job_id": "j1", "offset": 0, "size": 4, "array": True}]}}}
    step = wf.load().step("input")
    assert run.wait(step) is False
    limit = 7200 * 2 + 120  # medium timeout x attempts + queue wait
    assert clock.now == pytest.approx(limit + 30, abs=30)
    assert stuck.terminated == ["j1"]
    entry = run.record["steps"]["input"]
    assert entry["state"] == "FAILED"
    assert entry["reason"].startswith(f"timed out after {limit} s with 1 of 4 children finished")
    assert run.failure_message(step).startswith("step input failed: timed out after")
    assert "input: 3 running, 1 succeeded (of 4)" in lines


def test_renew_commands_call_the_schedule(tmp_path: Path):
    pytest.importorskip("confluence_renew")
    import boto3
    from moto import mock_aws

    with mock_aws():
        events = boto3.client("events", region_name=REGION)
        runner = CliRunner()
        missing = runner.invoke(main, ["renew", "status", "--rule", "confluence-renew"])
        assert missing.exit_code == 1
        assert missing.output.startswith("error: EventBridge rule confluence-renew does not exist")
        arn = "arn:aws:lambda:us-east-1:123456789012:function:renew"
        enabled = runner.invoke(main, ["renew", "enable", "--lambda-arn", arn])
        assert enabled.output.strip() == f"confluence-renew: ENABLED rate(50 minutes) -> {arn}"
        disabled = runner.invoke(main, ["renew", "disable"])
        assert disabled.exit_code == 0 and "DISABLED" in disabled.output
        assert events.describe_rule(Name="confluence-renew")["State"] == "DISABLED"


def test_renew_without_the_package_is_one_message(monkeypatch: pytest.MonkeyPatch):
    import sys

    monkeypatch.setitem(sys.modules, "confluence_renew", None)  # import fails as if not installed
    result = CliRunner().invoke(main, ["renew", "status"])
    assert result.exit_code == 1
    assert result.output.strip().startswith("error: `confluence renew` needs the package confluence-renew")


def test_the_deadline_grows_with_the_array_size(tmp_path: Path):
    """1000 children of 2 vCPUs on 256 vCPUs run 128 at a time: 8 waves of (timeout x attempts)."""
    config = load_config(write_config(tmp_path / "d.toml", efs=True, batch="max_vcpus = 256"))
    run = BatchRun(wf.load(), Aws(config), RecordStore(tmp_path / "records"), DirLists(tmp_path))
    step = wf.load().step("input")  # medium: 2 vCPUs, 7200 s
    run.record = {"run_id": "r1", "steps": {"input": {"size": 4}}}
    assert run.step_timeout(step) == 7200 * 2 + 120
    run.record["steps"]["input"]["size"] = 1000
    assert run.step_timeout(step) == 8 * 7200 * 2 + 120
    run.record["steps"]["input"]["size"] = 1024
    assert run.step_timeout(step) == 8 * 7200 * 2 + 120
    run.record["steps"]["input"]["size"] = 1025
    assert run.step_timeout(step) == 9 * 7200 * 2 + 120
