"""JSON files of the workflow (contracts.md section 4): read with clear errors, write atomically."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .atomic import write_text
from .errors import InputError


def read_json(path: str | os.PathLike[str]) -> Any:
    """Read a JSON file; a missing or malformed file is an :class:`InputError`."""
    path = Path(path)
    try:
        with path.open() as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise InputError("file not found", path) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc.msg} at line {exc.lineno})", path) from None


def write_json(path: str | os.PathLike[str], data: Any, indent: int | None = None) -> Path:
    """Write ``data`` as JSON to ``path`` atomically."""
    return write_text(path, json.dumps(data, indent=indent, default=_default) + "\n")


def _default(obj: Any) -> Any:
    # numpy scalars and arrays, without importing numpy here
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def sum_counts(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Sum the numbers of several JSON records key by key (nested mappings summed recursively).

    Integers and floats are added (booleans, strings and identifiers, keys ending in ``id``, are
    left out), so per-child count files
    (e.g. ``{"reach": {"removed_by": {"ice_clim_f": 3}, "kept": 12}}``) give run totals.
    """
    total: dict[str, Any] = {}
    for rec in records:
        for key, value in rec.items():
            if isinstance(value, bool | str) or value is None or key.endswith("id"):
                continue
            if isinstance(value, Mapping):
                total[key] = sum_counts([total.get(key, {}), value])
            elif isinstance(value, int | float):
                total[key] = total.get(key, 0) + value
    return total
