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
  ``no_data`` become NaN.  A cell that is not a number is an error in a
  numeric RiverSP field (:data:`NUMERIC`) and NaN in any other column
  (Hydrocron's text columns such as ``river_name`` or ``granuleUR``);
- units: each ``{field}_units`` column of a field in :data:`UNITS` must name
  the contract unit.

Anything that makes the answer unusable is one
:class:`~confluence_core.errors.InputError` naming the file or URL, the reach,
the line (the header is line 1, blank lines are not counted) and the reason.

pandas is needed: install ``confluence-core[tables]``.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import InputError
from .fill import FLOAT_FILL, INT_FILL, LONG_FILL, STR_FILL
from .riversp import FIELDS
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
    k = table.first_bad_width()
    if k is not None:
        raise fail(f"malformed CSV: line {k + 2} has {table.n_fields[k]} fields, the header {len(table.header)}")
    cells = _cells(table)
    ids = set(cells["reach_id"])
    if ids != {str(reach_id)}:
        raise fail(f"the response holds reach ids {sorted(ids)[:3]}")
    units = _units(cells, fail)
    time_str = cells["time_str"].to_numpy(dtype=object)
    placeholder = time_str == STR_FILL
    if placeholder.all():
        raise fail(f"all {time_str.size} rows are no_data placeholders (no observation)")
    columns = {c: _numbers(v, c, fail) for c, v in cells.items() if c not in REQUIRED and not c.endswith("_units")}
    t = columns.get("time", np.full(time_str.size, np.nan))
    t = np.where(np.isfinite(t), t, time_seconds(time_str))
    bad = np.flatnonzero(~placeholder & ~np.isfinite(t))
    if bad.size:
        k = int(bad[0])
        raise fail(f"line {k + 2}: time_str {time_str[k]!r} is not {_TIME_FORMAT}")
    rows = _passes(time_str, t, ~placeholder)
    return ReachAnswer(int(reach_id), str(where), text, t[rows], time_str[rows], table.lines[rows],
                       {c: v[rows] for c, v in columns.items()}, units, time_str.size, int(placeholder.sum()),
                       int((~placeholder).sum()) - rows.size)


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


def _units(cells: dict[str, pd.Series], fail: Callable[[str], InputError]) -> dict[str, str]:
    """The unit of each field with a ``{field}_units`` column; every known field's must be the contract's."""
    out = {}
    for col, values in cells.items():
        if not col.endswith("_units"):
            continue
        field = col[: -len("_units")]
        given = [(i, unit_name(u)) for i, u in enumerate(values) if u and u != STR_FILL]
        expected = UNITS.get(field)
        wrong = [(i, u) for i, u in given if expected is not None and u != expected]
        if wrong:
            i, u = wrong[0]
            raise fail(f"line {i + 2}: column {col} says {u!r}, the contract unit of {field} is {expected!r}")
        if given:
            out[field] = given[0][1]
    return out


def _numbers(values: pd.Series, column: str, fail: Callable[[str], InputError]) -> np.ndarray:
    """Floats of a text column, fills and empty cells NaN; a non-number is NaN, or an error in :data:`NUMERIC`."""
    import pandas as pd

    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if column in NUMERIC:
        bad = np.flatnonzero(np.isnan(x) & ~values.str.lower().isin(_EMPTY).to_numpy())
        if bad.size:
            k = int(bad[0])
            raise fail(f"line {k + 2}: {column} {values.iloc[k]!r} is not a number")
    return np.where(np.isin(x, FILLS), np.nan, x)


def _passes(time_str: np.ndarray, t: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Indices of the rows kept: one per ``time_str`` (the last), in time order (stable)."""
    rows = np.flatnonzero(keep)
    _, last = np.unique(time_str[rows][::-1], return_index=True)
    rows = np.sort(rows[::-1][last])
    return rows[np.argsort(t[rows], kind="stable")]
