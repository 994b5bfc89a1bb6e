"""confluence-combine-data: order, dict merge, chunks, missing continents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluence_combine_data.cli import main
from confluence_combine_data.merge import merge, split


def put(mnt: Path, name: str, data: object) -> None:
    (mnt / "input" / f"{name}.json").write_text(json.dumps(data))


def get(mnt: Path, name: str) -> object:
    return json.loads((mnt / "input" / f"{name}.json").read_text())


def test_merge_and_split() -> None:
    assert merge([[1], [2, 3]]) == [1, 2, 3]
    assert merge([{"a": 1}, {"b": 2}]) == {"a": 1, "b": 2}
    assert split(list(range(5)), 2) == [[0, 1], [2, 3], [4]]
    with pytest.raises(TypeError):
        merge([[1], {"a": 1}])


def test_combine_orders_continents_and_chunks(mnt: Path) -> None:
    # written out of order on purpose: na before eu before as
    put(mnt, "reaches_na", [{"reach_id": 74269800011}, {"reach_id": 74269800021}])
    put(mnt, "reaches_eu", [{"reach_id": 21000000011}])
    put(mnt, "reaches_as", [{"reach_id": 31000000011}, {"reach_id": 41000000011}])
    put(mnt, "s3_reach_na", {"74269800011": ["a.zip"]})
    put(mnt, "s3_reach_eu", {"21000000011": ["b.zip"]})
    put(mnt, "reaches_7", [{"stale": True}])  # chunk of an earlier, larger run
    result = CliRunner().invoke(main, ["--chunk-size", "2"])
    assert result.exit_code == 0, result.output
    ids = [r["reach_id"] for r in get(mnt, "reaches")]
    assert ids == [31000000011, 41000000011, 21000000011, 74269800011, 74269800021]
    assert get(mnt, "s3_reach") == {"21000000011": ["b.zip"], "74269800011": ["a.zip"]}
    assert [len(get(mnt, f"reaches_{k}")) for k in range(3)] == [2, 2, 1]
    assert [r for k in range(3) for r in get(mnt, f"reaches_{k}")] == get(mnt, "reaches")
    assert not (mnt / "input" / "reaches_7.json").exists()
    assert get(mnt, "basin") == [] and get(mnt, "passes") == {}  # no continent had them
    assert "reaches: no file for af, oc, sa" in result.output


def test_nothing_to_combine(mnt: Path) -> None:
    result = CliRunner().invoke(main, [])
    assert result.exit_code == 1 and "did datagen run?" in result.output


def test_default_chunk_size_is_array_limit(mnt: Path) -> None:
    put(mnt, "reaches_na", [{"reach_id": i} for i in range(10_001)])
    result = CliRunner().invoke(main, [])
    assert result.exit_code == 0, result.output
    assert len(get(mnt, "reaches_0")) == 10_000 and len(get(mnt, "reaches_1")) == 1
