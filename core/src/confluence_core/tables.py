"""Small CSV tables read with pandas as text, for readers that check every cell themselves.

Gauge tables (priors ``--gauges``, the driver's ``--gauges`` conversion) and
service answers are read with :func:`read_text_table`: every cell as stripped
text (no NA guessing, no type inference), rows without any non-blank cell
dropped, and the number of fields of each row kept, so a reader converts
columns explicitly (``pandas.to_numeric``, ``pandas.to_datetime``) and names
the offending line in its own one-line error.  Line numbers count the header
as line 1 and the non-blank rows after it (as the readers always have).

pandas is imported here only: install ``confluence-core[tables]``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: Marks, in the first cell, a line with more fields than the header (pandas hands such lines over apart).
_LONG_LINE = "\x00long line:"
#: Blank lines (nothing but spaces and commas) before the header.
_LEADING_BLANK = re.compile(r"\A(?:[ \t,]*(?:\r\n|\r|\n))+")


@dataclass
class TextTable:
    """A CSV table as text.

    Attributes
    ----------
    header : list of str
        The header cells, stripped (case as written).
    rows : pandas.DataFrame
        One column per header position (named 0, 1, ...), cells stripped, ``""`` where empty or absent.
    n_fields : ndarray of int
        Number of fields on each row (differs from ``len(header)`` on a malformed line).
    """

    header: list[str]
    rows: pd.DataFrame
    n_fields: np.ndarray

    @property
    def lines(self) -> np.ndarray:
        """Line number of each row: 2 for the first row after the header."""
        return np.arange(2, len(self.rows) + 2)

    def column(self, *names: str) -> int | None:
        """Position of the first of ``names`` in the header (compared case-insensitively), None if none is."""
        lower = [h.lower() for h in self.header]
        for name in names:
            if name.lower() in lower:
                return lower.index(name.lower())
        return None

    def first_bad_width(self) -> int | None:
        """Index of the first row whose number of fields differs from the header's, None when all agree."""
        wrong = np.flatnonzero(self.n_fields != len(self.header))
        return int(wrong[0]) if wrong.size else None


def read_text_table(source: str | Path, encoding: str = "utf-8-sig") -> TextTable | None:
    """Read a CSV file (a path) or CSV text (a ``str``) as a :class:`TextTable`; None when it has no header.

    Raises
    ------
    OSError, UnicodeDecodeError
        The file cannot be read as text.
    pandas.errors.ParserError, csv.Error
        pandas cannot split the text (an unclosed quote ...).
    """
    import pandas as pd

    text = Path(source).read_text(encoding=encoding) if isinstance(source, Path) else source
    if '"' in text:
        # pandas' python engine drops every line after an unclosed quote without a word: csv's strict
        # mode finds it (and a character after a closing quote) and raises csv.Error
        for _ in csv.reader(io.StringIO(text), strict=True):
            pass

    def long_line(fields: list[str]) -> list[str]:
        # a line with more fields than the header: kept in place, its field count in its first cell
        return [f"{_LONG_LINE}{len(fields)}" if any(f.strip() for f in fields) else ""]

    try:
        # the first non-blank line is the header: it sets the number of columns
        raw = pd.read_csv(io.StringIO(_LEADING_BLANK.sub("", text)), header=None, dtype=str, na_filter=False,
                          skip_blank_lines=True, engine="python", on_bad_lines=long_line)
    except pd.errors.EmptyDataError:
        return None
    padded = raw.isna().to_numpy()  # the missing cells of lines shorter than the header
    cells = raw.fillna("").apply(lambda c: c.str.strip())
    keep = (cells != "").any(axis=1).to_numpy()
    cells, padded = cells[keep].reset_index(drop=True), padded[keep]
    if cells.empty:
        return None
    body = cells.iloc[1:].reset_index(drop=True)
    n_fields = (~padded[1:]).sum(axis=1)
    long = body.iloc[:, 0].str.startswith(_LONG_LINE).to_numpy()
    n_fields[long] = [int(c[len(_LONG_LINE):]) for c in body.iloc[:, 0][long]]
    body.loc[long] = ""
    return TextTable(cells.iloc[0].tolist(), body, n_fields)
