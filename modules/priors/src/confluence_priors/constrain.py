"""Constrained runs: replace the model flow statistics with calibration-gauge statistics.

In a constrained run the SoS ``model`` statistics (``mean_q``, ``min_q``,
``max_q``, ``monthly_q``, ``flow_duration_q``, ``two_year_return_q``) of every
reach with a calibration gauge (``{A}_CAL`` = 1) become that gauge's
statistics; ``overwritten_indexes`` is set to 1 and ``overwritten_source`` to
the agency for those reaches (contracts.md section 8).

Every replaced value is kept in the *preserved originals* (written as the
``model_original`` group, see :mod:`confluence_priors.io`): one row per reach
ever replaced, with the reach id and the model values (and the two flags)
as they were *before the first replacement*. The replacement always starts
from those originals, so it is idempotent:

- run 1 on an unconstrained SoS: originals = model rows of the gauged
  reaches; model rows = gauge statistics;
- run 2 on the output of run 1: the baseline is the model with the preserved
  rows restored, i.e. the true originals again; applying the gauges gives the
  same model as run 1, and the preserved rows are not replaced (the first
  originals stay);
- a reach preserved earlier that no longer has a calibration gauge gets its
  original values (and flags) back.

Where a gauge statistic is NaN (e.g. no complete year for the two-year
return flow, a month without data) the baseline model value of that element
is kept. Unconstrained runs do not call this module: ``model`` and the
preserved originals are copied unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from confluence_core.sos import MODEL_Q_VARS


@dataclass
class ModelState:
    """The replaceable part of the SoS ``model`` group, aligned on ``reach_id``.

    ``values`` maps each of :data:`~confluence_core.sos.MODEL_Q_VARS` to a float
    array whose first axis is the reach (m3/s, NaN missing).
    """

    reach_id: np.ndarray  # int64 [n]
    values: dict[str, np.ndarray]
    overwritten_indexes: np.ndarray  # int [n], 1 = replaced by a gauge
    overwritten_source: np.ndarray  # object (str) [n]

    def take(self, rows: np.ndarray) -> ModelState:
        """The rows ``rows`` as a new (copied) state."""
        return ModelState(
            reach_id=self.reach_id[rows].copy(),
            values={k: v[rows].copy() for k, v in self.values.items()},
            overwritten_indexes=self.overwritten_indexes[rows].copy(),
            overwritten_source=self.overwritten_source[rows].copy(),
        )

    def copy(self) -> ModelState:
        return self.take(np.arange(self.reach_id.size))

    @classmethod
    def concat(cls, a: ModelState, b: ModelState) -> ModelState:
        """Rows of ``a`` followed by rows of ``b``."""
        return cls(
            reach_id=np.concatenate([a.reach_id, b.reach_id]),
            values={k: np.concatenate([a.values[k], b.values[k]]) for k in a.values},
            overwritten_indexes=np.concatenate([a.overwritten_indexes, b.overwritten_indexes]),
            overwritten_source=np.concatenate([a.overwritten_source, b.overwritten_source]),
        )


@dataclass
class Calibration:
    """One calibration gauge per reach: its reach, agency and statistics (m3/s)."""

    reach_id: np.ndarray  # int64 [k]
    agency: np.ndarray  # object (str) [k]
    values: dict[str, np.ndarray] = field(default_factory=dict)  # MODEL_Q_VARS, first axis k


@dataclass
class ConstrainResult:
    model: ModelState
    original: ModelState
    replaced_reaches: np.ndarray  # int64 reach ids replaced in this run
    restored_reaches: np.ndarray  # int64 reach ids given back their originals


def _rows_of(ids: np.ndarray, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``ids``: (found in ``table``, its row there; 0 when not found)."""
    ids = np.asarray(ids, dtype=np.int64)
    if table.size == 0:
        return np.zeros(ids.size, dtype=bool), np.zeros(ids.size, dtype=np.int64)
    order = np.argsort(table, kind="stable")
    rows = order[np.clip(np.searchsorted(table, ids, sorter=order), 0, table.size - 1)]
    return table[rows] == ids, rows


def baseline(model: ModelState, original: ModelState | None) -> ModelState:
    """The model with every preserved original row restored (the state before any replacement)."""
    base = model.copy()
    if original is None or original.reach_id.size == 0:
        return base
    found, rows = _rows_of(original.reach_id, model.reach_id)
    dst = rows[found]
    for name in base.values:
        base.values[name][dst] = original.values[name][found]
    base.overwritten_indexes[dst] = original.overwritten_indexes[found]
    base.overwritten_source[dst] = original.overwritten_source[found]
    return base


def apply_calibration(
    model: ModelState, calibration: Calibration, original: ModelState | None = None
) -> ConstrainResult:
    """Replace the model statistics of calibration-gauged reaches, idempotently.

    Parameters
    ----------
    model : ModelState
        The ``model`` group as read from the current SoS.
    calibration : Calibration
        At most one calibration gauge per reach, with its statistics
        (keys :data:`~confluence_core.sos.MODEL_Q_VARS`, m3/s).
    original : ModelState, optional
        The preserved originals of an earlier constrained run (``model_original``).

    Returns
    -------
    ConstrainResult
        The new model, the preserved originals (earlier rows kept as they were,
        rows of newly replaced reaches appended), and which reaches were
        replaced or restored.
    """
    base = baseline(model, original)
    new = base.copy()
    found, rows = _rows_of(calibration.reach_id, model.reach_id)
    dst = rows[found]
    for name in MODEL_Q_VARS:
        gauge = np.asarray(calibration.values[name], dtype=np.float64)[found]
        new.values[name][dst] = np.where(np.isfinite(gauge), gauge, base.values[name][dst])
    new.overwritten_indexes[dst] = 1
    new.overwritten_source[dst] = calibration.agency[found]

    kept = original if original is not None else base.take(np.zeros(0, dtype=np.int64))
    already, _ = _rows_of(model.reach_id[dst], kept.reach_id)
    preserved = ModelState.concat(kept, base.take(dst[~already]))

    was_preserved, _ = _rows_of(kept.reach_id, model.reach_id)
    restored = np.setdiff1d(kept.reach_id[was_preserved], model.reach_id[dst])
    return ConstrainResult(new, preserved, model.reach_id[dst].copy(), restored)


def pick_calibration(
    reach_id: np.ndarray, agency: np.ndarray, cal: np.ndarray, n_days: np.ndarray,
    values: Mapping[str, np.ndarray],
) -> Calibration:
    """Choose one calibration gauge per reach among many gauges.

    Gauges with ``cal == 1`` and at least one valid day qualify; when several
    sit on one reach, the one with the most valid days wins (ties: first
    listed).

    Parameters
    ----------
    reach_id, agency, cal, n_days : numpy.ndarray
        One entry per gauge.
    values : mapping of str to numpy.ndarray
        Gauge statistics keyed by :data:`~confluence_core.sos.MODEL_Q_VARS`, first axis the gauge.
    """
    idx = np.flatnonzero((np.asarray(cal) == 1) & (np.asarray(n_days) > 0))
    # most days first, then input order; keep the first row of each reach
    order = idx[np.lexsort((idx, -np.asarray(n_days)[idx]))]
    _, first = np.unique(np.asarray(reach_id)[order], return_index=True)
    pick = np.sort(order[first])
    return Calibration(
        reach_id=np.asarray(reach_id, dtype=np.int64)[pick],
        agency=np.asarray(agency, dtype=object)[pick],
        values={k: np.asarray(values[k], dtype=np.float64)[pick] for k in MODEL_Q_VARS},
    )
