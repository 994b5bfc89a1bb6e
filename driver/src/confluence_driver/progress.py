"""A per-step progress display: done/failed/skipped of total and elapsed time, drawn by rich.

On a terminal, rich redraws a bar in place; on a log (not a terminal), a plain
line is written at most every ``every`` seconds while the step runs.  Either
way the step ends with one summary line, ``LABEL [bar] D/T done, F failed[, S
skipped], MM:SS.s``, which logs and tests read.

While children run, the display names them with their own elapsed time
(``running: 74269800011 12:03, ...``), and a plain line is written every
``every`` seconds even when no child finishes, so a long step shows it is alive.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
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
    running : callable, optional
        Returns the children running now as ``(key, elapsed seconds)``.
    """

    def __init__(self, label: str, total: int, stream: TextIO | None = None, every: float = 10.0,
                 running: Callable[[], list[tuple[str, float]]] | None = None):
        self.label, self.total = label, total
        self.done = self.failed = self.skipped = 0
        self.console = Console(file=stream or sys.stderr, highlight=False, soft_wrap=True)
        self.every = every
        self.start = time.monotonic()
        self._last = 0.0
        self._lock = threading.Lock()
        self._running = running
        self._bar: Progress | None = None
        self._stop = threading.Event()
        if self.console.is_terminal:
            self._bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[counts]}"),
                                 TimeElapsedColumn(), TextColumn("{task.fields[running]}"),
                                 console=self.console, transient=True)
            self._task = self._bar.add_task(label, total=max(total, 1), counts=self._counts(), running="")
            self._bar.start()
        self._ticker = threading.Thread(target=self._tick, daemon=True)
        self._ticker.start()

    def running_text(self, limit: int = 3) -> str:
        """``running: KEY MM:SS, ... (+N more)``, the longest-running first; '' when none runs."""
        now = sorted(self._running() if self._running else [], key=lambda kv: -kv[1])
        if not now:
            return ""
        shown = ", ".join(f"{key} {int(t // 60):02d}:{int(t % 60):02d}" for key, t in now[:limit])
        more = f" (+{len(now) - limit} more)" if len(now) > limit else ""
        return f"running: {shown}{more}"

    def _tick(self) -> None:
        """Refresh the running children on a terminal; a plain line every ``every`` s on a log."""
        period = 1.0 if self._bar is not None else self.every
        while not self._stop.wait(period):
            with self._lock:
                if self._bar is not None:
                    self._bar.update(self._task, running=self.running_text())
                    continue
                self._last = time.monotonic()
                running = self.running_text()
                self.console.print(self.line() + (f", {running}" if running else ""), markup=False)

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
                running = self.running_text()
                self.console.print(self.line() + (f", {running}" if running else ""), markup=False)

    def close(self) -> None:
        self._stop.set()
        self._ticker.join()
        with self._lock:
            if self._bar is not None:
                self._bar.stop()
            self.console.print(self.line(), markup=False)
