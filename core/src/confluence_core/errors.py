"""Errors that reach the user as one clear line."""

from __future__ import annotations

from pathlib import Path


class ConfluenceError(Exception):
    """A problem the user can act on: bad input, a missing file, a bad setting.

    The message names the file (when there is one) and the reason.  Entry
    points print it as one line and exit with status 1; a traceback goes to
    the debug log only.
    """

    def __init__(self, reason: str, path: str | Path | None = None) -> None:
        self.reason = reason
        self.path = None if path is None else str(path)
        super().__init__(f"{self.path}: {reason}" if self.path else reason)


class InputError(ConfluenceError):
    """An input file is missing, unreadable or breaks its contract."""


class NotEnoughDataError(ConfluenceError):
    """A reach has too few usable observations for a method."""
