"""Children of a step: the entries of its fan-out list, their keys and expected outputs."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluence_core.branch import DEFAULT as DEFAULT_BRANCH
from confluence_core.errors import ConfluenceError
from confluence_core.ids import is_river
from confluence_core.jsonio import read_json
from confluence_core.workflow import Step


@dataclass(frozen=True)
class Child:
    """One job of a step: its index in the fan-out list and what it works on."""

    index: int
    key: str  # stable name of the entry: continent code, reach id, set ids, basin id, "once"
    reach_ids: tuple[str, ...]  # reaches the entry covers (empty for once/continent)
    fields: dict[str, str]  # placeholders for output patterns


def children(step: Step, input_dir: Path, reaches: Collection[str] | None = None) -> list[Child]:
    """Return the step's children, read from its list in ``input_dir``.

    With ``reaches`` given, per-reach, per-set and per-basin children are kept
    only when they cover at least one of those reach ids.
    """
    if step.fanout == "once":
        return [Child(index=0, key="once", reach_ids=(), fields={})]
    path = input_dir / step.list
    if not path.exists():
        raise ConfluenceError(
            f"step {step.name} needs its fan-out list, which an earlier step writes: not found", path
        )
    items = read_json(path)
    if not isinstance(items, list):
        raise ConfluenceError("is not a JSON list", path)
    out = []
    for index, entry in enumerate(items):
        try:
            child = _child(step.fanout, index, entry)
        except (KeyError, TypeError, ValueError, IndexError):
            raise ConfluenceError(
                f"entry {index} does not fit a {step.fanout} list: {str(entry)[:120]}", path
            ) from None
        if reaches is not None and child.reach_ids and not set(child.reach_ids) & set(reaches):
            continue
        out.append(child)
    return out


def _rid(entry: Any) -> str:
    return str(int(entry["reach_id"])) if isinstance(entry, dict) else str(int(entry))


def _child(fanout: str, index: int, entry: Any) -> Child:
    if fanout == "continent":
        (code,) = entry.keys()
        return Child(index, code, (), {"continent": code})
    if fanout == "reach":
        rid = _rid(entry)
        return Child(index, rid, (rid,), {"reach_id": rid})
    if fanout == "reachset":
        ids = tuple(_rid(e) for e in entry)
        return Child(index, "-".join(ids), ids, {"set": "-".join(ids)})
    if fanout == "basin":
        ids = tuple(str(int(r)) for r in entry["reach_id"])
        basin = str(entry["basin_id"])
        return Child(index, basin, ids, {"basin_id": basin})
    raise ValueError(fanout)


def _rivers(reach_ids: tuple[str, ...]) -> list[str]:
    out = []
    for r in reach_ids:
        try:
            if is_river(r):
                out.append(r)
        except ValueError:  # not an 11-digit id: no flow-law output is expected for it
            continue
    return out


def expected_outputs(step: Step, child: Child, root: Path, sword_version: str = "16",
                     optional: bool = False, branch: str = DEFAULT_BRANCH) -> list[Path]:
    """Paths the child declares (the step's ``outputs`` patterns, expanded for this child).

    Required outputs by default; with ``optional`` True the optional ones (``?`` in the table)
    instead: those are checked only when they exist.
    """
    fields = {**child.fields, "sword_version": sword_version, "branch": branch}
    rivers = _rivers(child.reach_ids)
    paths = []
    for out in step.outputs:
        if out.optional != optional:
            continue
        paths += [root / out.volume / p for p in out.expand(fields, child.reach_ids, rivers)]
    return paths
