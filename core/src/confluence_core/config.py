"""Config files: one reader for TOML and YAML (by suffix), with one-line errors."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from .errors import ConfluenceError


def read_table(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a TOML file, or a YAML one (``.yaml``/``.yml``, needs PyYAML), as a dict.

    Raises
    ------
    ConfluenceError
        When the file is missing, unreadable, not valid TOML/YAML, or not a table.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfluenceError("config file not found", path) from None
    except OSError as exc:
        raise ConfluenceError(f"cannot read the config file ({exc.strerror})", path) from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ConfluenceError("reading YAML needs PyYAML (pip install pyyaml); or use TOML", path) from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfluenceError(f"not valid YAML ({str(exc).splitlines()[0]})", path) from None
        data = {} if data is None else data
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfluenceError(f"not valid TOML ({exc})", path) from None
    if not isinstance(data, dict):
        raise ConfluenceError("is not a table of key = value pairs", path)
    return data
