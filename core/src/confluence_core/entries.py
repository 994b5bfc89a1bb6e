"""The entries of one job: one entry of the step's fan-out list, or a group of them.

A workflow row may say ``group = N``: one child (one AWS Batch array child, one local
job) then takes N consecutive entries of its list, which spares N - 1 process starts
(imports are most of the cost of a cheap per-reach step) and lets an algorithm share
work across them (neoBAM compiles once per job).  Which entries a job takes:

- ``--index I`` given by hand (debugging one reach: ``docker run ... --index 12``):
  entry I alone;
- ``$CONFLUENCE_ENTRIES`` (comma-separated list indices), set by the local engines,
  which pack the entries still to do into jobs of at most N;
- else array child ``K`` (``AWS_BATCH_JOB_ARRAY_INDEX`` plus the chunk's offset) takes
  entries ``K * N`` to ``K * N + N - 1`` (fewer at the end of the list): AWS Batch
  runs ``ceil(len(list) / N)`` children.

Entries of a group are run one by one and independently: one that fails is logged
with its reason and the others still run; the job then ends with one error naming
the failed entries.  Each entry's end is one log line the driver reads
(``entry done: {"index": i}`` / ``entry failed: {"index": i, "reason": ...}``), so a
run records, resumes and leaves out single entries, not whole groups.  A job of a
single entry behaves as it always did: its error is the job's error.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from . import workflow
from .errors import ConfluenceError
from .index import resolve_index
from .jsonio import read_json
from .volumes import volume_path

#: Explicit list indices of this job's entries (local engines), comma-separated.
ENTRIES_ENV = "CONFLUENCE_ENTRIES"
DONE = "entry done: "
FAILED = "entry failed: "


def job_count(n_entries: int, group: int) -> int:
    """Children of a step with ``n_entries`` list entries taken ``group`` at a time."""
    return math.ceil(n_entries / max(1, group))


def indices_of_job(index: int, group: int, n_entries: int) -> list[int]:
    """The list indices job ``index`` takes (``group`` consecutive entries)."""
    start = index * group
    if start >= n_entries:
        raise ConfluenceError(f"job {index} of groups of {group} is past the end of the list ({n_entries} entries)")
    return list(range(start, min(start + group, n_entries)))


def explicit_indices() -> list[int] | None:
    """``$CONFLUENCE_ENTRIES`` as list indices, None when unset."""
    text = os.environ.get(ENTRIES_ENV, "").strip()
    if not text:
        return None
    try:
        out = [int(x) for x in text.replace(",", " ").split()]
    except ValueError:
        raise ConfluenceError(f"${ENTRIES_ENV}={text[:80]!r} is not a list of list indices") from None
    if any(i < 0 for i in out):
        raise ConfluenceError(f"${ENTRIES_ENV} holds a negative index")
    return out


def job_entries(default_step: str, index: int | None = None,
                list_name: str | None = None) -> tuple[list[tuple[int, Any]], Path]:
    """``[(list index, entry), ...]`` of this job, and the list's path."""
    try:
        group = workflow.current_step(default_step).group
    except ConfluenceError:
        if list_name is None:
            raise
        group = 1  # a module run by hand on a list of its own (--list), outside the workflow table
    path = volume_path("input", list_name or workflow.fanout_list(default_step))
    items = read_json(path)
    if not isinstance(items, list):
        raise ConfluenceError("is not a JSON list", path)
    wanted = [resolve_index(index)] if index is not None else explicit_indices()
    if wanted is None:
        wanted = indices_of_job(resolve_index(None), group, len(items))
    past = [i for i in wanted if i >= len(items)]
    if past:
        raise ConfluenceError(f"has {len(items)} entries, no index {past[0]}", path)
    return [(i, items[i]) for i in wanted], path


def entry_done(logger: logging.Logger, index: int) -> None:
    logger.info("%s%s", DONE, json.dumps({"index": index}))


def entry_failed(logger: logging.Logger, index: int, reason: str) -> None:
    logger.error("%s%s", FAILED, json.dumps({"index": index, "reason": reason}, ensure_ascii=False))


def for_each_entry(default_step: str, index: int | None, run: Callable[[Any, Path, int], Any],
                   logger: logging.Logger, list_name: str | None = None, kind: type | None = None) -> None:
    """Call ``run(entry, list path, list index)`` for each entry of this job (see the module docstring).

    ``kind``: the type every entry must have (``dict`` for reaches.json entries); an entry of another
    type fails on its own.  Raises one :class:`ConfluenceError` naming the failed entries of a group.
    """
    entries, path = job_entries(default_step, index, list_name)
    single = len(entries) == 1 and (index is not None or explicit_indices() is None)
    failed: list[tuple[int, str]] = []
    for i, item in entries:
        try:
            if kind is not None and not isinstance(item, kind):
                raise ConfluenceError(f"entry {i} is not a JSON {'object' if kind is dict else kind.__name__}: "
                                      f"{str(item)[:120]}", path)
            if not single:
                logger.info("entry %d of %s", i, path.name)
            run(item, path, i)
        except ConfluenceError as exc:
            if single:
                raise
            entry_failed(logger, i, str(exc))
            failed.append((i, str(exc)))
            continue
        except Exception as exc:  # a bug on one entry: its traceback in the log, the others go on
            if single:
                raise
            logger.error("entry %d: unexpected failure", i, exc_info=True)
            reason = f"unexpected {type(exc).__name__}: {exc}"
            entry_failed(logger, i, reason)
            failed.append((i, reason))
            continue
        if not single:
            entry_done(logger, i)
    if failed:
        raise group_failed(failed, len(entries), path)


def group_failed(failed: Sequence[tuple[int, str]], n_entries: int, path: Path) -> ConfluenceError:
    """The one error of a job whose entries ``failed`` (``(list index, reason)``; the first is quoted).

    ``N of M entries failed (i, j, ...); entry i: reason``, naming the list ``path``.
    """
    first_i, first_why = failed[0]
    which = ", ".join(str(i) for i, _ in failed)
    return ConfluenceError(f"{len(failed)} of {n_entries} entries failed ({which}); entry {first_i}: {first_why}",
                           path)


def parse(lines: Iterable[str]) -> tuple[set[int], dict[int, str]]:
    """The entries a job's log says were done, and those that failed with their reasons."""
    done: set[int] = set()
    failed: dict[int, str] = {}
    for line in lines:
        for mark, target in ((DONE, None), (FAILED, failed)):
            at = line.find(mark + "{")
            if at < 0:
                continue
            try:
                data = json.loads(line[at + len(mark):])
                i = int(data["index"])
            except (ValueError, KeyError, TypeError):
                continue
            if target is None:
                done.add(i)
            else:
                target[i] = str(data.get("reason", ""))
    return done - set(failed), failed


def pack(indices: Sequence[int], group: int) -> list[list[int]]:
    """Split the entries to do into jobs of at most ``group`` (in list order)."""
    group = max(1, group)
    return [list(indices[k:k + group]) for k in range(0, len(indices), group)]
