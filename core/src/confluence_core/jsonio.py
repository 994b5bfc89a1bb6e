"""JSON files of the workflow (contracts.md section 4): read with clear errors, write atomically."""

from __future__ import annotations

import json
import os
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
