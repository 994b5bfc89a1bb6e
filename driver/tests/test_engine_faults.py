"""Engine faults (issue 17): failure reasons from the child, kept logs, reaping stale children.

The process engine runs real child processes (``python -c ...``); the Docker
engine runs against a fake client that behaves like docker-py's (the real
engine is exercised by tests/test_engines.py when the selftest image is built).
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from confluence_driver.engines import JobSpec
from confluence_driver.engines.base import OutputTail, exit_words, failure_reason, keep_previous_log
from confluence_driver.engines.docker_engine import RUN_DIR_LABEL, RUN_ID_LABEL, DockerEngine
from confluence_driver.engines.process import ProcessEngine

PY = sys.executable


def make_spec(tmp_path: Path, code: str | None = None, *, command: tuple[str, ...] | None = None,
              timeout_s: float = 60.0, run_id: str = "run-now", index: int = 0) -> JobSpec:
    run_dir = tmp_path / "run"
    run_dir.mkdir(exist_ok=True)
    return JobSpec(
        step="fan", index=index, image="confluence/selftest:0", command=command or (PY, "-c", code or ""),
        env={"CONFLUENCE_RUN_ID": run_id}, mounts={}, run_dir=run_dir,
        log_path=run_dir / "logs" / "fan" / f"{index}.log", timeout_s=timeout_s,
    )


# -- 1. the reason says what is known even when the log is empty --------------------------------------
@pytest.mark.parametrize(("code", "returncode", "words"), [
    ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", 137,
     "exit 137: killed by SIGKILL (possibly out of memory) with no output"),
    ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", 139,
     "exit 139: killed by SIGSEGV (segmentation fault) with no output"),
    ("raise SystemExit(3)", 3, "exit 3 with no output"),
    ("raise SystemExit(127)", 127, "exit 127 (command not found) with no output"),
    ("print('step 1 of 2', flush=True); raise SystemExit(2)", 2, "exit 2; last output: step 1 of 2"),
])
def test_reason_says_how_a_silent_child_ended(tmp_path, code, returncode, words):
    result = ProcessEngine().run(make_spec(tmp_path, code))
    assert result.returncode == returncode
    assert result.reason == words


def test_missing_program_and_timeout_are_said(tmp_path):
    result = ProcessEngine().run(make_spec(tmp_path, command=("no-such-program-i17",)))
    assert result.returncode == 127
    assert result.reason.startswith("error: cannot start no-such-program-i17")
    result = ProcessEngine().run(make_spec(tmp_path, "import time; time.sleep(60)", timeout_s=1.0, index=1))
    assert result.returncode == 124
    assert result.reason == "error: timed out after 1 s"
    assert "error: timed out after 1 s" in result.spec.log_path.read_text()


def test_a_stopped_engine_starts_nothing_and_says_so(tmp_path):
    engine = ProcessEngine()
    engine.stop(grace_s=0)
    marker = tmp_path / "started"
    result = engine.run(make_spec(tmp_path, f"open({str(marker)!r}, 'w')"))
    assert (result.returncode, result.reason) == (130, "interrupted before it started")
    assert "error: interrupted before it started" in result.spec.log_path.read_text()
    assert not marker.exists()


def test_exit_words():
    assert exit_words(-9) == "killed by SIGKILL (possibly out of memory)"
    assert exit_words(-15) == "killed by SIGTERM"
    assert exit_words(124) == "exit 124 (timed out)"
    assert exit_words(1) == "exit 1"
    assert exit_words(255) == "exit 255"


# -- the reason survives a log that cannot be written (disk full) -------------------------------------
CHILD_THAT_FAILS = (
    "import sys; print('reading 4 reaches', flush=True); "
    "print('error: cannot write out.nc: No space left on device', file=sys.stderr, flush=True); "
    "print('cleaning up', flush=True); sys.exit(1)"
)


def test_reason_survives_a_full_disk(tmp_path):
    """The log path points at /dev/full: every write to it fails with ENOSPC, as on a full disk."""
    spec = make_spec(tmp_path, CHILD_THAT_FAILS)
    spec.log_path.parent.mkdir(parents=True)
    spec.log_path.symlink_to("/dev/full")
    result = ProcessEngine().run(spec)
    assert result.returncode == 1
    assert result.reason.startswith("error: cannot write out.nc: No space left on device")
    assert "cannot write the log: No space left on device" in result.reason


def test_reason_survives_a_log_write_that_raises_enospc(tmp_path, monkeypatch):
    def full(self: OutputTail, data: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(OutputTail, "_write_file", full)
    result = ProcessEngine().run(make_spec(tmp_path, CHILD_THAT_FAILS))
    assert result.returncode == 1
    assert result.reason.startswith("error: cannot write out.nc")
    assert result.spec.log_path.read_text() == ""  # nothing reached the file; the reason came from memory


def test_reason_survives_a_log_path_that_cannot_be_opened(tmp_path):
    spec = make_spec(tmp_path, CHILD_THAT_FAILS)
    spec.log_path.mkdir(parents=True)  # a folder where the log file should be
    result = ProcessEngine().run(spec)
    assert result.returncode == 1
    assert result.reason.startswith("error: cannot write out.nc")
    assert f"cannot write the log {spec.log_path}" in result.reason


def test_log_is_written_while_the_child_runs(tmp_path):
    """The tee writes through: the log shows what the child printed before it ends."""
    code = "import time; print('halfway', flush=True); time.sleep(30)"
    spec = make_spec(tmp_path, code, timeout_s=20)
    engine = ProcessEngine()
    thread = threading.Thread(target=engine.run, args=(spec,))
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not (spec.log_path.exists() and "halfway" in spec.log_path.read_text()):
            assert time.monotonic() < deadline, "the log did not show the child's output while it ran"
            time.sleep(0.05)
    finally:
        engine.stop(grace_s=1)
        thread.join(timeout=20)


def test_failure_reason_from_a_log_file(tmp_path):
    log = tmp_path / "0.log"
    log.write_text("a\nerror: first\nb\nerror: last one\nc\n")
    assert failure_reason(log) == "error: last one"
    log.write_text("")
    assert failure_reason(log, returncode=-11) == "killed by SIGSEGV (segmentation fault) with no output"
    # a log that is a device is not read (/dev/full and /dev/zero read as endless zeros)
    device = tmp_path / "1.log"
    device.symlink_to("/dev/zero")
    assert failure_reason(device, returncode=1) == "exit 1 with no output"


# -- 2. earlier attempts' logs are kept ---------------------------------------------------------------
def test_keep_previous_log_names_it_by_its_mtime(tmp_path):
    log = tmp_path / "logs" / "fan" / "3.log"
    assert keep_previous_log(log) is None  # nothing there
    log.parent.mkdir(parents=True)
    log.write_text("")
    assert keep_previous_log(log) is None and log.exists()  # an empty log is not an attempt worth keeping
    stamp = 1767323045  # 2026-01-02T03:04:05Z
    for n, expected in enumerate(["3.20260102T030405.log", "3.20260102T030405.1.log", "3.20260102T030405.2.log"]):
        log.write_text(f"attempt {n}\n")
        os.utime(log, (stamp, stamp))
        kept = keep_previous_log(log)
        assert kept == log.parent / "attempts" / expected
        assert kept.read_text() == f"attempt {n}\n"
        assert not log.exists()


def test_process_engine_keeps_the_earlier_attempt(tmp_path):
    engine = ProcessEngine()
    assert engine.run(make_spec(tmp_path, "print('error: first try'); raise SystemExit(1)")).returncode == 1
    assert engine.run(make_spec(tmp_path, "print('second try ok')")).ok
    logs = tmp_path / "run" / "logs" / "fan"
    assert (logs / "0.log").read_text() == "second try ok\n"
    kept = list((logs / "attempts").iterdir())
    assert len(kept) == 1 and kept[0].read_text() == "error: first try\n"


# -- 3. stale children of a killed driver are reaped --------------------------------------------------
def _spawn(run_dir: Path, run_id: str | None) -> subprocess.Popen[bytes]:
    """A 'child' of a run: a process group with a grandchild, its environment pointing at ``run_dir``."""
    env = {**os.environ, "CONFLUENCE_MNT": str(run_dir)}
    env.pop("CONFLUENCE_RUN_ID", None)
    if run_id is not None:
        env["CONFLUENCE_RUN_ID"] = run_id
    code = "import subprocess, sys, time; subprocess.Popen(['sleep', '60']); print('up', flush=True); time.sleep(60)"
    proc = subprocess.Popen([PY, "-c", code], env=env, process_group=0, stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"up\n"
    return proc


def _pids_of(run_dir: Path, run_id: str) -> list[int]:
    want = {f"CONFLUENCE_MNT={run_dir}".encode(), f"CONFLUENCE_RUN_ID={run_id}".encode()}
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                env = set((proc / "environ").read_bytes().split(b"\0"))
            except OSError:
                continue
            if want <= env:
                pids.append(int(proc.name))
    return pids


def test_process_engine_reaps_children_of_another_run(tmp_path):
    run_dir, other_dir = tmp_path / "run", tmp_path / "other"
    stale = _spawn(run_dir, "run-old")
    spared = [_spawn(run_dir, "run-now"), _spawn(other_dir, "run-old"), _spawn(run_dir, None)]
    try:
        assert len(_pids_of(run_dir, "run-old")) == 2  # the child and its grandchild
        lines = ProcessEngine().reap(run_dir, "run-now")
        assert len(lines) == 1 and f"group {stale.pid}" in lines[0] and "run run-old" in lines[0]
        assert stale.wait(timeout=10) == -signal.SIGKILL
        deadline = time.monotonic() + 10
        while _pids_of(run_dir, "run-old") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _pids_of(run_dir, "run-old") == [], "the grandchild of the stale child is still alive"
        assert all(p.poll() is None for p in spared), "a process of this run, another folder or no run was killed"
        assert ProcessEngine().reap(run_dir, "run-now") == []
    finally:
        for p in [stale, *spared]:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


def test_default_engine_reaps_nothing(tmp_path):
    from confluence_driver.engines.base import Engine

    class Null(Engine):
        def check(self, images: dict[str, tuple[str, ...]]) -> None:
            return None

        def run(self, spec: JobSpec) -> Any:
            raise AssertionError

    assert Null().reap(tmp_path, "x") == []


# -- the Docker engine, against a fake client ---------------------------------------------------------
class FakeContainer:
    def __init__(self, chunks: list[bytes], code: int = 0, oom: bool = False, labels: dict[str, str] | None = None,
                 cid: str = "c0ffee000001") -> None:
        self.id = cid
        self.short_id = cid[:10]
        self.chunks = chunks
        self.code = code
        self.labels = labels or {}
        self.attrs: dict[str, Any] = {"State": {"OOMKilled": False}}
        self._oom = oom
        self.removed = False

    def wait(self, timeout: float) -> dict[str, int]:
        return {"StatusCode": self.code}

    def logs(self, stdout: bool = True, stderr: bool = True, stream: bool = False, follow: bool = False) -> Any:
        return iter(self.chunks) if stream else b"".join(self.chunks)

    def reload(self) -> None:
        self.attrs = {"State": {"OOMKilled": self._oom, "ExitCode": self.code}}

    def kill(self) -> None:
        return None

    def remove(self, force: bool = False) -> None:
        self.removed = True


class FakeContainers:
    def __init__(self, to_run: FakeContainer | None = None, existing: list[FakeContainer] | None = None) -> None:
        self.to_run = to_run
        self.existing = existing or []
        self.run_kwargs: dict[str, Any] = {}
        self.list_kwargs: dict[str, Any] = {}

    def run(self, image: str, command: list[str], **kwargs: Any) -> FakeContainer:
        assert self.to_run is not None
        self.run_kwargs = kwargs
        self.to_run.labels = kwargs["labels"]
        return self.to_run

    def list(self, **kwargs: Any) -> list[FakeContainer]:
        self.list_kwargs = kwargs
        return [c for c in self.existing if not c.removed]


class FakeClient:
    def __init__(self, containers: FakeContainers) -> None:
        self.containers = containers


def test_docker_labels_tees_the_stream_and_keeps_the_earlier_log(tmp_path):
    spec = make_spec(tmp_path, run_id="run-42")
    spec.log_path.parent.mkdir(parents=True)
    spec.log_path.write_text("the earlier attempt\n")
    container = FakeContainer([b"reading\n", b"error: no reach ", b"file\n", b"tail without newline"], code=1)
    client = FakeClient(FakeContainers(container))
    result = DockerEngine(client).run(spec)
    labels = client.containers.run_kwargs["labels"]
    assert labels[RUN_DIR_LABEL] == str(spec.run_dir.resolve()) and labels[RUN_ID_LABEL] == "run-42"
    assert result.returncode == 1 and result.reason == "error: no reach file"
    assert spec.log_path.read_text() == "reading\nerror: no reach file\ntail without newline"
    assert [p.read_text() for p in (spec.log_path.parent / "attempts").iterdir()] == ["the earlier attempt\n"]
    assert container.removed


def test_docker_says_oom_and_signal_with_an_empty_log(tmp_path):
    result = DockerEngine(FakeClient(FakeContainers(FakeContainer([], code=137, oom=True)))).run(make_spec(tmp_path))
    assert result.reason.startswith("out of memory (Docker State.OOMKilled, exit 137: killed by SIGKILL")
    assert result.reason.endswith("with no output")
    result = DockerEngine(FakeClient(FakeContainers(FakeContainer([], code=139)))).run(make_spec(tmp_path))
    assert result.reason == "exit 139: killed by SIGSEGV (segmentation fault) with no output"


def test_docker_reason_survives_a_full_disk(tmp_path):
    spec = make_spec(tmp_path)
    spec.log_path.parent.mkdir(parents=True)
    spec.log_path.symlink_to("/dev/full")
    container = FakeContainer([b"step 1\n", b"error: write failed: No space left on device\n", b"bye\n"], code=1)
    result = DockerEngine(FakeClient(FakeContainers(container))).run(spec)
    assert result.reason.startswith("error: write failed: No space left on device")
    assert "cannot write the log: No space left on device" in result.reason


def test_docker_reaps_only_stale_containers_of_this_folder(tmp_path):
    run_dir = (tmp_path / "run").resolve()

    def labelled(cid: str, folder: Path, run_id: str) -> FakeContainer:
        labels = {RUN_DIR_LABEL: str(folder), RUN_ID_LABEL: run_id, "confluence.step": "fan",
                  "confluence.index": cid[-1]}
        return FakeContainer([], labels=labels, cid=cid)

    stale = labelled("stale00000001", run_dir, "run-old")
    spared = [labelled("current000002", run_dir, "run-now"), labelled("elsewhere0003", tmp_path / "x", "run-old")]
    containers = FakeContainers(existing=[stale, *spared])
    lines = DockerEngine(FakeClient(containers)).reap(tmp_path / "run", "run-now")
    assert lines == ["removed container stale00000 (job fan/1) left by run run-old"]
    assert stale.removed and not any(c.removed for c in spared)
    assert containers.list_kwargs == {"all": True, "filters": {"label": RUN_DIR_LABEL}}


# -- the Docker engine for real (needs a running engine and the selftest image) -----------------------
def _docker_skip() -> str:
    """'' when a Docker engine answers and confluence/selftest is built, else why not."""
    from confluence_driver import __version__

    try:
        import docker

        client = docker.from_env(timeout=5)
        client.ping()
        client.images.get(f"confluence/selftest:{__version__}")
    except Exception as exc:
        return f"no Docker engine or no selftest image: {type(exc).__name__}"
    return ""


def _real_spec(tmp_path: Path, code: str, run_id: str, timeout_s: float = 60.0) -> JobSpec:
    from confluence_driver import __version__

    spec = make_spec(tmp_path, run_id=run_id, timeout_s=timeout_s)
    return JobSpec(**{**spec.__dict__, "image": f"confluence/selftest:{__version__}",
                      "command": ("python", "-c", code)})


def _start_in_thread(engine: DockerEngine, spec: JobSpec) -> tuple[threading.Thread, list[Any], Any]:
    """Run ``spec`` in a thread; return it, where its result goes, and its container once it runs."""
    ended: list[Any] = []
    thread = threading.Thread(target=lambda: ended.append(engine.run(spec)), daemon=True)
    thread.start()
    label = f"{RUN_DIR_LABEL}={spec.run_dir.resolve()}"
    deadline = time.monotonic() + 60
    while not (found := engine.client.containers.list(filters={"label": label})):
        assert time.monotonic() < deadline, "the container did not start"
        time.sleep(0.1)
    return thread, ended, found[0]


@pytest.mark.docker
@pytest.mark.skipif(bool(_docker_skip()), reason=_docker_skip() or "ok")
def test_real_docker_reason_of_a_silent_kill_and_reap(tmp_path):
    from confluence_driver.engines.docker_engine import docker_client

    engine = DockerEngine(docker_client())
    silent = "import time; time.sleep(60)"
    # SIGKILL from outside (as the kernel's OOM killer would; a container's PID 1 cannot signal itself)
    thread, ended, container = _start_in_thread(engine, _real_spec(tmp_path, silent, "r1"))
    container.kill()
    thread.join(timeout=30)
    assert ended and ended[0].returncode == 137
    assert ended[0].reason == "exit 137: killed by SIGKILL (possibly out of memory) with no output"

    # a container of an earlier run of this folder (its driver 'killed') is removed by the next run's reap
    stale = _real_spec(tmp_path, silent, "run-old")
    thread, ended, container = _start_in_thread(engine, stale)
    labels = container.labels
    assert labels[RUN_ID_LABEL] == "run-old" and labels[RUN_DIR_LABEL] == str(stale.run_dir.resolve())
    assert DockerEngine(docker_client()).reap(stale.run_dir, "run-old") == []  # same run: spared
    lines = DockerEngine(docker_client()).reap(stale.run_dir, "run-new")
    assert len(lines) == 1 and "left by run run-old" in lines[0]
    label = f"{RUN_DIR_LABEL}={stale.run_dir.resolve()}"
    assert engine.client.containers.list(all=True, filters={"label": label}) == []
    thread.join(timeout=30)
    assert ended and not ended[0].ok


def test_containers_get_the_hosts_numeric_environment(tmp_path, monkeypatch):
    """A container sees the BLAS settings the process engine's children inherit (OPENBLAS_CORETYPE
    picks OpenBLAS's kernel, so without it a container computes different last digits), and the
    job's own variables win over the host's."""
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("UNRELATED_SECRET", "x")
    spec = make_spec(tmp_path)
    spec.env["OMP_NUM_THREADS"] = "2"
    client = FakeClient(FakeContainers(FakeContainer([], code=0)))
    DockerEngine(client).run(spec)
    env = client.containers.run_kwargs["environment"]
    assert env["OPENBLAS_CORETYPE"] == "Haswell"
    assert env["OMP_NUM_THREADS"] == "2"
    assert "UNRELATED_SECRET" not in env
