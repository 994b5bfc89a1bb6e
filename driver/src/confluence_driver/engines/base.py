"""What an engine is given and returns, and how one is chosen."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path

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
    reason: str = ""  # last error line of the log when it failed
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


def failure_reason(log_path: Path, limit: int = 300) -> str:
    """The job's own last ``error:`` line, else its last non-empty log line."""
    try:
        lines = [ln.strip() for ln in log_path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no log"
    for line in reversed(lines):
        if line.startswith("error:"):
            return line[:limit]
    return lines[-1][:limit] if lines else "no output"


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
