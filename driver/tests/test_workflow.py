"""The workflow table: loading, checks, selection."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from confluence_core import workflow as wf
from confluence_core.errors import ConfluenceError
from confluence_core.volumes import VOLUMES
from confluence_driver.cli import main


def test_packaged_table_has_the_thirteen_stages_in_order():
    flow = wf.load()
    stages = [s.stage for s in flow.steps]
    assert stages == sorted(stages)
    assert set(stages) == set(range(1, 14))
    assert [s.name for s in flow.steps[:3]] == ["datagen", "combine_data", "input"]
    for step in flow.steps:
        assert step.resources in flow.resources
        assert set(step.reads) | set(step.writes) <= set(VOLUMES)


def test_select_from_until_and_names():
    flow = wf.load()
    assert [s.name for s in flow.select(start="combine_data", until="input")] == ["combine_data", "input"]
    assert [s.name for s in flow.select(["input,datagen"])] == ["datagen", "input"]


def test_unknown_step_is_one_clear_error():
    with pytest.raises(ConfluenceError, match="unknown step 'inptu'; steps are: datagen"):
        wf.load().select(["inptu"])


def test_cli_unknown_step_exits_1_with_one_line(tmp_path):
    result = CliRunner().invoke(main, ["run", "--steps", "nope", "--workdir", str(tmp_path), "--dry-run"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: unknown step 'nope'; steps are: {', '.join(s.name for s in wf.load().steps)}"
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ('fanout = "sideways"', "fanout 'sideways' is not one of"),
        ('resources = "huge"', "resource class 'huge' is not defined"),
        ('writes = ["attic"]', "unknown volumes attic"),
        ('outputs = ["no-volume-here"]', "is not '<volume>:<pattern>'"),
    ],
)
def test_bad_rows_are_rejected(tmp_path, row, message):
    base = {
        "name": '"x"', "stage": "1", "image": '"x"', "path": '"x"', "command": '["x"]',
        "fanout": '"reach"', "list": '"reaches.json"', "resources": '"small"',
    }
    key = row.split(" = ")[0]
    base[key] = row.split(" = ", 1)[1]
    text = "[resources.small]\nslots = 1\nvcpus = 1\nmemory_mib = 1\ntimeout_s = 1\n[[steps]]\n"
    text += "\n".join(f"{k} = {v}" for k, v in base.items())
    table = tmp_path / "wf.toml"
    table.write_text(text)
    with pytest.raises(ConfluenceError, match=message):
        wf.load(table)


def test_steps_command_lists_every_step():
    result = CliRunner().invoke(main, ["steps"])
    assert result.exit_code == 0
    for step in wf.load().steps:
        assert step.name in result.output
