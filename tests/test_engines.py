"""The local engines on a real module (the selftest image / entry point), not mocks.

Each behaviour is checked with the process engine; the Docker engine runs the
same cases when an engine answers and ``confluence/selftest`` is built
(`make build ALL=1`), and must give the same files.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import netCDF4
import pytest
from click.testing import CliRunner
from confluence_driver import __version__
from confluence_driver.cli import main

from .conftest import REACHES, SELFTEST_WORKFLOW, docker_ready

SELFTEST_IMAGE = f"confluence/selftest:{__version__}"


def run_cli(run: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["run", "--workflow", str(SELFTEST_WORKFLOW), "--workdir", str(run), *args]
    )
    return result.exit_code, result.output


ENGINES = [
    "process",
    pytest.param("docker", marks=[
        pytest.mark.docker,
        pytest.mark.skipif(bool(docker_ready(SELFTEST_IMAGE)), reason=docker_ready(SELFTEST_IMAGE) or "ok"),
    ]),
]


def outputs(run: Path) -> dict[str, dict]:
    """The selftest's JSON outputs by reach id, without run-to-run values (pid, engine)."""
    out = {}
    for path in sorted((run / "output" / "selftest").glob("*.json")):
        data = json.loads(path.read_text())
        out[path.stem] = {"entry": data["entry"], "index": data["index"]}
    return out


@pytest.mark.parametrize("engine", ENGINES)
def test_parallel_children_write_every_output(selftest_run, engine, monkeypatch):
    from confluence_driver.engines.docker_engine import DockerEngine
    from confluence_driver.engines.process import ProcessEngine

    # children overlap: counted as jobs running at once in the engine, not measured as time
    running: list[int] = []
    peak = [0]
    guard = threading.Lock()
    cls = DockerEngine if engine == "docker" else ProcessEngine
    real_run = cls.run

    def counting_run(self, spec):
        with guard:
            running.append(spec.index)
            peak[0] = max(peak[0], len(running))
        try:
            return real_run(self, spec)
        finally:
            with guard:
                running.remove(spec.index)

    monkeypatch.setattr(cls, "run", counting_run)
    code, text = run_cli(selftest_run, "--engine", engine, "--jobs", "4")
    assert code == 0, text
    assert sorted(outputs(selftest_run)) == sorted(REACHES)
    assert (selftest_run / "diagnostics" / "selftest" / "done.json").exists()
    assert peak[0] >= 2, "children did not run at the same time"
    assert "4/4 done, 0 failed" in text
    for i in range(4):
        assert (selftest_run / "logs" / "fan" / f"{i}.log").read_text().strip()
    engine_seen = json.loads((selftest_run / "output" / "selftest" / f"{REACHES[0]}.json").read_text())
    assert engine_seen["engine_env"] == engine


@pytest.mark.parametrize("engine", ENGINES)
def test_failed_child_stops_the_run_and_leaves_no_partial_file(selftest_run, engine):
    bad = REACHES[2]
    code, text = run_cli(selftest_run, "--engine", engine, "--jobs", "2", "--env", f"SELFTEST_FAIL_ON={bad}",
                         "--no-keep-going")
    assert code == 1
    assert "step fan failed: 1 of 4 children (indices 2)" in text
    assert f"entry {bad} is the entry to fail on" in text
    assert str(selftest_run / "logs" / "fan" / "2.log") in text
    assert "later steps were not started" in text
    assert not (selftest_run / "diagnostics" / "selftest").exists()
    written = sorted(p.name for p in (selftest_run / "output" / "selftest").iterdir())
    assert f"{bad}.nc" not in written and f"{bad}.json" not in written
    assert not [n for n in written if n.endswith(".part")]
    assert sorted(outputs(selftest_run)) == sorted(set(REACHES) - {bad})


@pytest.mark.parametrize("engine", ENGINES)
def test_resume_skips_finished_children_and_force_redoes_them(selftest_run, engine):
    bad = REACHES[1]
    assert run_cli(selftest_run, "--engine", engine, "--env", f"SELFTEST_FAIL_ON={bad}")[0] == 1
    before = {p.name: p.stat().st_mtime_ns for p in (selftest_run / "output" / "selftest").glob("*.json")}
    code, text = run_cli(selftest_run, "--engine", engine)
    assert code == 0, text
    after = {p.name: p.stat().st_mtime_ns for p in (selftest_run / "output" / "selftest").glob("*.json")}
    assert {k: after[k] for k in before} == before, "finished children were redone"
    assert f"{bad}.json" in after
    assert "1/4 done, 0 failed, 3 skipped" in text
    # an output deleted by hand makes its child incomplete again
    (selftest_run / "output" / "selftest" / f"{REACHES[3]}.nc").unlink()
    code, text = run_cli(selftest_run, "--engine", engine, "--steps", "fan")
    assert code == 0 and "1/4 done, 0 failed, 3 skipped" in text
    code, text = run_cli(selftest_run, "--engine", engine, "--steps", "fan", "--force")
    assert code == 0 and "4/4 done, 0 failed" in text
    forced = {p.name: p.stat().st_mtime_ns for p in (selftest_run / "output" / "selftest").glob("*.json")}
    assert all(forced[k] != after[k] for k in after)


def test_reaches_option_limits_children(selftest_run):
    code, text = run_cli(selftest_run, "--engine", "process", "--steps", "fan", "--reaches", REACHES[0])
    assert code == 0, text
    assert sorted(outputs(selftest_run)) == [REACHES[0]]


def test_missing_docker_is_one_line_naming_what_to_install(selftest_run, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    code, text = run_cli(selftest_run, "--engine", "docker")
    assert code == 1
    lines = text.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no Docker engine answers")
    assert "apt-get install docker.io" in lines[0] and "--engine process" in lines[0]


def test_auto_engine_says_which(selftest_run, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    code, text = run_cli(selftest_run, "--engine", "auto", "--steps", "after")
    assert code == 0, text
    assert "engine: process (no Docker engine answers" in text


@pytest.mark.docker
@pytest.mark.skipif(bool(docker_ready(SELFTEST_IMAGE)), reason=docker_ready(SELFTEST_IMAGE) or "ok")
def test_docker_and_process_engines_write_the_same_files(tmp_path, selftest_run):
    import shutil

    other = tmp_path / "other"
    shutil.copytree(selftest_run, other)
    assert run_cli(selftest_run, "--engine", "process", "--jobs", "2")[0] == 0
    assert run_cli(other, "--engine", "docker", "--jobs", "2")[0] == 0
    assert outputs(selftest_run) == outputs(other)
    for reach in REACHES:
        with netCDF4.Dataset(selftest_run / "output" / "selftest" / f"{reach}.nc") as a, \
                netCDF4.Dataset(other / "output" / "selftest" / f"{reach}.nc") as b:
            assert a.variables.keys() == b.variables.keys()
            assert int(a["index"][...]) == int(b["index"][...])


# -- signals: no orphans, the run recorded as interrupted (issue 17) ---------------------------------
def _slow_workflow(tmp_path: Path, sleep_s: float) -> Path:
    table = tmp_path / "slow_workflow.toml"
    table.write_text(SELFTEST_WORKFLOW.read_text().replace('"--sleep", "0.8"', f'"--sleep", "{sleep_s}"'))
    return table


def _children_of(run: Path) -> list[int]:
    """Processes (other than the driver) whose environment points at this run folder."""
    pids = []
    needle = f"CONFLUENCE_MNT={run}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            env = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if needle in env:
            pids.append(int(proc.name))
    return pids


def _start_driver(tmp_path: Path, run: Path) -> subprocess.Popen[bytes]:
    confluence = Path(sys.executable).parent / "confluence"
    proc = subprocess.Popen(
        [str(confluence), "run", "--workflow", str(_slow_workflow(tmp_path, 60)), "--workdir", str(run),
         "--engine", "process", "--jobs", "4", "--steps", "fan"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while len([p for p in _children_of(run) if p != proc.pid]) < 8:  # 4 launchers + 4 selftests
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        assert time.monotonic() < deadline, "children did not start"
        time.sleep(0.1)
    return proc


def _wait_gone(run: Path, seconds: float = 20) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := _children_of(run)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_children_and_records_the_run_as_interrupted(tmp_path, selftest_run, sig):
    proc = _start_driver(tmp_path, selftest_run)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=30)
    text = out.decode()
    assert proc.returncode == 128 + sig, text
    assert f"interrupted by {sig.name}" in text and "Traceback" not in text
    assert _wait_gone(selftest_run) == [], "children outlived the driver"
    record = json.loads((selftest_run / "run.json").read_text())
    assert record["status"] == "interrupted" and record["runs"][-1]["signal"] == sig.name
    assert not list((selftest_run / "state").rglob("*.json")), "a stopped child was marked done"
    assert not [p for p in selftest_run.rglob(".*.part")]
    assert not (selftest_run / "run.lock").read_text(), "the lock was not released"


@pytest.mark.slow
def test_sigkill_of_the_driver_leaves_no_orphan(tmp_path, selftest_run):
    proc = _start_driver(tmp_path, selftest_run)
    proc.kill()
    proc.wait(timeout=10)
    assert _wait_gone(selftest_run) == [], "children outlived a SIGKILLed driver"
    # the next run takes the folder over and finishes
    code, text = run_cli(selftest_run, "--engine", "process", "--jobs", "4", "--steps", "fan")
    assert code == 0, text
    assert "took over a stale lock" in text
    assert sorted(outputs(selftest_run)) == sorted(REACHES)


# -- a SIGKILLed driver in the middle of a step: the rerun gives what an uninterrupted run gives -----
def _results(run: Path) -> dict[str, object]:
    """Every file the workflow wrote (output and diagnostics volumes), comparable across runs.

    NetCDF files by their global attributes and variables (name, dtype, values); the selftest's JSON
    without its ``pid`` (a run-to-run value); any other file by its bytes.
    """
    found: dict[str, object] = {}
    for volume in ("output", "diagnostics"):
        for path in sorted((run / volume).rglob("*")):
            if not path.is_file():
                continue
            key = str(path.relative_to(run))
            if path.suffix == ".nc":
                with netCDF4.Dataset(path) as ds:
                    found[key] = {
                        "attrs": {a: str(ds.getncattr(a)) for a in ds.ncattrs()},
                        "vars": {n: (str(v.dtype), v[...].tolist()) for n, v in ds.variables.items()},
                    }
            elif path.suffix == ".json" and "pid" in (data := json.loads(path.read_text())):
                found[key] = {k: v for k, v in data.items() if k != "pid"}
            else:
                found[key] = path.read_bytes()
    return found


@pytest.mark.slow
def test_sigkill_mid_step_then_rerun_matches_an_uninterrupted_run(tmp_path, selftest_run):
    import shutil

    reference = tmp_path / "reference"
    shutil.copytree(selftest_run, reference)
    table = _slow_workflow(tmp_path, 1.5)
    args = ["run", "--workflow", str(table), "--engine", "process", "--jobs", "2"]
    done = CliRunner().invoke(main, [*args, "--workdir", str(reference)])
    assert done.exit_code == 0, done.output

    confluence = Path(sys.executable).parent / "confluence"
    proc = subprocess.Popen([str(confluence), *args, "--workdir", str(selftest_run)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # wait until the first children of the step are done and a later one is running and has logged: mid-step
    deadline = time.monotonic() + 60
    markers, logs = selftest_run / "state" / "fan", selftest_run / "logs" / "fan"

    def running_and_logged() -> list[Path]:
        logged = [p for p in logs.glob("*.log") if p.stat().st_size > 0]
        done = {p.stem for p in markers.glob("*.json")}  # read after the logs: a child done meanwhile is out
        return [p for p in logged if p.stem not in done]

    while not (markers.is_dir() and list(markers.glob("*.json")) and running_and_logged()
               and _children_of(selftest_run)):
        assert proc.poll() is None, "the driver ended before it could be killed mid-step"
        assert time.monotonic() < deadline, "the step did not get half way"
        time.sleep(0.05)
    first_run = set(_children_of(selftest_run))
    finished_before = len(list(markers.glob("*.json")))
    assert first_run and finished_before < len(REACHES)
    proc.kill()
    proc.wait(timeout=10)

    rerun = CliRunner().invoke(main, [*args, "--workdir", str(selftest_run)])
    assert rerun.exit_code == 0, rerun.output
    assert "took over a stale lock" in rerun.output
    expected = _results(reference)
    assert len(expected) == 2 * len(REACHES) + 2  # .json and .nc per reach, and the after step's two
    assert _results(selftest_run) == expected
    assert sorted(outputs(selftest_run)) == sorted(REACHES)
    left = [pid for pid in first_run if Path(f"/proc/{pid}").exists() and pid in _children_of(selftest_run)]
    assert left == [], "processes of the killed run outlived the rerun"
    assert _wait_gone(selftest_run) == []
    assert not list(selftest_run.rglob("*.part")), "a temporary file was left (volumes, state/ or logs/)"
    # the interrupted children's logs were kept beside the rerun's
    kept = list((selftest_run / "logs" / "fan" / "attempts").glob("*.log"))
    assert kept and all(p.read_text().strip() for p in kept)
