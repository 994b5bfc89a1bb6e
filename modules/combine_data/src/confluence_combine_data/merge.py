"""Merging per-continent JSON documents (pure functions, no files)."""

from __future__ import annotations

from typing import Any


def merge(parts: list[Any]) -> Any:
    """Merge per-continent documents: lists concatenated in order, dicts merged (later keys win).

    Parameters
    ----------
    parts : list
        The documents, all lists or all dicts, in continent order.

    Raises
    ------
    TypeError
        When the documents are not all lists or all dicts.
    """
    if all(isinstance(p, list) for p in parts):
        return [item for p in parts for item in p]
    if all(isinstance(p, dict) for p in parts):
        out: dict[str, Any] = {}
        for p in parts:
            out.update(p)
        return out
    raise TypeError("per-continent files mix lists and dicts")


def split(items: list[Any], size: int) -> list[list[Any]]:
    """Split ``items`` into consecutive chunks of at most ``size`` entries."""
    if size < 1:
        raise ValueError(f"chunk size must be 1 or more, not {size}")
    return [items[i : i + size] for i in range(0, len(items), size)]
