"""Children of a step from its fan-out list; expected outputs."""

from __future__ import annotations

import json

import pytest
from confluence_core.errors import ConfluenceError
from confluence_core.workflow import Output, Step
from confluence_driver.fanout import children, expected_outputs


def _step(fanout, list_name, outputs=()):
    return Step(name="s", stage=1, image="s", path="s", command=("s",), fanout=fanout, list=list_name,
                reads=(), writes=("input",), outputs=tuple(Output.parse(o) for o in outputs), resources="small")


def test_reach_children_and_reach_filter(tmp_path):
    (tmp_path / "reaches.json").write_text(json.dumps([{"reach_id": 74269800011}, {"reach_id": 74269800021}]))
    kids = children(_step("reach", "reaches.json"), tmp_path)
    assert [(c.index, c.key) for c in kids] == [(0, "74269800011"), (1, "74269800021")]
    only = children(_step("reach", "reaches.json"), tmp_path, reaches={"74269800021"})
    assert [c.index for c in only] == [1]


def test_set_and_basin_children_expand_reach_outputs(tmp_path):
    (tmp_path / "sets.json").write_text(json.dumps([[{"reach_id": 11}, {"reach_id": 12}]]))
    (tmp_path / "basin.json").write_text(json.dumps([{"basin_id": 7426, "reach_id": ["74269800011", "74269800021"]}]))
    (kid,) = children(_step("reachset", "sets.json"), tmp_path)
    assert kid.key == "11-12" and kid.fields == {"set": "11-12"}
    step = _step("basin", "basin.json", ["input:swot/{reach_id}_SWOT.nc", "moi:{basin_id}.txt"])
    (basin,) = children(step, tmp_path)
    assert [p.name for p in expected_outputs(step, basin, tmp_path)] == [
        "74269800011_SWOT.nc", "74269800021_SWOT.nc", "7426.txt"
    ]


def test_continent_and_once(tmp_path):
    (tmp_path / "continent.json").write_text(json.dumps([{"af": [1]}, {"na": [7, 8, 9]}]))
    assert [c.key for c in children(_step("continent", "continent.json"), tmp_path)] == ["af", "na"]
    assert [c.key for c in children(_step("once", ""), tmp_path)] == ["once"]


def test_missing_or_malformed_list_names_the_file(tmp_path):
    with pytest.raises(ConfluenceError, match=r"reaches\.json: step s needs its fan-out list"):
        children(_step("reach", "reaches.json"), tmp_path)
    (tmp_path / "reaches.json").write_text(json.dumps([{"basin": 1}]))
    with pytest.raises(ConfluenceError, match="entry 0 does not fit a reach list"):
        children(_step("reach", "reaches.json"), tmp_path)


def test_river_outputs_optional_outputs_and_placeholders(tmp_path):
    """{river_id} expands over the type-1 reaches only; '?' outputs are not required; {sword_version}."""
    (tmp_path / "basin.json").write_text(json.dumps([{"basin_id": 7426, "reach_id": ["74269800011",
                                                                                       "74269800023"]}]))
    step = _step("basin", "basin.json", ["flpe:x/{river_id}_x.nc", "output:{basin_id}_v{sword_version}.nc?"])
    (basin,) = children(step, tmp_path)
    assert [p.name for p in expected_outputs(step, basin, tmp_path, "17")] == ["74269800011_x.nc"]
    assert [p.name for p in expected_outputs(step, basin, tmp_path, "17", optional=True)] == ["7426_v17.nc"]
