"""Which entry of a fan-out list a job works on (contracts.md section 2).

AWS Batch sets ``AWS_BATCH_JOB_ARRAY_INDEX`` in every child of an array job;
lists longer than an array job's 10,000 children are split into chunks and
the driver passes the chunk's first index as ``CONFLUENCE_INDEX_OFFSET``.
An explicit ``--index`` wins over both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .errors import ConfluenceError
from .jsonio import read_json

ARRAY_INDEX_ENV = "AWS_BATCH_JOB_ARRAY_INDEX"
OFFSET_ENV = "CONFLUENCE_INDEX_OFFSET"
#: Most children an AWS Batch array job may hold.
MAX_ARRAY_SIZE = 10_000


def resolve_index(index: int | None = None) -> int:
    """Return the job's list index: ``index`` if given, else the environment's.

    Raises
    ------
    ConfluenceError
        When neither ``--index`` nor ``AWS_BATCH_JOB_ARRAY_INDEX`` is set, or
        a value is not a non-negative integer.
    """
    if index is not None:
        if index < 0:
            raise ConfluenceError(f"--index must be 0 or more, not {index}")
        return index
    raw = os.environ.get(ARRAY_INDEX_ENV)
    if raw is None or raw.strip() == "":
        raise ConfluenceError(f"no job index: give --index N or set {ARRAY_INDEX_ENV}")
    offset = os.environ.get(OFFSET_ENV, "0") or "0"
    try:
        value = int(raw) + int(offset)
    except ValueError:
        raise ConfluenceError(
            f"{ARRAY_INDEX_ENV}={raw!r} / {OFFSET_ENV}={offset!r} is not an integer"
        ) from None
    if value < 0:
        raise ConfluenceError(f"job index {value} is negative")
    return value


def entry(json_path: str | Path, index: int) -> Any:
    """Return entry ``index`` of the JSON list in ``json_path``."""
    items = read_json(json_path)
    if not isinstance(items, list):
        raise ConfluenceError("is not a JSON list", json_path)
    if index >= len(items):
        raise ConfluenceError(f"has {len(items)} entries, no index {index}", json_path)
    return items[index]


def chunks(n_items: int, size: int = MAX_ARRAY_SIZE) -> list[tuple[int, int]]:
    """Split ``n_items`` into ``(offset, count)`` array-job chunks of at most ``size``."""
    return [(start, min(size, n_items - start)) for start in range(0, n_items, size)]
