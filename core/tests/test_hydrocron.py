"""confluence_core.hydrocron: one reach's Hydrocron CSV answer, read and checked once."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from confluence_core import skips
from confluence_core.errors import InputError
from confluence_core.hydrocron import (
    NUMERIC,
    folder_answers,
    log_dropped,
    parse_reach,
    reach_id_of_name,
    read_reach,
    row_summary,
    source_name,
    time_seconds,
    unit_name,
)

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
    (HEAD + f"{RID},2024-07-01T00:00:00Z,1.0,2.0\n",
     r"no usable row \(1 row: not 3 fields like the header \(line 2\)\)"),
    (HEAD + f'{RID},"2024-07-01T00:00:00Z,1.0\n{RID},2024-07-02T00:00:00Z,1.0\n',
     r"malformed CSV \(unexpected end of data\)"),
    (HEAD + f'{RID},"2024-07-01T00:00:00Z"x,1.0\n', r"malformed CSV \(',' expected after '\"'\)"),
    (HEAD + "81320300021,2024-07-01T00:00:00Z,1.0\n", r"the response holds reach ids \['81320300021'\]"),
    (f"reach_id,time_str,wse_units\n{RID},2024-07-01T00:00:00Z,ft\n{RID},2024-07-02T00:00:00Z,ft\n",
     "line 2: column wse_units says 'ft', the contract unit of wse is 'm'"),
    (HEAD + f"{RID},no_data,-999999999999.0\n{RID},no_data,-999999999999.0\n",
     r"all 2 rows are no_data placeholders \(no observation\)"),
    (f"reach_id,time_str,pass_id\n{RID},2024-07-01T00:00:00Z,one\n{RID},no_data,-999\n",
     r"no usable row \(1 row: pass_id is not a number \(line 2\); 1 no_data placeholder rows\)"),
    (HEAD + f"{RID},2024-07-01T00:00:00,1.0\n",
     r"no usable row \(1 row: time_str is not YYYY-MM-DDThh:mm:ssZ \(line 2\)\)"),
])
def test_one_error_per_unusable_answer(text: str, reason: str) -> None:
    with pytest.raises(InputError, match=f"^https://x.invalid/ts: reach {RID}: {reason}$"):
        parse_reach(text, RID, "https://x.invalid/ts")


def test_row_defects_drop_the_row_only(caplog: pytest.LogCaptureFixture) -> None:
    text = ("reach_id,time_str,wse,reach_q,wse_units\n"
            f"{RID},2024-07-01T00:00:00Z,1.0,1,m\n"
            f"{RID},2024-07-02T00:00:00Z,high,1,m\n"          # line 3: a number that does not parse
            "garbage\n"                                        # line 4: 1 field
            f"{RID},2024-07-04T00:00:00Z,4.0,1,m,extra\n"      # line 5: 6 fields
            f"81320300021,2024-07-05T00:00:00Z,5.0,1,m\n"      # line 6: another reach's row
            f"{RID},2024-07-06T00:00:00Z,6.0,1,ft\n"           # line 7: wrong unit
            f"{RID},yesterday,7.0,1,m\n"                       # line 8: bad time
            f"{RID},2024-07-09T00:00:00Z,9.0,x,m\n"            # line 9: a flag that does not parse
            f"{RID},2024-07-10T00:00:00Z,10.0,2,m\n")
    answer = parse_reach(text, RID, "/some/dir/a b.csv")
    assert answer.columns["wse"].tolist() == [1.0, 10.0] and answer.lines.tolist() == [2, 10]
    assert answer.dropped == {"not 5 fields like the header": [4, 5], f"reach_id is not {RID}": [6],
                              "wse_units is not 'm'": [7], "wse is not a number": [3],
                              "reach_q is not a number": [9], "time_str is not YYYY-MM-DDThh:mm:ssZ": [8]}
    kept = parse_reach(answer.kept_text, RID, "k.csv")
    assert not kept.dropped and kept.columns["wse"].tolist() == [1.0, 10.0]
    with caplog.at_level(logging.WARNING):
        records = log_dropped(logging.getLogger("t"), answer)
    found = skips.parse(caplog.messages)
    assert found == records and len(found) == 6 and {s.kind for s in found} == {"row"}
    assert {s.item for s in found} == {"a b.csv"} and sum(s.count for s in found) == 7
    assert skips.Skip("row", "a b.csv", "2 rows: not 5 fields like the header (lines 4, 5)", 2) in found


def test_clean_answer_is_kept_verbatim(shared_data: Path) -> None:
    path = shared_data / "real_swot_kobuk" / "reaches" / f"{RID}.csv"
    answer = read_reach(path, RID)
    assert answer.dropped == {} and answer.kept_text == answer.text
    assert row_summary("r", list(range(2, 20))) == "18 rows: r (lines 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 8 more)"
    assert source_name("https://x/ts", RID) == f"Hydrocron reach {RID}"


@pytest.mark.parametrize(("name", "rid"), [
    ("81320300011.csv", 81320300011), ("81320300011 (1).csv", 81320300011), ("Kobuk 81320300011.csv", 81320300011),
    ("kobuk_81320300011_v2.csv", 81320300011), ("reach.csv", None), ("813203000111.csv", None),
    ("81320300011-81320300021.csv", None),
])
def test_reach_id_of_name(name: str, rid: int | None) -> None:
    assert reach_id_of_name(name) == rid


def test_folder_answers_ties_odd_names_and_says_the_rest(tmp_path: Path) -> None:
    for name in ("81320300011 (1).csv", "81320300011.csv", "Kobuk 81320300021.csv", "notes.csv"):
        (tmp_path / name).write_text("x")
    tied, untied = folder_answers(tmp_path)
    assert tied == {81320300011: tmp_path / "81320300011.csv", 81320300021: tmp_path / "Kobuk 81320300021.csv"}
    assert untied == {"81320300011 (1).csv": "another file (81320300011.csv) holds reach 81320300011",
                      "notes.csv": "the file name holds no 11-digit SWORD reach id (name it {reach_id}.csv)"}


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
