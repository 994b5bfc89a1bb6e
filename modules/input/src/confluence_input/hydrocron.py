"""``{reach_id}_SWOT.nc`` from a Hydrocron reach CSV (contracts.md section 6).

The CSV is one reach's Hydrocron ``output=csv`` answer (datagen keeps it as
``input/hydrocron/{reach_id}.csv``; the Kobuk files in
``real_swot_kobuk/reaches`` are such answers).  Columns are RiverSP reach
attribute names plus ``{field}_units`` columns; Hydrocron's own extra columns
(``cycle_id``, ``pass_id``, ``sos_*_q``, ...) are read where useful and
otherwise ignored.  Conversion:

- rows whose ``time_str`` is ``no_data`` are placeholders and dropped; a
  repeated ``time_str`` (a reprocessed pass) keeps the last row;
- times: ``time`` (s since 2000-01-01 UTC) when the answer has it, else parsed
  from ``time_str``; rows are sorted by time;
- fills: -999999999999 (floats), -999 / -99999999 (integers) become the
  contract fills (``confluence_core.fill``) in the written file;
- units: each ``{field}_units`` column must name the contract unit of the
  field (:data:`UNITS`); otherwise :class:`~confluence_core.errors.InputError`
  naming the column, its unit and the expected one;
- ``observations``: ``cycle_id * 1000 + pass_id`` when the answer has both,
  else the observation minute (minutes since 2000-01-01 UTC), which is
  unique per pass of a reach but not a cycle/pass number;
- fields the answer lacks (``d_x_area`` often, every node field always) are
  fill; the node group has no nodes (``nx = 0``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io as _io
import logging
from pathlib import Path

import numpy as np
from confluence_core.errors import InputError
from confluence_core.fill import FLOAT_FILL, INT_FILL, LONG_FILL, STR_FILL

from . import schema
from .assemble import ReachSeries, time_to_str

log = logging.getLogger(__name__)

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
_FLOAT_FILLS = (FLOAT_FILL, -999.0, float(LONG_FILL))
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _unit(text: str) -> str:
    t = text.strip().replace(" ", "")
    return _ALIASES.get(t, t)


def _numbers(values: list[str], column: str, reach_id: int, where: str | Path) -> np.ndarray:
    """Floats of a column; fills and empty cells NaN; InputError naming the first bad cell."""
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if v == "" or v.lower() in ("nan", STR_FILL):
            continue
        try:
            x = float(v)
        except ValueError:
            raise InputError(f"reach {reach_id}: column {column}: {v!r} is not a number", where) from None
        if x not in _FLOAT_FILLS:
            out[i] = x
    return out


def _seconds(time_str: list[str]) -> np.ndarray:
    out = np.full(len(time_str), np.nan)
    for i, s in enumerate(time_str):
        try:
            t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            continue
        if t.tzinfo is not None:
            out[i] = (t - EPOCH).total_seconds()
    return out


def read_reach_csv(text: str, reach_id: int, where: str | Path) -> ReachSeries:
    """Turn one reach's Hydrocron CSV into the series input writes; InputError with the reason otherwise."""
    try:
        rows = [r for r in csv.reader(_io.StringIO(text)) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise InputError(f"reach {reach_id}: malformed CSV ({exc})", where) from None
    if len(rows) < 2:
        raise InputError(f"reach {reach_id}: empty result (no data rows)", where)
    head = [h.strip() for h in rows[0]]
    for c in ("reach_id", "time_str"):
        if c not in head:
            raise InputError(f"reach {reach_id}: malformed CSV: no {c} column", where)
    if any(len(r) != len(head) for r in rows[1:]):
        k = next(i for i, r in enumerate(rows[1:]) if len(r) != len(head))
        raise InputError(f"reach {reach_id}: malformed CSV: line {k + 2} has {len(rows[k + 1])} fields, the "
                         f"header {len(head)}", where)
    cols = {h: [r[i].strip() for r in rows[1:]] for i, h in enumerate(head)}
    if set(cols["reach_id"]) != {str(reach_id)}:
        raise InputError(f"reach {reach_id}: the CSV holds reach ids {sorted(set(cols['reach_id']))[:3]}", where)
    _check_units(cols, reach_id, where)

    keep = np.asarray([s != STR_FILL for s in cols["time_str"]])
    if not keep.any():
        raise InputError(f"reach {reach_id}: all {keep.size} rows are no_data placeholders", where)
    t = _numbers(cols["time"], "time", reach_id, where) if "time" in cols else np.full(keep.size, np.nan)
    parsed = _seconds(cols["time_str"])
    bad = keep & ~np.isfinite(parsed) & ~np.isfinite(t)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError(f"reach {reach_id}: line {k + 2}: time_str {cols['time_str'][k]!r} is not "
                         "YYYY-MM-DDThh:mm:ssZ", where)
    t = np.where(np.isfinite(t), t, parsed)
    rows_kept = np.flatnonzero(keep)
    # a repeated pass keeps its last row
    _, last = np.unique(np.asarray(cols["time_str"], dtype=object)[rows_kept][::-1], return_index=True)
    rows_kept = np.sort(rows_kept[::-1][last])
    if rows_kept.size < int(keep.sum()):
        log.info("reach %s: %d repeated passes dropped (last row kept)", reach_id, int(keep.sum()) - rows_kept.size)
    rows_kept = rows_kept[np.argsort(t[rows_kept], kind="stable")]
    nt = rows_kept.size

    reach: dict[str, np.ndarray] = {}
    for name, dtype, _ in schema.REACH_VARS + schema.EXTRA_REACH:
        if name == "reach_id":
            continue
        if name == "time":
            reach[name] = t[rows_kept]
        elif name == "time_str":
            reach[name] = time_to_str(t[rows_kept])
        elif np.dtype(dtype).kind in "iu":
            vals = _numbers(cols[name], name, reach_id, where)[rows_kept] if name in cols else np.full(nt, np.nan)
            reach[name] = np.where(np.isfinite(vals) & (vals > INT_FILL), vals, INT_FILL).astype(np.int64)
        else:
            reach[name] = (_numbers(cols[name], name, reach_id, where)[rows_kept] if name in cols
                           else np.full(nt, np.nan))
    node: dict[str, np.ndarray] = {}
    for name, dtype, _ in schema.NODE_VARS + schema.EXTRA_NODE:
        if name in ("reach_id", "node_id"):
            continue
        kind = "O" if name == "time_str" else np.dtype(dtype).kind
        node[name] = np.zeros((0, nt), dtype=object if kind == "O" else (np.int64 if kind in "iu" else float))
    return ReachSeries(int(reach_id), _observations(cols, rows_kept, t[rows_kept], reach_id, where), reach,
                       np.zeros(0, dtype=np.int64), node)


def _observations(cols: dict[str, list[str]], rows: np.ndarray, t: np.ndarray, reach_id: int,
                  where: str | Path) -> np.ndarray:
    if "cycle_id" in cols and "pass_id" in cols:
        cy = _numbers(cols["cycle_id"], "cycle_id", reach_id, where)[rows]
        pa = _numbers(cols["pass_id"], "pass_id", reach_id, where)[rows]
        if np.isfinite(cy).all() and np.isfinite(pa).all():
            return (cy * 1000 + pa).astype(np.int64)
    return np.floor(t / 60.0).astype(np.int64)


def _check_units(cols: dict[str, list[str]], reach_id: int, where: str | Path) -> None:
    """Every ``{field}_units`` column of a known field must hold the contract unit (one clear error)."""
    for field, expected in UNITS.items():
        col = f"{field}_units"
        if col not in cols:
            continue
        found = {_unit(u) for u in cols[col] if u and u != STR_FILL}
        wrong = sorted(u for u in found if u != expected)
        if wrong:
            raise InputError(f"reach {reach_id}: column {col} says {wrong[0]!r}, the contract unit of {field} "
                             f"is {expected!r}", where)


def read_reach_file(path: Path, reach_id: int) -> ReachSeries:
    """:func:`read_reach_csv` on a file (InputError when missing or unreadable)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"reach {reach_id}: Hydrocron CSV not found", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"reach {reach_id}: unreadable ({exc})", path) from None
    return read_reach_csv(text, reach_id, path)
