"""A per-step progress display: done/failed/skipped of total and elapsed time, drawn by rich.

On a terminal, rich redraws a bar in place; on a log (not a terminal), a plain
line is written at most every ``every`` seconds while the step runs.  Either
way the step ends with one summary line, ``LABEL [bar] D/T done, F failed[, S
skipped], MM:SS.s``, which logs and tests read.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


class StepProgress:
    """Progress of one step's children (thread-safe: children finish in worker threads).

    Parameters
    ----------
    label : str
        Shown first, e.g. ``[7/20] neobam``.
    total : int
        Number of children of the step.
    stream : file, optional
        Where to draw (default standard error).
    every : float
        Seconds between two plain lines when ``stream`` is not a terminal.
    """

    def __init__(self, label: str, total: int, stream: TextIO | None = None, every: float = 10.0):
        self.label, self.total = label, total
        self.done = self.failed = self.skipped = 0
        self.console = Console(file=stream or sys.stderr, highlight=False, soft_wrap=True)
        self.every = every
        self.start = time.monotonic()
        self._last = 0.0
        self._lock = threading.Lock()
        self._bar: Progress | None = None
        if self.console.is_terminal:
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[counts]}"),
                                 TimeElapsedColumn(), console=self.console, transient=True)
            self._task = self._bar.add_task(label, total=max(total, 1), counts=self._counts())
            self._bar.start()

    def _counts(self) -> str:
        extra = f", {self.skipped} skipped" if self.skipped else ""
        return f"{self.done}/{self.total} done, {self.failed} failed{extra}"

    def line(self) -> str:
        """The plain summary line (also the last line of every step)."""
        width = 24
        finished = self.done + self.failed + self.skipped
        filled = int(width * finished / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        elapsed = time.monotonic() - self.start
        return f"{self.label:<28} [{bar}] {self._counts()}, {int(elapsed // 60):02d}:{elapsed % 60:04.1f}"

    def update(self, done: int = 0, failed: int = 0, skipped: int = 0) -> None:
        with self._lock:
            self.done += done
            self.failed += failed
            self.skipped += skipped
            if self._bar is not None:
                self._bar.update(self._task, completed=self.done + self.failed + self.skipped, counts=self._counts())
                return
            now = time.monotonic()
            if now - self._last >= self.every and self.done + self.failed + self.skipped < self.total:
                self._last = now
                self.console.print(self.line(), markup=False)

    def close(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.stop()
            self.console.print(self.line(), markup=False)
