"""The Docker engine: the module's image, the run folder's volumes bind-mounted at /mnt/data."""

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

from .base import Engine, JobResult, JobSpec, failure_reason

#: Where a workflow table other than the packaged one is mounted in a container.
TABLE_IN_CONTAINER = "/etc/confluence/workflow.toml"

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

    def run(self, spec: JobSpec) -> JobResult:
        volumes = {
            str(host.resolve()): {"bind": container_path(vol), "mode": "ro" if ro else "rw"}
            for vol, (host, ro) in spec.mounts.items()
            if host.exists()  # an optional volume (source, previous) that this run does not have
        }
        env = dict(spec.env)
        if env.get(TABLE_ENV):  # a workflow table other than the packaged one: mounted read-only
            volumes[str(Path(env[TABLE_ENV]).resolve())] = {"bind": TABLE_IN_CONTAINER, "mode": "ro"}
            env[TABLE_ENV] = TABLE_IN_CONTAINER
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        with self._lock:
            if self._stopping:
                return JobResult(spec, 130, 0.0, "interrupted before it started")
            container = self.client.containers.run(
                spec.image, list(spec.command), environment=env, volumes=volumes,
                user=f"{os.getuid()}:{os.getgid()}", detach=True, working_dir="/tmp",
                labels={"confluence.step": spec.step, "confluence.index": str(spec.index)},
            )
            self._containers[container.id] = (container, spec)
        try:
            try:
                status = container.wait(timeout=spec.timeout_s)
                code = int(status.get("StatusCode", 1))
                timed_out = False
            except Exception:  # requests' ReadTimeout: the job ran past its timeout
                container.kill()
                code, timed_out = 124, True
            spec.log_path.write_bytes(container.logs(stdout=True, stderr=True))
            if timed_out:
                with spec.log_path.open("a") as log:
                    log.write(f"\nerror: timed out after {spec.timeout_s:.0f} s\n")
        finally:
            with self._lock:
                self._containers.pop(container.id, None)
            container.remove(force=True)
        seconds = time.monotonic() - start
        return JobResult(spec, code, seconds, "" if code == 0 else failure_reason(spec.log_path))
