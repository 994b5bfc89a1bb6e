"""``{reach_id}_SWOT.nc`` from a Hydrocron reach CSV (contracts.md section 6).

The CSV is one reach's Hydrocron ``output=csv`` answer (datagen keeps it as
``input/hydrocron/{reach_id}.csv``; the Kobuk files in
``real_swot_kobuk/reaches`` are such answers).  It is read and checked by
:mod:`confluence_core.hydrocron` (placeholder rows dropped, a repeated pass
keeps its last row, times from ``time`` or ``time_str`` in ascending order,
fills as NaN, each ``{field}_units`` column checked against the contract
unit); a row with a defect is dropped (the caller says it:
:func:`confluence_core.hydrocron.log_dropped`), and what makes the answer
unusable is one :class:`~confluence_core.errors.InputError` naming the file,
the reach, the line and the reason.  Conversion:

- fields the answer lacks (``d_x_area`` often, every node field always) are
  fill; NaN becomes the contract fills (``confluence_core.fill``) in the
  written file; ``time_str`` is rewritten from ``time``;
- ``observations``: ``cycle_id * 1000 + pass_id`` when the answer has both,
  else the observation minute (minutes since 2000-01-01 UTC), which is
  unique per pass of a reach but not a cycle/pass number;
- the node group has no nodes (``nx = 0``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from confluence_core.fill import INT_FILL
from confluence_core.hydrocron import ReachAnswer, parse_reach, read_reach
from confluence_core.ids import cycle_pass_id

from . import schema
from .assemble import ReachSeries, time_to_str

log = logging.getLogger(__name__)


def reach_series(answer: ReachAnswer) -> ReachSeries:
    """The series input writes for one reach, from its checked Hydrocron answer."""
    if answer.n_repeated:
        log.info("reach %s: %d repeated passes dropped (last row kept)", answer.reach_id, answer.n_repeated)
    t = answer.time
    nt = t.size
    reach: dict[str, np.ndarray] = {}
    for name, dtype, _ in schema.REACH_VARS + schema.EXTRA_REACH:
        if name == "reach_id":
            continue
        if name == "time":
            reach[name] = t
        elif name == "time_str":
            reach[name] = time_to_str(t)
        elif np.dtype(dtype).kind in "iu":
            vals = answer.column(name)
            reach[name] = np.where(np.isfinite(vals) & (vals > INT_FILL), vals, INT_FILL).astype(np.int64)
        else:
            reach[name] = answer.column(name)
    node: dict[str, np.ndarray] = {}
    for name, dtype, _ in schema.NODE_VARS + schema.EXTRA_NODE:
        if name in ("reach_id", "node_id"):
            continue
        kind = "O" if name == "time_str" else np.dtype(dtype).kind
        node[name] = np.zeros((0, nt), dtype=object if kind == "O" else (np.int64 if kind in "iu" else float))
    return ReachSeries(answer.reach_id, _observations(answer), reach, np.zeros(0, dtype=np.int64), node)


def _observations(answer: ReachAnswer) -> np.ndarray:
    if "cycle_id" in answer.columns and "pass_id" in answer.columns:
        cy, pa = answer.columns["cycle_id"], answer.columns["pass_id"]
        if np.isfinite(cy).all() and np.isfinite(pa).all():
            return np.asarray([cycle_pass_id(c, p) for c, p in zip(cy, pa, strict=True)], dtype=np.int64)
    return np.floor(answer.time / 60.0).astype(np.int64)


def read_reach_csv(text: str, reach_id: int, where: str | Path) -> ReachSeries:
    """Turn one reach's Hydrocron CSV into the series input writes; InputError with the reason otherwise."""
    return reach_series(parse_reach(text, reach_id, where))


def read_answer(path: Path, reach_id: int) -> ReachAnswer:
    """One reach's checked answer from a file (InputError when missing, unreadable or unusable)."""
    return read_reach(path, reach_id)


def read_reach_file(path: Path, reach_id: int) -> ReachSeries:
    """:func:`read_reach_csv` on a file (InputError when missing or unreadable)."""
    return reach_series(read_reach(path, reach_id))
