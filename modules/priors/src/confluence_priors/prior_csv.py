"""A user's per-reach mean-flow prior: ``reach_id,mean_q[,sd_ln]`` from a model or survey they trust.

``confluence-priors --prior-csv FILE`` (or ``CONFLUENCE_PRIOR_CSV``) writes
the file's ``mean_q`` (m3/s) into the SoS ``model/mean_q`` of the reaches it
lists, and its ``sd_ln`` (the log-space standard deviation of that mean flow,
i.e. sd of ln Q; NaN when the column is absent or the cell empty) into
``model/mean_q_sd_ln`` (created when the SoS has none: NaN for other reaches).
For a run without an SoS, whose stand-in mean flow is a rough estimate from
the widths alone (``confluence_datagen.hydrocron.prior``), this is how a
better one gets in.

Format: a header line naming the columns ``reach_id,mean_q`` or
``reach_id,mean_q,sd_ln`` (any case, spaces ignored), then one line per reach:
an 11-digit SWORD reach id, a finite flow > 0 and, optionally, a finite
``sd_ln >= 0``.  Blank lines and lines starting with ``#`` are skipped.  A
repeated reach, a malformed line or a bad value stops the step with one line
naming the file, the line number and the reason, before anything is written.

Recorded: the attribute ``prior_csv`` (file name, SHA-256, number of reaches)
on ``model/mean_q``, ``model/mean_q_sd_ln`` and the file; for the reaches
listed, ``bad_priors`` 0 and ``bad_prior_source`` ``"prior CSV {name}"``
(when the SoS has those variables).  The replaced values stay in the previous
SoS version (``input/sos/versions/``).  Not a gauge: ``overwritten_indexes``
is left alone (it marks gauge statistics, which later steps trust as such),
and on a reach whose mean flow a calibration gauge replaced in the same run
the gauge wins.

Never from the validation gauges: those arrive through ``--gauges`` in the
gauge format (``agency,site,reach_id,date,discharge_cms``), which this reader
refuses, and only as CAL 0 series (statistics in their agency group; the
model flows are untouched).
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from confluence_core.errors import InputError

#: The columns, in order (``sd_ln`` optional).
COLUMNS = ("reach_id", "mean_q", "sd_ln")
#: SoS ``model`` variable for the log-space sd of ``mean_q`` (as the stand-in SoS of datagen writes it).
SD_VAR = "mean_q_sd_ln"


@dataclass(frozen=True)
class PriorCsv:
    """The checked content of a prior CSV, one entry per reach."""

    path: Path
    reach_id: np.ndarray  # int64 [k]
    mean_q: np.ndarray  # float [k], m3/s
    sd_ln: np.ndarray  # float [k], NaN where not given
    sha256: str

    @property
    def label(self) -> str:
        """What the SoS records: file name, digest, reach count."""
        return f"{self.path.name} (sha256 {self.sha256[:16]}): mean_q of {self.reach_id.size} reaches"


def _number(text: str, what: str, path: Path, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"line {line}: {what} {text!r} is not a number", path) from None
    if not np.isfinite(value):
        raise InputError(f"line {line}: {what} {text!r} is not finite", path)
    return value


def read_prior_csv(path: str | Path) -> PriorCsv:
    """Read and check a prior CSV (see the module docstring); InputError naming file and line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read the prior CSV ({exc.strerror or exc})", path) from None
    except UnicodeDecodeError:
        raise InputError("the prior CSV is not UTF-8 text", path) from None
    rows = [(k, r) for k, r in enumerate(csv.reader(text.splitlines()), start=1)
            if r and any(c.strip() for c in r) and not r[0].lstrip().startswith("#")]
    if not rows:
        raise InputError("the prior CSV is empty (needs a header reach_id,mean_q[,sd_ln])", path)
    head_line, head = rows[0]
    names = tuple(c.strip().lower() for c in head)
    if names not in (COLUMNS[:2], COLUMNS):
        raise InputError(f"line {head_line}: header {','.join(c.strip() for c in head)!r} is not "
                         f"reach_id,mean_q[,sd_ln] (a prior CSV, not a gauge file)", path)
    ids: list[int] = []
    q: list[float] = []
    sd: list[float] = []
    seen: dict[int, int] = {}
    for line, row in rows[1:]:
        cells = [c.strip() for c in row]
        if len(cells) != len(names):
            raise InputError(f"line {line}: {len(cells)} fields, the header has {len(names)}", path)
        rid = cells[0]
        if not (rid.isdigit() and len(rid) == 11):
            raise InputError(f"line {line}: reach_id {rid!r} is not an 11-digit SWORD reach id", path)
        if int(rid) in seen:
            raise InputError(f"line {line}: reach {rid} repeated (first on line {seen[int(rid)]})", path)
        seen[int(rid)] = line
        mean_q = _number(cells[1], "mean_q", path, line)
        if mean_q <= 0:
            raise InputError(f"line {line}: mean_q {cells[1]!r} is not > 0 (m3/s)", path)
        sd_ln = float("nan")
        if len(cells) == 3 and cells[2]:
            sd_ln = _number(cells[2], "sd_ln", path, line)
            if sd_ln < 0:
                raise InputError(f"line {line}: sd_ln {cells[2]!r} is negative", path)
        ids.append(int(rid))
        q.append(mean_q)
        sd.append(sd_ln)
    if not ids:
        raise InputError("the prior CSV has a header but no reach line", path)
    return PriorCsv(path, np.asarray(ids, dtype=np.int64), np.asarray(q), np.asarray(sd),
                    hashlib.sha256(raw).hexdigest())


@dataclass(frozen=True)
class Applied:
    """Where a prior CSV went in an SoS of ``n`` reaches."""

    mean_q: np.ndarray  # float [n], the new model/mean_q
    sd_ln: np.ndarray  # float [n], the new model/mean_q_sd_ln
    rows: np.ndarray  # int: SoS rows given the CSV's values
    not_in_sos: np.ndarray  # int64: CSV reaches the SoS does not hold
    gauge_kept: np.ndarray  # int64: CSV reaches left to their calibration gauge


def apply_prior_csv(table: PriorCsv, sos_reach_id: np.ndarray, mean_q: np.ndarray, sd_ln: np.ndarray | None,
                    gauged: np.ndarray | None = None) -> Applied:
    """The SoS ``mean_q`` / ``mean_q_sd_ln`` with the CSV's values on its reaches (pure).

    Parameters
    ----------
    table : PriorCsv
    sos_reach_id : array of int64 [n]
    mean_q : array [n]
        The SoS ``model/mean_q`` (m3/s) after any gauge constraint of this run.
    sd_ln : array [n] or None
        The SoS ``model/mean_q_sd_ln`` (None when the SoS has none: NaN).
    gauged : array of bool [n], optional
        Reaches whose model flows a calibration gauge replaced: the CSV does not override them.
    """
    ids = np.asarray(sos_reach_id, dtype=np.int64)
    n = ids.size
    row_of = {int(r): i for i, r in enumerate(ids.tolist())}
    new_q = np.asarray(mean_q, dtype=np.float64).copy()
    new_sd = np.full(n, np.nan) if sd_ln is None else np.asarray(sd_ln, dtype=np.float64).copy()
    is_gauged = np.zeros(n, bool) if gauged is None else np.asarray(gauged, dtype=bool)
    rows, missing, kept = [], [], []
    for rid, q, sd in zip(table.reach_id.tolist(), table.mean_q.tolist(), table.sd_ln.tolist(), strict=True):
        i = row_of.get(rid)
        if i is None:
            missing.append(rid)
        elif is_gauged[i]:
            kept.append(rid)
        else:
            new_q[i], new_sd[i] = q, sd
            rows.append(i)
    return Applied(new_q, new_sd, np.asarray(rows, dtype=np.int64), np.asarray(missing, dtype=np.int64),
                   np.asarray(kept, dtype=np.int64))
