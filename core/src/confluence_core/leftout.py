"""Reaches a run left out, with the reason (``input/left_out.json``).

With ``confluence run --keep-going`` a child that fails does not stop the run: the
driver records the reaches it covers here, and later steps go on for every other
reach.  The file is a JSON list of ``{"reach_id": int, "step": str, "reason": str}``
in the input volume; it is absent (or empty) when nothing was left out.  The output
module reads it to mark those reaches as fill with their reason.  Readers treat a
missing file as "nothing left out".
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .errors import InputError
from .jsonio import read_json, write_json

FILENAME = "left_out.json"


def path(input_dir: str | os.PathLike[str]) -> Path:
    return Path(input_dir) / FILENAME


def write(input_dir: str | os.PathLike[str], records: Iterable[Mapping[str, Any]]) -> Path:
    """Write the left-out reaches (sorted by reach id, first reason of each reach kept)."""
    seen: dict[int, dict[str, Any]] = {}
    for rec in records:
        rid = int(rec["reach_id"])
        seen.setdefault(rid, {"reach_id": rid, "step": str(rec["step"]), "reason": str(rec["reason"])})
    return write_json(path(input_dir), [seen[r] for r in sorted(seen)], indent=1)


def read(input_dir: str | os.PathLike[str]) -> dict[int, str]:
    """Reach id -> ``"<step>: <reason>"``; ``{}`` when the file is absent."""
    p = path(input_dir)
    if not p.exists():
        return {}
    data = read_json(p)
    if not isinstance(data, list):
        raise InputError("is not a JSON list of left-out reaches", p)
    out = {}
    for n, rec in enumerate(data):
        try:
            out[int(rec["reach_id"])] = f"{rec['step']}: {rec['reason']}"
        except (KeyError, TypeError, ValueError):
            raise InputError(f"entry {n} is not a left-out reach (reach_id, step, reason)", p) from None
    return out
