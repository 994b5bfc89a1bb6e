"""confluence_core.hydrocron: one reach's Hydrocron CSV answer, read and checked once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from confluence_core.errors import InputError
from confluence_core.hydrocron import NUMERIC, parse_reach, read_reach, time_seconds, unit_name

RID = 81320300011
HEAD = "reach_id,time_str,wse\n"


def test_kobuk_answer(shared_data: Path) -> None:
    path = shared_data / "real_swot_kobuk" / "reaches" / f"{RID}.csv"
    answer = read_reach(path, RID)
    assert (answer.n_rows, answer.n_placeholder, answer.n_repeated) == (195, 28, 0)
    assert answer.time.size == 167 and np.all(np.diff(answer.time) > 0)
    assert answer.time_str[0] == "2023-07-29T01:26:04Z"
    first = np.datetime64("2023-07-29T01:26:04") - np.datetime64("2000-01-01")
    assert answer.time[0] == first / np.timedelta64(1, "s")
    assert answer.columns["width"][0] == 336.938688
    assert np.isnan(answer.columns["d_x_area"]).all()  # always fill in this answer
    assert np.isnan(answer.column("wse_u")).all() and answer.column("wse_u").size == 167  # not in the answer
    assert answer.units["d_x_area"] == "m^2" and answer.units["sos_consensus_q"] == "m^3/s"
    assert answer.where == str(path) and answer.text == path.read_text(encoding="utf-8-sig")


def test_fills_empty_cells_and_text_columns() -> None:
    text = ("reach_id,time_str,wse,reach_q,n_good_nod,width,river_name,sos_q\n"
            f"{RID},2024-07-01T00:00:00Z,-999999999999.0,-999,-99999999,,Kobuk River,x\n"
            f"{RID},2024-07-02T00:00:00Z,1.5,1,3,NaN,no_data,2.5\n")
    answer = parse_reach(text, RID, "r.csv")
    np.testing.assert_array_equal(answer.columns["wse"], [np.nan, 1.5])
    np.testing.assert_array_equal(answer.columns["reach_q"], [np.nan, 1.0])
    np.testing.assert_array_equal(answer.columns["n_good_nod"], [np.nan, 3.0])
    assert np.isnan(answer.columns["width"]).all()
    assert np.isnan(answer.columns["river_name"]).all()  # not a RiverSP number: no error
    np.testing.assert_array_equal(answer.columns["sos_q"], [np.nan, 2.5])


def test_time_column_wins_and_rows_sorted() -> None:
    text = ("reach_id,time,time_str,wse\n"
            f"{RID},86400.25,1999-12-31,2.0\n"  # a bad time_str is fine when time is valid
            f"{RID},-999999999999.0,2000-01-01T00:00:00Z,1.0\n"
            f"{RID},-999999999999.0,no_data,-999999999999.0\n")
    answer = parse_reach(text, RID, "r.csv")
    assert answer.time.tolist() == [0.0, 86400.25]
    assert answer.columns["wse"].tolist() == [1.0, 2.0] and answer.lines.tolist() == [3, 2]


def test_repeated_pass_keeps_the_last_row() -> None:
    text = (HEAD + f"{RID},2024-07-02T00:00:00Z,1.0\n{RID},2024-07-01T00:00:00Z,2.0\n"
            f"{RID},2024-07-02T00:00:00Z,3.0\n")
    answer = parse_reach(text, RID, "r.csv")
    assert answer.columns["wse"].tolist() == [2.0, 3.0] and answer.n_repeated == 1 and answer.n_rows == 3


def test_units_aliases() -> None:
    text = f"reach_id,time_str,area_total,area_total_units,dark_frac_units\n{RID},2024-07-01T00:00:00Z,5,m2,-\n"
    assert parse_reach(text, RID, "r.csv").units == {"area_total": "m^2", "dark_frac": "1"}
    assert unit_name(" m ** 2 ") == "m^2"


@pytest.mark.parametrize(("text", "reason"), [
    (" \n\n", r"empty response \(no header, no rows\)"),
    (HEAD, r"empty result \(a header and no rows\)"),
    (f"wse\n{RID}\n", "malformed CSV: no column reach_id, time_str in the header"),
    (HEAD + f"{RID},2024-07-01T00:00:00Z,1.0,2.0\n", "malformed CSV: line 2 has 4 fields, the header 3"),
    (HEAD + f"\n{RID},2024-07-01T00:00:00Z,1.0\n{RID},2024-07-02T00:00:00Z\n",
     "malformed CSV: line 3 has 2 fields, the header 3"),
    (HEAD + f'{RID},"2024-07-01T00:00:00Z,1.0\n{RID},2024-07-02T00:00:00Z,1.0\n',
     r"malformed CSV \(unexpected end of data\)"),
    (HEAD + f'{RID},"2024-07-01T00:00:00Z"x,1.0\n', r"malformed CSV \(',' expected after '\"'\)"),
    (HEAD + "81320300021,2024-07-01T00:00:00Z,1.0\n", r"the response holds reach ids \['81320300021'\]"),
    (f"reach_id,time_str,wse_units\n{RID},2024-07-01T00:00:00Z,m\n{RID},2024-07-02T00:00:00Z,ft\n",
     "line 3: column wse_units says 'ft', the contract unit of wse is 'm'"),
    (HEAD + f"{RID},no_data,-999999999999.0\n{RID},no_data,-999999999999.0\n",
     r"all 2 rows are no_data placeholders \(no observation\)"),
    (HEAD + f"{RID},2024-07-01T00:00:00Z,1.0\n{RID},2024-07-02T00:00:00Z,high\n", "line 3: wse 'high' is not a number"),
    (f"reach_id,time_str,pass_id\n{RID},2024-07-01T00:00:00Z,one\n", "line 2: pass_id 'one' is not a number"),
    (HEAD + f"{RID},2024-07-01T00:00:00,1.0\n", "line 2: time_str '2024-07-01T00:00:00' is not YYYY-MM-DDThh:mm:ssZ"),
])
def test_one_error_per_defect(text: str, reason: str) -> None:
    with pytest.raises(InputError, match=f"^https://x.invalid/ts: reach {RID}: {reason}"):
        parse_reach(text, RID, "https://x.invalid/ts")


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=f"none.csv: reach {RID}: Hydrocron CSV not found"):
        read_reach(tmp_path / "none.csv", RID)
    (tmp_path / "bin.csv").write_bytes(b"reach_id,time_str\n\xff\xfe,1\n")
    with pytest.raises(InputError, match=f"bin.csv: reach {RID}: unreadable"):
        read_reach(tmp_path / "bin.csv", RID)


def test_time_seconds() -> None:
    t = time_seconds(["2000-01-01T00:01:00Z", "2000-01-01T02:00:00+02:00", "no_data", "2000-01-01T00:00:00", "x"])
    np.testing.assert_array_equal(t, [60.0, 0.0, np.nan, np.nan, np.nan])


def test_numeric_fields_are_riversp_reach_numbers() -> None:
    assert {"wse", "width", "slope2", "reach_q", "ice_clim_f", "time", "cycle_id", "pass_id"} <= NUMERIC
    assert not {"reach_id", "time_str", "river_name", "node_q"} & NUMERIC
