"""A per-step progress line: done/failed/total and elapsed time."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO


class Progress:
    """Redrawn in place on a terminal; on a log (not a tty), a line at most every ``every`` s."""

    def __init__(self, label: str, total: int, stream: TextIO | None = None, every: float = 10.0):
        self.label, self.total = label, total
        self.done = self.failed = self.skipped = 0
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = every
        self.start = time.monotonic()
        self._last = 0.0
        self._lock = threading.Lock()

    def line(self) -> str:
        width = 24
        finished = self.done + self.failed + self.skipped
        filled = int(width * finished / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        elapsed = time.monotonic() - self.start
        extra = f", {self.skipped} skipped" if self.skipped else ""
        return (
            f"{self.label:<28} [{bar}] {self.done}/{self.total} done, {self.failed} failed{extra}, "
            f"{int(elapsed // 60):02d}:{elapsed % 60:04.1f}"
        )

    def update(self, done: int = 0, failed: int = 0, skipped: int = 0) -> None:
        with self._lock:
            self.done += done
            self.failed += failed
            self.skipped += skipped
            now = time.monotonic()
            if self.tty:
                self.stream.write("\r" + self.line())
                self.stream.flush()
            elif now - self._last >= self.every and self.done + self.failed + self.skipped < self.total:
                self._last = now
                self.stream.write(self.line() + "\n")

    def close(self) -> None:
        with self._lock:
            self.stream.write(("\r" if self.tty else "") + self.line() + "\n")
            self.stream.flush()
