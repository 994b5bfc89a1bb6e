"""Settings dataclasses overridden by environment variables (one reader for every module).

A module's settings are a frozen dataclass of int, float and bool fields with documented
defaults; run-wide overrides reach a container as ``{PREFIX}{FIELD}`` environment variables
(e.g. ``CONFLUENCE_METROMAN_N_ITER=20000``), since the FLPE CLI builds each plug-in with no
arguments.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import fields, is_dataclass, replace
from typing import Any, TypeVar

from .errors import ConfluenceError

T = TypeVar("T")

_TRUE, _FALSE = ("1", "true"), ("0", "false")


def from_env(cls: type[T], prefix: str, environ: Mapping[str, str] | None = None) -> T:
    """``cls()`` with each field overridden by ``{prefix}{FIELD_NAME}`` when that variable is set.

    Parameters
    ----------
    cls : type
        A dataclass whose fields all have defaults (int, float, bool or str).
    prefix : str
        Variable prefix, e.g. ``"CONFLUENCE_METROMAN_"``.
    environ : mapping, optional
        Variables to read (default ``os.environ``).

    Raises
    ------
    ConfluenceError
        A value that is not a number (int/float fields) or not 0/1/true/false (bool fields), or
        one the dataclass's ``__post_init__`` refuses (its message, with the prefix).
    """
    if not is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    env = os.environ if environ is None else environ
    updates: dict[str, Any] = {}
    for f in fields(cls):
        key = prefix + f.name.upper()
        raw = env.get(key)
        if raw is None or not raw.strip():
            continue
        value = raw.strip()
        if f.type in (bool, "bool"):
            if value.lower() not in _TRUE + _FALSE:
                raise ConfluenceError(f"{key}={raw!r} is not 0 or 1")
            updates[f.name] = value.lower() in _TRUE
        elif f.type in (int, "int", float, "float"):
            try:
                updates[f.name] = int(value) if f.type in (int, "int") else float(value)
            except ValueError:
                raise ConfluenceError(f"{key}={raw!r} is not a number") from None
        else:
            updates[f.name] = value
    try:
        return replace(cls(), **updates)
    except ValueError as exc:
        raise ConfluenceError(f"{prefix}* settings: {exc}") from None
