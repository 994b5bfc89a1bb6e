"""What an engine is given and returns, and how one is chosen."""

from __future__ import annotations

import abc
import collections
import contextlib
import os
import signal
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from confluence_core.errors import ConfluenceError


@dataclass(frozen=True)
class JobSpec:
    """One job to run."""

    step: str
    index: int
    image: str  # full tag, e.g. confluence/input:0.1.0
    command: tuple[str, ...]
    env: dict[str, str]
    mounts: dict[str, tuple[Path, bool]]  # volume -> (host folder, read-only)
    run_dir: Path
    log_path: Path
    timeout_s: float


@dataclass
class JobResult:
    """How a job ended."""

    spec: JobSpec
    returncode: int
    seconds: float
    reason: str = ""  # the child's last error line, else how it ended (failure_reason)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class Engine(abc.ABC):
    """Runs jobs; must be safe to call from several threads at once."""

    name: str = "?"

    @abc.abstractmethod
    def check(self, images: dict[str, tuple[str, ...]]) -> None:
        """Raise ConfluenceError naming what is missing before any job starts.

        ``images`` maps each image tag the run needs to its command.
        """

    @abc.abstractmethod
    def run(self, spec: JobSpec) -> JobResult:
        """Run one job to its end (or timeout) and return how it ended."""

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop every running job (SIGTERM, then SIGKILL after ``grace_s``) and start no more."""
        return None

    def running(self) -> list[JobSpec]:
        """The jobs running now (for the progress display)."""
        return []

    def reap(self, run_dir: Path, run_id: str) -> list[str]:
        """Stop what an earlier, killed driver left running on ``run_dir``; a line per thing stopped.

        Called at the start of a run with that run's ``run_id``: jobs of
        ``run_dir`` that carry another run id are stale (their driver was
        SIGKILLed before it could stop them).  The default has nothing to reap.
        """
        return []


#: Lines of a child's output an engine keeps in memory (the reason survives a log that cannot be written).
TAIL_LINES = 50

#: Exit statuses with a meaning of their own (shell and coreutils ``timeout`` conventions).
_EXIT_WORDS = {
    124: "timed out",
    126: "command not executable",
    127: "command not found",
}

#: What a signal usually means for a child that did not ask for it.
_SIGNAL_HINTS = {
    signal.SIGKILL: "possibly out of memory",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGBUS: "bus error",
    signal.SIGABRT: "aborted",
    signal.SIGFPE: "arithmetic error",
    signal.SIGILL: "illegal instruction",
}


def _signal_words(signum: int) -> str:
    try:
        sig = signal.Signals(signum)
    except ValueError:
        return f"killed by signal {signum}"
    hint = _SIGNAL_HINTS.get(sig)
    return f"killed by {sig.name}" + (f" ({hint})" if hint else "")


def exit_words(returncode: int) -> str:
    """Say in words how a child ended.

    Parameters
    ----------
    returncode : int
        A :class:`subprocess.Popen` return code (negative: killed by that
        signal) or a shell-style exit status (``128 + N``: killed by signal N,
        as a launcher or a container reports it).

    Returns
    -------
    str
        e.g. ``"exit 3"``, ``"exit 127 (command not found)"``,
        ``"killed by SIGKILL (possibly out of memory)"``,
        ``"exit 139: killed by SIGSEGV (segmentation fault)"``.
    """
    if returncode < 0:
        return _signal_words(-returncode)
    if returncode in _EXIT_WORDS:
        return f"exit {returncode} ({_EXIT_WORDS[returncode]})"
    if 128 < returncode < 128 + 65:
        return f"exit {returncode}: {_signal_words(returncode - 128)}"
    return f"exit {returncode}"


class OutputTail:
    """Tee a child's output into its log file and keep its last lines in memory.

    A log file that cannot be opened or written (disk full, unwritable path)
    stops the copy to the file, not the tail: :attr:`log_error` says why the
    log is incomplete, and :func:`failure_reason` still sees what the child
    printed last.  Thread-safe enough for one writer (the reader of the
    child's pipe or stream) and one appender (the engine, after the end).
    """

    def __init__(self, log_path: Path | None, keep: int = TAIL_LINES) -> None:
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)
        self.log_error = ""
        self._partial = b""
        self._lock = threading.Lock()
        self._file: BinaryIO | None = None
        if log_path is not None:
            try:
                log_path.parent.mkdir(parents=True, exist_ok=True)
                self._file = open(log_path, "wb", buffering=0)  # noqa: SIM115 - closed in close()
            except OSError as exc:
                self.log_error = f"cannot write the log {log_path}: {exc.strerror or exc}"

    def _write_file(self, data: bytes) -> None:
        """Write ``data`` to the log file (one place to fail: ENOSPC, EIO, ...)."""
        if self._file is not None:
            self._file.write(data)

    def feed(self, data: bytes) -> None:
        """Take a chunk of the child's output: to the log file, and its lines to the tail."""
        if not data:
            return
        with self._lock:
            if self._file is not None and not self.log_error:
                try:
                    self._write_file(data)
                except OSError as exc:
                    self.log_error = f"cannot write the log: {exc.strerror or exc}"
            *complete, self._partial = (self._partial + data).split(b"\n")
            for raw in complete:
                self._add(raw)
            if len(self._partial) > 4096:  # a very long line without newline: keep its end only
                self._partial = self._partial[-4096:]

    def _add(self, raw: bytes) -> None:
        line = raw.decode(errors="replace").strip()
        if line:
            self.lines.append(line)

    def write_line(self, line: str) -> None:
        """Append a line of the engine's own (``error: timed out ...``) to the log and the tail."""
        self.feed(b"\n" + line.encode() + b"\n")

    def close(self) -> None:
        """Flush what is left of an unterminated last line into the tail and close the log."""
        with self._lock:
            if self._partial:
                self._add(self._partial)
                self._partial = b""
            if self._file is not None:
                with contextlib.suppress(OSError):
                    self._file.close()
                self._file = None


def _last_lines(log_path: Path, most: int = 65536) -> list[str]:
    """The non-empty lines of the last ``most`` bytes of a regular log file (a device is not read)."""
    try:
        with open(log_path, "rb") as log:
            if not stat.S_ISREG(os.fstat(log.fileno()).st_mode):
                return []
            size = os.fstat(log.fileno()).st_size
            log.seek(max(0, size - most))
            text = log.read().decode(errors="replace")
    except OSError:
        return []
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def failure_reason(
    log_path: Path | None,
    limit: int = 300,
    *,
    returncode: int | None = None,
    tail: OutputTail | None = None,
) -> str:
    """Why a job failed, in one line, from what is known.

    The child's own last ``error:`` line when it printed one; else how it
    ended (:func:`exit_words`) with its last line of output, or "with no
    output".  The lines come from ``tail`` (what the engine read from the
    child) when given, else from the log file.  A log the engine could not
    write is said too.

    Parameters
    ----------
    log_path : Path or None
        The job's log file (read only when ``tail`` is None).
    limit : int
        Most characters of the reason.
    returncode : int or None
        The job's exit status, when known.
    tail : OutputTail or None
        The engine's in-memory copy of the child's last lines.
    """
    lines: list[str] = []
    if tail is not None:
        lines = list(tail.lines)
    elif log_path is not None:
        lines = _last_lines(log_path)
    note = f" [{tail.log_error}]" if tail is not None and tail.log_error else ""
    for line in reversed(lines):
        if line.startswith("error:"):
            return (line + note)[:limit]
    words = exit_words(returncode) if returncode is not None else "failed"
    if lines:
        return f"{words}; last output: {lines[-1]}{note}"[:limit]
    return f"{words} with no output{note}"[:limit]


def keep_previous_log(log_path: Path) -> Path | None:
    """Move an earlier attempt's log aside so the new attempt does not overwrite it.

    A non-empty regular file at ``logs/<step>/<index>.log`` becomes
    ``logs/<step>/attempts/<index>.<YYYYmmddTHHMMSS>[.n].log``, the stamp being
    its modification time in UTC (``.n`` from 1 when that name is taken).  The
    latest attempt's log keeps the plain path.

    Returns
    -------
    Path or None
        Where the earlier log went; None when there was none to keep.
    """
    try:
        st = log_path.lstat()
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
        return None
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(st.st_mtime))
    folder = log_path.parent / "attempts"
    folder.mkdir(exist_ok=True)
    dest = folder / f"{log_path.stem}.{stamp}.log"
    n = 0
    while dest.exists():
        n += 1
        dest = folder / f"{log_path.stem}.{stamp}.{n}.log"
    os.rename(log_path, dest)
    return dest


def select_engine(name: str, echo: bool = True, images: dict[str, tuple[str, ...]] | None = None) -> Engine:
    """Return the engine called ``name`` (``docker``, ``process`` or ``auto``).

    ``auto`` chooses Docker only when an engine answers and every image of ``images``
    (tag -> command, the images the run needs) is built; else the process engine,
    saying why.
    """
    from .docker_engine import DockerEngine, docker_client
    from .process import ProcessEngine

    if name == "process":
        return ProcessEngine()
    if name == "docker":
        return DockerEngine(docker_client())
    if name == "auto":
        try:
            engine: Engine = DockerEngine(docker_client())
        except ConfluenceError as exc:
            engine = ProcessEngine()
            why = f"({exc})"
        else:
            why = "(a Docker engine answers and the images are built)"
            if images:
                try:
                    engine.check(images)
                except ConfluenceError as exc:
                    engine = ProcessEngine()
                    why = f"(a Docker engine answers but {exc})"
        if echo:
            import click

            click.echo(f"engine: {engine.name} {why}", err=True)
        return engine
    raise ConfluenceError(f"unknown engine {name!r}: use docker, process or auto")
