"""The SWOT file layout is data (swot_nc.toml): node tables say only how they differ from reach."""

from __future__ import annotations

from confluence_input import schema


def test_node_variables_state_only_their_differences() -> None:
    reach = {name: attrs for name, _, attrs in schema.REACH_VARS + schema.EXTRA_REACH}
    for entry in schema.TABLES["node"] + schema.TABLES["node_extra"]:
        if "like" not in entry:
            continue
        assert "dtype" not in entry, entry["name"]
        base = reach[entry["like"]]
        for key, value in entry.get("attrs", {}).items():
            assert key in base and base[key] != value, (entry["name"], key)


def test_tiled_variables_and_their_comment() -> None:
    assert set(schema.TILED_FROM_REACH) == {"d_x_area", "d_x_area_u", "slope", "slope_u", "slope2", "slope2_u"}
    node = {name: attrs for name, _, attrs in schema.NODE_VARS + schema.EXTRA_NODE}
    for name in schema.TILED_FROM_REACH:
        assert node[name]["comment"].endswith(" Extracted from reach-level and appended to node.")


def test_tables_in_file_order() -> None:
    assert [n for n, _, _ in schema.ROOT_VARS] == ["nt", "nx", "observations"]
    assert [n for n, _, _ in schema.NODE_VARS][:4] == ["reach_id", "node_id", "time", "time_str"]
    assert all(dtype in ("int32", "int64", "float64", "S1") for _, dtype, _ in
               schema.ROOT_VARS + schema.REACH_VARS + schema.NODE_VARS + schema.EXTRA_REACH + schema.EXTRA_NODE)
