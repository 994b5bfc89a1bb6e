"""The selftest module in-process (no Docker): fan-out entry, outputs, failure leaves nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

cli = pytest.importorskip("confluence_selftest.cli", reason="confluence-selftest is not installed")
netCDF4 = pytest.importorskip("netCDF4")
from click.testing import CliRunner  # noqa: E402

ITEMS = ["a", 7, {"reach_id": 74269900011}]


@pytest.fixture()
def items(mnt: Path) -> Path:
    (mnt / "input" / "items.json").write_text(json.dumps(ITEMS))
    return mnt


@pytest.mark.parametrize(("index", "name"), [(0, "a"), (1, "7"), (2, "74269900011")])
def test_writes_entry_outputs(items: Path, index: int, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFLUENCE_ENGINE", "process")
    result = CliRunner().invoke(cli.main, ["--index", str(index)])
    assert result.exit_code == 0, result.output
    data = json.loads((items / "output" / "selftest" / f"{name}.json").read_text())
    assert data["entry"] == ITEMS[index]
    assert data["index"] == index
    assert data["engine_env"] == "process"
    assert isinstance(data["pid"], int)
    with netCDF4.Dataset(items / "output" / "selftest" / f"{name}.nc") as ds:
        assert int(ds["index"][...]) == index


def test_index_from_environment_and_other_volume(items: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_BATCH_JOB_ARRAY_INDEX", "1")
    result = CliRunner().invoke(cli.main, ["--volume", "moi"])
    assert result.exit_code == 0, result.output
    assert json.loads((items / "moi" / "selftest" / "7.json").read_text())["engine_env"] is None


@pytest.mark.parametrize("how", ["option", "env"])
def test_fail_on_leaves_no_file(items: Path, how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    args = ["--index", "1"]
    if how == "option":
        args += ["--fail-on", "7"]
    else:
        monkeypatch.setenv("SELFTEST_FAIL_ON", "7")
    result = CliRunner().invoke(cli.main, args)
    assert result.exit_code == 1
    assert "7" in result.output and "fail" in result.output
    out = items / "output" / "selftest"
    assert not out.exists() or list(out.iterdir()) == []


def test_bad_index_is_one_line_error(items: Path) -> None:
    result = CliRunner().invoke(cli.main, ["--index", "9"])
    assert result.exit_code == 1
    assert "items.json: has 3 entries, no index 9" in result.output
