"""Counted skips: what a module leaves out of the data is said once, in a form the driver gathers.

A module that drops input data (a granule it cannot read, a pass, rows of a CSV, a
whole file, a reach) calls :func:`skip`.  It logs one warning line that a person
reads and the driver parses::

    2026-12-02T14:00:00 WARNING confluence.input: skip: {"kind": "row", "item": "a b.csv", ...}

The driver gathers every ``skip:`` line of every child's log into ``skipped.csv`` in
the run folder, counts them per step in ``run.json`` and prints a summary;
``--strict`` turns any skip into a failure.  Science outcomes are not skips: an
observation removed by a prediagnostics filter (counted in that step's summary) or
a reach an FLPE algorithm flags as too short (``valid = 0``, counted in
``run.json`` ``steps.<algo>.reaches``) are results, not lost data.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass

#: What can be left out, coarsest last.
KINDS = ("row", "observation", "granule", "pass", "file", "reach")

MARK = "skip: "


@dataclass(frozen=True)
class Skip:
    """Something a module left out, and why.

    Parameters
    ----------
    kind : one of :data:`KINDS`
    item : what was left out: a file name, ``file:line``, a reach id, a pass id
    reason : why, in words a user acts on
    count : how many of ``kind`` this record stands for (e.g. 3 bad rows of one file)
    """

    kind: str
    item: str
    reason: str
    count: int = 1

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown skip kind {self.kind!r}: use one of {', '.join(KINDS)}")
        if self.count < 1:
            raise ValueError("a skip stands for at least one item")


def skip(logger: logging.Logger, kind: str, item: str, reason: str, count: int = 1) -> Skip:
    """Log that ``count`` ``kind`` (``item``) were left out because of ``reason``; return the record."""
    record = Skip(kind, str(item), reason, int(count))
    logger.warning("%s%s", MARK, json.dumps(asdict(record), ensure_ascii=False))
    return record


def parse(lines: Iterable[str]) -> list[Skip]:
    """The skips in log lines (other lines, and ``skip:`` lines that do not parse, are ignored)."""
    out = []
    for line in lines:
        at = line.find(MARK + "{")
        if at < 0:
            continue
        try:
            data = json.loads(line[at + len(MARK):])
            out.append(Skip(str(data["kind"]), str(data["item"]), str(data["reason"]),
                            int(data.get("count", 1))))
        except (ValueError, KeyError, TypeError):
            continue
    return out
