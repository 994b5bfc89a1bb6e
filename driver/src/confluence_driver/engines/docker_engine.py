"""The Docker engine: the module's image, the run folder's volumes bind-mounted at /mnt/data.

A container's log stream is copied into the job's log file while it runs, the
last lines kept in memory, so a failure reason survives a log that cannot be
written; an exit code and ``State.OOMKilled`` are said in words.  Containers
are labelled with their run folder and run id, so that :meth:`DockerEngine.reap`
can remove those an earlier, SIGKILLed driver left.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path
from typing import Any

from confluence_core.errors import ConfluenceError
from confluence_core.volumes import container_path
from confluence_core.workflow import TABLE_ENV

from .base import Engine, JobResult, JobSpec, OutputTail, exit_words, failure_reason, keep_previous_log

#: Host variables that change floating-point results (the BLAS kernel and its threads), passed into
#: every container: a child of the process engine inherits them, so without them the same step gives
#: different last digits in a container (OPENBLAS_CORETYPE picks OpenBLAS's kernel), and a sampler
#: such as neoBAM's NUTS turns those digits into different draws.
NUMERIC_ENV_PREFIXES = ("OPENBLAS_", "OMP_", "MKL_", "GOTO", "BLIS_", "NPY_")


def numeric_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The variables of ``environ`` (default: this process's) named by :data:`NUMERIC_ENV_PREFIXES`."""
    source = os.environ if environ is None else environ
    return {k: v for k, v in source.items() if k.startswith(NUMERIC_ENV_PREFIXES)}


#: Where a workflow table other than the packaged one is mounted in a container.
TABLE_IN_CONTAINER = "/etc/confluence/workflow.toml"

#: Labels on every container: which run folder and which run (``CONFLUENCE_RUN_ID``) started it.
RUN_DIR_LABEL = "confluence.run_dir"
RUN_ID_LABEL = "confluence.run_id"
RUN_ID_ENV = "CONFLUENCE_RUN_ID"
#: Seconds to wait for the end of a container's log stream once it has ended.
READER_GRACE_S = 5.0

INSTALL_HINT = (
    "install Docker (e.g. `apt-get install docker.io`) and start `dockerd`, "
    "or run with --engine process"
)


def docker_client() -> Any:
    """A client of a Docker engine that answers, or one ConfluenceError saying what to install."""
    try:
        import docker
    except ImportError:
        raise ConfluenceError(f"the Python package 'docker' is missing: pip install docker; {INSTALL_HINT}") from None
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:
        first = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise ConfluenceError(f"no Docker engine answers ({first}): {INSTALL_HINT}") from None
    return client


class DockerEngine(Engine):
    """Runs each job as a container of ``confluence/<image>:<version>``."""

    name = "docker"

    def __init__(self, client: Any) -> None:
        self.client = client
        self._containers: dict[str, tuple[Any, JobSpec]] = {}
        self._lock = threading.Lock()
        self._stopping = False

    def running(self) -> list[JobSpec]:
        with self._lock:
            return [spec for _, spec in self._containers.values()]

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop every running container (SIGTERM, SIGKILL after ``grace_s``) and start no more."""
        with self._lock:
            self._stopping = True
            containers = [c for c, _ in self._containers.values()]
        for container in containers:
            with contextlib.suppress(Exception):  # already gone
                container.stop(timeout=max(1, int(grace_s)))

    def check(self, images: dict[str, tuple[str, ...]]) -> None:
        import docker

        missing = []
        for tag in sorted(images):
            try:
                self.client.images.get(tag)
            except docker.errors.ImageNotFound:
                missing.append(tag)
        if missing:
            raise ConfluenceError(f"images not built: {', '.join(missing)} (run `make build`)")

    def reap(self, run_dir: Path, run_id: str) -> list[str]:
        """Force-remove the containers an earlier driver of ``run_dir`` left (another run id).

        Every container this engine starts carries the labels
        ``confluence.run_dir`` and ``confluence.run_id``; one of this run
        folder whose run id is not ``run_id`` is stale.
        """
        folder = str(run_dir.resolve())
        try:
            containers = self.client.containers.list(all=True, filters={"label": RUN_DIR_LABEL})
        except Exception:  # the engine does not answer: nothing can be reaped through it
            return []
        lines = []
        for container in containers:
            labels = dict(getattr(container, "labels", None) or {})
            other = labels.get(RUN_ID_LABEL, "")
            if labels.get(RUN_DIR_LABEL) != folder or other == run_id:
                continue
            try:
                container.remove(force=True)
            except Exception:  # already gone
                continue
            job = f"{labels.get('confluence.step', '?')}/{labels.get('confluence.index', '?')}"
            lines.append(f"removed container {getattr(container, 'short_id', container.id)} "
                         f"(job {job}) left by run {other or '?'}")
        return lines

    def run(self, spec: JobSpec) -> JobResult:
        volumes = {
            str(host.resolve()): {"bind": container_path(vol), "mode": "ro" if ro else "rw"}
            for vol, (host, ro) in spec.mounts.items()
            if host.exists()  # an optional volume (source, previous) that this run does not have
        }
        env = {**numeric_env(), **spec.env}
        if env.get(TABLE_ENV):  # a workflow table other than the packaged one: mounted read-only
            volumes[str(Path(env[TABLE_ENV]).resolve())] = {"bind": TABLE_IN_CONTAINER, "mode": "ro"}
            env[TABLE_ENV] = TABLE_IN_CONTAINER
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        keep_previous_log(spec.log_path)
        labels = {
            "confluence.step": spec.step, "confluence.index": str(spec.index),
            RUN_DIR_LABEL: str(spec.run_dir.resolve()), RUN_ID_LABEL: spec.env.get(RUN_ID_ENV, ""),
        }
        start = time.monotonic()
        with self._lock:
            if self._stopping:
                return JobResult(spec, 130, 0.0, "interrupted before it started")
            container = self.client.containers.run(
                spec.image, list(spec.command), environment=env, volumes=volumes,
                user=f"{os.getuid()}:{os.getgid()}", detach=True, working_dir="/tmp", labels=labels,
            )
            self._containers[container.id] = (container, spec)
        tail = OutputTail(spec.log_path)
        follower = _LogFollower(container, tail)
        oom = False
        try:
            try:
                status = container.wait(timeout=spec.timeout_s)
                code = int(status.get("StatusCode", 1))
                timed_out = False
            except Exception:  # requests' ReadTimeout: the job ran past its timeout
                with contextlib.suppress(Exception):  # it may have ended meanwhile
                    container.kill()
                code, timed_out = 124, True
            follower.finish()
            if timed_out:
                tail.write_line(f"error: timed out after {spec.timeout_s:.0f} s")
            oom = _oom_killed(container)
        finally:
            tail.close()
            with self._lock:
                self._containers.pop(container.id, None)
            with contextlib.suppress(Exception):
                container.remove(force=True)
        seconds = time.monotonic() - start
        if code == 0:
            return JobResult(spec, code, seconds, "")
        reason = failure_reason(spec.log_path, returncode=code, tail=tail)
        if oom:
            reason = f"out of memory (Docker State.OOMKilled, {exit_words(code)}); {reason}"[:300]
        return JobResult(spec, code, seconds, reason)


class _LogFollower:
    """Copy a container's own log stream into ``tail`` while it runs (a thread)."""

    def __init__(self, container: Any, tail: OutputTail) -> None:
        self.container = container
        self.tail = tail
        self.got_any = False
        self.failed = False
        self._thread = threading.Thread(target=self._follow, daemon=True, name="docker-log")
        self._thread.start()

    def _follow(self) -> None:
        try:
            for chunk in self.container.logs(stdout=True, stderr=True, stream=True, follow=True):
                self.got_any = True
                self.tail.feed(chunk)
        except Exception:  # the stream broke: finish() fetches the log once instead
            self.failed = True

    def finish(self) -> None:
        """Wait for the end of the stream (the container has ended); fetch the log if it broke early."""
        self._thread.join(timeout=READER_GRACE_S)
        if self._thread.is_alive() or (self.failed and not self.got_any):
            with contextlib.suppress(Exception):
                if not self.got_any:
                    self.tail.feed(self.container.logs(stdout=True, stderr=True))


def _oom_killed(container: Any) -> bool:
    """True when Docker says the kernel killed the container for memory (``State.OOMKilled``)."""
    try:
        container.reload()
        return bool(container.attrs.get("State", {}).get("OOMKilled"))
    except Exception:  # gone already: unknown, so not claimed
        return False
