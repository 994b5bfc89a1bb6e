"""Which entry of a fan-out list a job works on (contracts.md section 2).

AWS Batch sets ``AWS_BATCH_JOB_ARRAY_INDEX`` in every child of an array job;
lists longer than an array job's 10,000 children are split into chunks and
the driver passes the chunk's first index as ``CONFLUENCE_INDEX_OFFSET``.
An explicit ``--index`` wins over both.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import workflow
from .errors import ConfluenceError, InputError
from .jsonio import read_json
from .volumes import volume_path

ARRAY_INDEX_ENV = "AWS_BATCH_JOB_ARRAY_INDEX"
OFFSET_ENV = "CONFLUENCE_INDEX_OFFSET"
#: Most children an AWS Batch array job may hold.
MAX_ARRAY_SIZE = 10_000
#: ``confluence run --reaches``: the reaches the user selected, comma-separated.  A job whose entry
#: covers several reaches that it treats one by one (input: a basin) does only these; jobs that need
#: their whole entry (a set, a basin's integration) ignore it.  Unset: every reach.
SELECTED_REACHES_ENV = "CONFLUENCE_SELECTED_REACHES"


def selected_reaches() -> set[int] | None:
    """The reaches ``--reaches`` selected (:data:`SELECTED_REACHES_ENV`), None when all are."""
    text = os.environ.get(SELECTED_REACHES_ENV, "").strip()
    if not text:
        return None
    try:
        return {int(r) for r in text.replace(",", " ").split()}
    except ValueError:
        raise ConfluenceError(f"${SELECTED_REACHES_ENV}={text[:80]!r} is not a list of reach ids") from None


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


def job_entry(default_step: str, index: int | None = None, list_name: str | None = None,
              kind: type | None = None) -> tuple[Any, Path, int]:
    """The entry of the fan-out list this job works on.

    Parameters
    ----------
    default_step : str
        The module's workflow-table row when ``$CONFLUENCE_STEP`` is not set (a module run by hand).
    index : int, optional
        ``--index`` (default: the environment's, :func:`resolve_index`).
    list_name : str, optional
        A list in the input volume other than the row's (``--list``).
    kind : type, optional
        The entry's expected type (``dict`` for reaches.json / basin.json entries): anything else
        is a ConfluenceError naming the list.

    Returns
    -------
    (entry, list path, index)
    """
    i = resolve_index(index)
    path = volume_path("input", list_name or workflow.fanout_list(default_step))
    item = entry(path, i)
    if kind is not None and not isinstance(item, kind):
        raise ConfluenceError(f"entry {i} is not a JSON {'object' if kind is dict else kind.__name__}: "
                              f"{str(item)[:120]}", path)
    return item, path, i


@dataclass(frozen=True)
class ReachEntry:
    """A ``reaches.json`` entry (contracts.md section 4) with its file names resolved.

    ``swot``, ``sword`` and ``sos`` are file names in ``input/swot``, ``input/sword`` and
    ``input/sos``: the entry's, else the contract's defaults for the reach's continent and the
    run's SWORD version (``CONFLUENCE_SWORD_VERSION``).
    """

    reach_id: int
    swot: str
    sword: str
    sos: str


def reach_entry(item: Any, where: str | Path | None = None) -> ReachEntry:
    """Parse a ``reaches.json`` entry; InputError naming ``where`` when it has no valid reach id."""
    from .ids import continent_of
    from .sos import sos_name
    from .sword import DEFAULT_VERSION, sword_name

    try:
        rid = int(item["reach_id"])
        continent = continent_of(rid)
    except (KeyError, TypeError, ValueError, IndexError):
        raise InputError(f"entry has no valid reach_id: {item!r}", where) from None
    version = os.environ.get(workflow.SWORD_VERSION_ENV) or str(DEFAULT_VERSION)
    return ReachEntry(rid, str(item.get("swot") or f"{rid}_SWOT.nc"),
                      str(item.get("sword") or sword_name(continent, version)),
                      str(item.get("sos") or sos_name(continent, version)))


def continent_entry(item: Any, where: str | Path) -> tuple[str, list[int]]:
    """(continent code, id digits) of a ``continent.json`` entry like ``{"na": [7, 8, 9]}`` (contracts.md 4).

    Raises
    ------
    ConfluenceError
        Naming ``where`` (the list) when the entry is not one SWORD continent with its digits.
    """
    from .ids import CONTINENT_OF_DIGIT

    if not (isinstance(item, dict) and len(item) == 1):
        raise ConfluenceError(f"entry {item!r} is not one {{continent: [digits]}} mapping", where)
    code, digits = next(iter(item.items()))
    if code not in set(CONTINENT_OF_DIGIT.values()) or not isinstance(digits, list) or not digits:
        raise ConfluenceError(f"entry {item!r} does not name a SWORD continent and its id digits", where)
    try:
        return str(code), [int(d) for d in digits]
    except (TypeError, ValueError):
        raise ConfluenceError(f"entry {item!r} has a digit that is not a number", where) from None


def chunks(n_items: int, size: int = MAX_ARRAY_SIZE) -> list[tuple[int, int]]:
    """Split ``n_items`` into ``(offset, count)`` array-job chunks of at most ``size``."""
    return [(start, min(size, n_items - start)) for start in range(0, n_items, size)]
