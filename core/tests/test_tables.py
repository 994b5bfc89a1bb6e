"""confluence_core.tables: CSV tables as stripped text with the field count of each row."""

from __future__ import annotations

from pathlib import Path

import pytest
from confluence_core.tables import read_text_table


def test_rows_as_text_with_field_counts(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("\ufeff Site ,Q\n\n a , 1.50 \n,\nb,NA,extra\nc\n\"d,e\",007\n", encoding="utf-8")
    table = read_text_table(path)
    assert table is not None
    assert table.header == ["Site", "Q"] and table.column("q", "site") == 1 and table.column("x") is None
    assert table.rows[0].tolist() == ["a", "", "c", "d,e"]
    assert table.rows[1].tolist() == ["1.50", "", "", "007"]  # text as written: no NA guessing, no numbers
    assert table.n_fields.tolist() == [2, 3, 1, 2]
    assert table.lines.tolist() == [2, 3, 4, 5]  # blank rows are not counted
    assert table.first_bad_width() == 1


def test_text_empty_and_header_only() -> None:
    assert read_text_table("") is None
    assert read_text_table("\n , \n") is None
    table = read_text_table("a,b\n")
    assert table is not None and table.header == ["a", "b"] and table.rows.empty
    assert table.first_bad_width() is None


def test_unreadable(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_text_table(tmp_path / "none.csv")
    (tmp_path / "bin.csv").write_bytes(b"a,b\n\xff\xfe,1\n")
    with pytest.raises(UnicodeDecodeError):
        read_text_table(tmp_path / "bin.csv")


def test_an_unclosed_quote_is_an_error_not_lost_lines() -> None:
    """pandas' python engine would drop every line after the quote without a word."""
    import csv

    with pytest.raises(csv.Error, match="unexpected end of data"):
        read_text_table('site,q\n1,"2\n3,4\n')
