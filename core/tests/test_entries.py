"""A job's entries (confluence_core.entries): one error names every failed entry of a group."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from confluence_core.entries import ENTRIES_ENV, for_each_entry, group_failed
from confluence_core.errors import ConfluenceError


def test_group_failed_names_every_failed_entry_and_the_first_reason() -> None:
    err = group_failed([(3, "no SWOT file"), (7, "bad entry")], 10, Path("/run/input/reaches.json"))
    assert err.path == "/run/input/reaches.json"
    assert err.reason == "2 of 10 entries failed (3, 7); entry 3: no SWOT file"


def test_a_group_runs_every_entry_and_fails_once_naming_the_failed_ones(
        mnt: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    (mnt / "input" / "own.json").write_text(json.dumps([{"n": 0}, {"n": 1}, "not an object", {"n": 3}]))
    monkeypatch.setenv(ENTRIES_ENV, "0,1,2,3")
    ran: list[int] = []

    def run(entry: Any, path: Path, i: int) -> None:
        if entry["n"] == 1:
            raise ConfluenceError("cannot run", f"{path}[{i}]")
        ran.append(i)

    with caplog.at_level(logging.INFO), pytest.raises(ConfluenceError) as info:
        for_each_entry("no-such-step", None, run, logging.getLogger("test-entries"), list_name="own.json", kind=dict)
    assert ran == [0, 3]  # the others still ran
    assert info.value.path == str(mnt / "input" / "own.json")
    assert info.value.reason.startswith(f"2 of 4 entries failed (1, 2); entry 1: {mnt}/input/own.json[1]: cannot run")
    assert [r.getMessage() for r in caplog.records if "entry done" in r.getMessage()] == [
        f'entry done: {{"index": {i}}}' for i in (0, 3)]
