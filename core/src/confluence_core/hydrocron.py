"""One reach's Hydrocron CSV answer, read and checked once (contracts.md section 6).

PO.DAAC Hydrocron (https://podaac.github.io/hydrocron/timeseries.html) answers
``output=csv`` with one row per pass of a reach: RiverSP reach attribute
names, Hydrocron's own columns (``cycle_id``, ``pass_id``, ``sos_*_q`` ...) and
a ``{field}_units`` column per field.  Datagen checks the answers it gets with
:func:`parse_reach` and input converts the kept ones into
``{reach_id}_SWOT.nc`` from the same :class:`ReachAnswer`.

The text is split by :func:`confluence_core.tables.read_text_table` (pandas,
every cell as stripped text) and then:

- rows whose ``time_str`` is ``no_data`` are Hydrocron's placeholders for
  passes without an observation: dropped and counted;
- times: ``time`` (s since 2000-01-01 UTC) where the answer has a valid one,
  else parsed from ``time_str`` (``YYYY-MM-DDThh:mm:ss[.f]Z``);
- a repeated ``time_str`` (a reprocessed pass) keeps its last row; rows are
  sorted by time;
- numbers: every column but ``reach_id``, ``time_str`` and the
  ``{field}_units`` ones is converted with :func:`pandas.to_numeric`; the
  fills -999999999999.0, -999 and -99999999, empty cells, ``nan`` and
  ``no_data`` become NaN.  A cell that is not a number is a defect of its row
  in a numeric RiverSP field (:data:`NUMERIC`) and NaN in any other column
  (Hydrocron's text columns such as ``river_name`` or ``granuleUR``);
- units: each ``{field}_units`` column of a field in :data:`UNITS` must name
  the contract unit.

A defect of one row (a wrong number of fields, another reach's id, a number
or ``time_str`` that does not parse, a unit that is not the contract's) drops
that row only: :attr:`ReachAnswer.dropped` lists the dropped lines per reason,
:func:`log_dropped` says them as counted ``row`` skips
(:mod:`confluence_core.skips`), and :attr:`ReachAnswer.kept_text` is the
answer without them.  What makes the whole answer unusable (no header, no
``reach_id`` / ``time_str`` column, every row another reach's, every row of a
unit column wrong, no row left with an observation) is one
:class:`~confluence_core.errors.InputError` naming the file or URL, the reach,
the line (the header is line 1, blank lines are not counted) and the reason.

Saved answers are tied to their reach by the file name (:func:`reach_id_of_name`):
``81320300011.csv``, and also ``81320300011 (1).csv`` or ``Kobuk 81320300011.csv``
(the one 11-digit number of the name).

pandas is needed: install ``confluence-core[tables]``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import InputError
from .fill import FLOAT_FILL, INT_FILL, LONG_FILL, STR_FILL
from .riversp import FIELDS
from .skips import Skip, skip
from .tables import TextTable, read_text_table

if TYPE_CHECKING:
    import pandas as pd

#: SWOT time origin: ``time`` is seconds since this instant.
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
#: Values that mean "no value" in a numeric column.
FILLS = (FLOAT_FILL, float(INT_FILL), float(LONG_FILL))
#: Cells (lower case) that are an empty value rather than a bad number.
_EMPTY = ("", "nan", STR_FILL)
#: Columns an answer must have.
REQUIRED = ("reach_id", "time_str")
#: Columns that must hold numbers (or fills): RiverSP's numeric reach fields and Hydrocron's cycle / pass.
NUMERIC: frozenset[str] = frozenset(
    [name for name, f in FIELDS.items() if "Reach" in f.features and f.kind in ("f", "i")] + ["cycle_id", "pass_id"])
#: Contract unit of each field (as the SWOT product writes it); ``{field}_units`` must agree.
UNITS: dict[str, str] = {
    "wse": "m", "wse_u": "m", "width": "m", "width_u": "m",
    "slope": "m/m", "slope_u": "m/m", "slope2": "m/m", "slope2_u": "m/m",
    "d_x_area": "m^2", "d_x_area_u": "m^2", "area_total": "m^2",
    "dark_frac": "1", "obs_frac_n": "1",
    "xtrk_dist": "m", "p_width": "m", "p_length": "m",
}
#: Spellings taken as the same unit.
_ALIASES = {"m2": "m^2", "m**2": "m^2", "": "1", "-": "1", "m.m-1": "m/m"}
_TIME_FORMAT = "YYYY-MM-DDThh:mm:ssZ"
#: An 11-digit SWORD reach id inside a file name (not part of a longer run of digits).
_ID_IN_NAME = re.compile(r"(?<!\d)\d{11}(?!\d)")
#: Lines named in a row-skip reason before "and n more".
_MAX_LINES = 10


@dataclass
class ReachAnswer:
    """One reach's checked Hydrocron answer: one entry per observed pass, in time order.

    Attributes
    ----------
    reach_id : int
        The reach asked for (every row holds it).
    where : str
        The file or URL the answer came from (named in errors).
    text : str
        The answer verbatim.
    time : ndarray of float64
        Observation time, s since 2000-01-01 UTC (``time``, else ``time_str``); ascending.
    time_str : ndarray of str
        ``time_str`` as written.
    lines : ndarray of int
        Line of each entry in the CSV (header = 1, blank lines not counted).
    columns : dict of str to ndarray of float64
        Every column but ``reach_id``, ``time_str`` and ``{field}_units``; fills and non-numbers NaN.
    units : dict of str to str
        Unit of each field with a ``{field}_units`` column (its first value, aliases resolved).
    n_rows : int
        Rows of the answer (placeholders and repeated passes included).
    n_placeholder : int
        ``no_data`` placeholder rows dropped.
    n_repeated : int
        Rows dropped because a later row has the same ``time_str``.
    dropped : dict of str to list of int
        Rows dropped for a defect: reason -> their lines (each row under its first defect).
    kept_text : str
        The answer without the dropped rows (``text`` itself when none was dropped).
    """

    reach_id: int
    where: str
    text: str
    time: np.ndarray
    time_str: np.ndarray
    lines: np.ndarray
    columns: dict[str, np.ndarray]
    units: dict[str, str]
    n_rows: int
    n_placeholder: int
    n_repeated: int
    dropped: dict[str, list[int]] = field(default_factory=dict)
    kept_text: str = ""

    def column(self, name: str) -> np.ndarray:
        """The float column ``name``; all NaN when the answer lacks it."""
        values = self.columns.get(name)
        return np.full(self.time.size, np.nan) if values is None else values


def time_seconds(time_str: Iterable[str]) -> np.ndarray:
    """``YYYY-MM-DDThh:mm:ss[.f]Z`` -> s since 2000-01-01 UTC (NaN for ``no_data``, unparsable, no zone)."""
    out = []
    for s in time_str:
        try:
            t = dt.datetime.fromisoformat(s.strip().replace("Z", "+00:00"))
        except ValueError:
            out.append(np.nan)
            continue
        out.append((t - EPOCH).total_seconds() if t.tzinfo is not None else np.nan)
    return np.asarray(out, dtype=np.float64)


def unit_name(text: str) -> str:
    """A unit as the contract spells it (``m2`` -> ``m^2``, blank or ``-`` -> ``1``)."""
    t = text.strip().replace(" ", "")
    return _ALIASES.get(t, t)


def parse_reach(text: str, reach_id: int, where: str | Path) -> ReachAnswer:
    """Check one reach's Hydrocron CSV and return its passes.

    Parameters
    ----------
    text : str
        The answer (``output=csv``), as received or saved.
    reach_id : int
        The reach asked for.
    where : str or Path
        File or URL of the answer, named in errors.

    Raises
    ------
    InputError
        ``{where}: reach {reach_id}: {reason}`` for an answer that cannot be used.
    """

    def fail(reason: str) -> InputError:
        return InputError(f"reach {reach_id}: {reason}", where)

    try:
        table = read_text_table(text)
    except (csv.Error, ValueError) as exc:  # pandas.errors.ParserError is a ValueError
        raise fail(f"malformed CSV ({exc})") from None
    if table is None:
        raise fail("empty response (no header, no rows)")
    missing = [c for c in REQUIRED if c not in table.header]
    if missing:
        raise fail(f"malformed CSV: no column {', '.join(missing)} in the header")
    if table.rows.empty:
        raise fail("empty result (a header and no rows)")
    rows = _Rows(table.lines)
    rows.drop(table.n_fields != len(table.header), f"not {len(table.header)} fields like the header")
    cells = _cells(table)
    ids = cells["reach_id"].to_numpy(dtype=object)
    other = ids != str(reach_id)
    if (other | rows.bad).all() and not rows.bad.all():
        raise fail(f"the response holds reach ids {sorted(set(ids[~rows.bad]))[:3]}")
    rows.drop(other, f"reach_id is not {reach_id}")
    units = _units(cells, rows, fail)
    time_str = cells["time_str"].to_numpy(dtype=object)
    columns = {c: _numbers(v, c, rows) for c, v in cells.items() if c not in REQUIRED and not c.endswith("_units")}
    placeholder = time_str == STR_FILL
    t = columns.get("time", np.full(time_str.size, np.nan))
    t = np.where(np.isfinite(t), t, time_seconds(time_str))
    rows.drop(~placeholder & ~np.isfinite(t), f"time_str is not {_TIME_FORMAT}")
    placeholder &= ~rows.bad
    keep = ~placeholder & ~rows.bad
    if not keep.any():
        if not rows.dropped:
            raise fail(f"all {time_str.size} rows are no_data placeholders (no observation)")
        held = [row_summary(r, lines) for r, lines in rows.dropped.items()]
        if placeholder.any():
            held.append(f"{int(placeholder.sum())} no_data placeholder rows")
        raise fail(f"no usable row ({'; '.join(held)})")
    kept = _passes(time_str, t, keep)
    return ReachAnswer(int(reach_id), str(where), text, t[kept], time_str[kept], table.lines[kept],
                       {c: v[kept] for c, v in columns.items()}, units, time_str.size, int(placeholder.sum()),
                       int(keep.sum()) - kept.size, rows.dropped,
                       _without(table, rows.bad) if rows.dropped else text)


def row_summary(reason: str, lines: list[int]) -> str:
    """``"3 rows: <reason> (lines 5, 9, 12)"`` (at most :data:`_MAX_LINES` lines named)."""
    n = len(lines)
    shown = ", ".join(str(k) for k in lines[:_MAX_LINES])
    more = f" and {n - _MAX_LINES} more" if n > _MAX_LINES else ""
    return f"{n} row{'s' if n != 1 else ''}: {reason} (line{'s' if n != 1 else ''} {shown}{more})"


def source_name(where: str | Path, reach_id: int) -> str:
    """What a skip names: the file name of a saved answer, ``Hydrocron reach {id}`` for a live one."""
    text = str(where)
    if "://" in text:
        return f"Hydrocron reach {reach_id}"
    return Path(text).name


def log_dropped(logger: logging.Logger, answer: ReachAnswer) -> list[Skip]:
    """Say the rows ``answer`` dropped: one counted ``row`` skip per reason (:mod:`confluence_core.skips`)."""
    item = source_name(answer.where, answer.reach_id)
    return [skip(logger, "row", item, row_summary(reason, lines), count=len(lines))
            for reason, lines in answer.dropped.items()]


def reach_id_of_name(name: str) -> int | None:
    """The reach id a saved answer's file name stands for: its one 11-digit number (None: none, or several)."""
    found = _ID_IN_NAME.findall(Path(name).stem)
    return int(found[0]) if len(set(found)) == 1 else None


def folder_answers(root: Path) -> tuple[dict[int, Path], dict[str, str]]:
    """The ``*.csv`` files of ``root``: ``({reach_id: path}, {file name: why it is not used})``.

    A name is tied to a reach by :func:`reach_id_of_name`; when two files name the
    same reach, the one named exactly ``{reach_id}.csv`` (else the first in name
    order) is used and the other is not.
    """
    tied: dict[int, Path] = {}
    untied: dict[str, str] = {}
    if not root.is_dir():
        return tied, untied
    files = sorted((p for p in root.glob("*.csv") if p.is_file()),
                   key=lambda p: (p.stem != str(reach_id_of_name(p.name)), p.name))
    for p in files:
        rid = reach_id_of_name(p.name)
        if rid is None:
            untied[p.name] = "the file name holds no 11-digit SWORD reach id (name it {reach_id}.csv)"
        elif rid in tied:
            untied[p.name] = f"another file ({tied[rid].name}) holds reach {rid}"
        else:
            tied[rid] = p
    return dict(sorted(tied.items())), untied


def read_reach(path: Path, reach_id: int) -> ReachAnswer:
    """:func:`parse_reach` on a saved answer (InputError when missing or unreadable)."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"reach {reach_id}: Hydrocron CSV not found", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"reach {reach_id}: unreadable ({exc})", path) from None
    return parse_reach(text, reach_id, path)


def _cells(table: TextTable) -> dict[str, pd.Series]:
    """Column name -> its text cells (a repeated name: the last column)."""
    return {h: table.rows[i] for i, h in enumerate(table.header)}


class _Rows:
    """Rows dropped so far (``bad``) and their lines per reason (each row under its first defect)."""

    def __init__(self, lines: np.ndarray) -> None:
        self.lines = lines
        self.bad = np.zeros(lines.size, dtype=bool)
        self.dropped: dict[str, list[int]] = {}

    def drop(self, mask: np.ndarray, reason: str) -> None:
        new = np.asarray(mask, dtype=bool) & ~self.bad
        if new.any():
            self.dropped.setdefault(reason, []).extend(self.lines[new].tolist())
            self.bad |= new


def _units(cells: dict[str, pd.Series], rows: _Rows, fail: Callable[[str], InputError]) -> dict[str, str]:
    """The unit of each field with a ``{field}_units`` column.

    A row whose unit of a known field is not the contract's is dropped; when no row
    has the contract unit, the answer is unusable.
    """
    out = {}
    for col, values in cells.items():
        if not col.endswith("_units"):
            continue
        name = col[: -len("_units")]
        units = np.asarray([unit_name(u) if u and u != STR_FILL else "" for u in values], dtype=object)
        given = (units != "") & ~rows.bad
        expected = UNITS.get(name)
        wrong = given & (units != expected) if expected is not None else np.zeros(units.size, dtype=bool)
        if wrong.any() and not (given & ~wrong).any():
            i = int(np.flatnonzero(wrong)[0])
            raise fail(f"line {int(rows.lines[i])}: column {col} says {units[i]!r}, the contract unit of "
                       f"{name} is {expected!r}")
        rows.drop(wrong, f"{col} is not {expected!r}")
        ok = np.flatnonzero(given & ~wrong)
        if ok.size:
            out[name] = str(units[ok[0]])
    return out


def _numbers(values: pd.Series, column: str, rows: _Rows) -> np.ndarray:
    """Floats of a text column, fills and empty cells NaN; a non-number is NaN, and drops its row in :data:`NUMERIC`."""
    import pandas as pd

    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if column in NUMERIC:
        rows.drop(np.isnan(x) & ~values.str.lower().isin(_EMPTY).to_numpy(), f"{column} is not a number")
    return np.where(np.isin(x, FILLS), np.nan, x)


def _without(table: TextTable, bad: np.ndarray) -> str:
    """The table as CSV text without the ``bad`` rows (cells as read, stripped)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.header)
    writer.writerows(table.rows[~bad].to_numpy(dtype=object).tolist())
    return out.getvalue()


def _passes(time_str: np.ndarray, t: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Indices of the rows kept: one per ``time_str`` (the last), in time order (stable)."""
    rows = np.flatnonzero(keep)
    _, last = np.unique(time_str[rows][::-1], return_index=True)
    rows = np.sort(rows[::-1][last])
    return rows[np.argsort(t[rows], kind="stable")]
