"""Issue 17 (reliability) on the driver: one error line, the run lock, empty runs, engine choice,
records, progress.  The runs use the real selftest module (tests/data/selftest_workflow.toml)."""

from __future__ import annotations

import errno
import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluence_driver import __version__
from confluence_driver.cli import main, os_error_line
from confluence_driver.lock import RunLock
from confluence_driver.progress import StepProgress

ROOT = Path(__file__).resolve().parents[2]
SELFTEST_WORKFLOW = ROOT / "tests" / "data" / "selftest_workflow.toml"
REACHES = ["74269800011", "74269800021", "74269800031", "74269800041"]


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    (run / "input").mkdir(parents=True)
    (run / "input" / "reaches.json").write_text(json.dumps([{"reach_id": int(r)} for r in REACHES]))
    (run / "input" / "once.json").write_text(json.dumps(["done"]))
    return run


def cli(run: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(
        main, ["run", "--workflow", str(SELFTEST_WORKFLOW), "--workdir", str(run), "--engine", "process", *args],
        env=env,
    )
    return result.exit_code, result.output, result.exception


def one_error_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


# -- 1. one error path ---------------------------------------------------------------------------
def test_workdir_under_a_file_is_one_line_and_debug_shows_the_traceback(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    code, text, _ = cli(afile / "sub", "--steps", "after")
    assert code == 1
    line = one_error_line(text)
    assert str(afile) in line and "Not a directory" in line and "a part of that path is a file" in line
    assert afile.read_text() == "not a folder"
    code, text, exc = cli(afile / "sub", "--steps", "after", env={"CONFLUENCE_DEBUG": "1"})
    assert code == 1 and isinstance(exc, NotADirectoryError)


@pytest.mark.parametrize(("err", "hint"), [
    (errno.ENOSPC, "free some space"),
    (errno.EACCES, "check the permissions"),
    (errno.EROFS, "read-only"),
])
def test_os_error_while_writing_the_record_is_one_line(run_dir, monkeypatch, err, hint):
    import confluence_driver.runner as runner_mod

    real = runner_mod.write_json

    def failing(path, data, **kw):
        if Path(path).name == "run.json":
            raise OSError(err, os.strerror(err), str(path))
        return real(path, data, **kw)

    monkeypatch.setattr(runner_mod, "write_json", failing)
    code, text, _ = cli(run_dir, "--steps", "after")
    assert code == 1
    line = one_error_line(text)
    assert str(run_dir / "run.json") in line and os.strerror(err) in line and hint in line


def test_os_error_line_without_a_file():
    assert os_error_line(OSError(errno.ENOSPC, "No space left on device")) == (
        "error: No space left on device: free some space on that disk, or choose a --workdir on another disk")


def test_failed_argument_check_leaves_no_run_folder(tmp_path):
    run = tmp_path / "new-run"
    code, text, _ = cli(run, "--source", str(tmp_path / "missing"))
    assert code == 1 and "--source: not a folder" in one_error_line(text)
    assert not run.exists()


def test_failed_argument_check_keeps_an_existing_folder(run_dir, tmp_path):
    code, _, _ = cli(run_dir, "--source", str(tmp_path / "missing"))
    assert code == 1
    assert (run_dir / "input" / "reaches.json").exists()


# -- 2. the lock -----------------------------------------------------------------------------------
def test_second_run_on_a_locked_folder_names_the_holder(run_dir):
    lock = RunLock(run_dir)
    assert lock.acquire() == ""
    try:
        code, text, _ = cli(run_dir, "--steps", "after")
    finally:
        lock.release()
    assert code == 1
    line = one_error_line(text)
    assert "another run holds this run folder" in line
    assert f"pid {os.getpid()} on {socket.gethostname()}, started 20" in line
    assert not (run_dir / "diagnostics" / "selftest" / "done.json").exists()
    code, text, _ = cli(run_dir, "--steps", "after")  # released: the folder can be run again
    assert code == 0, text


def test_stale_lock_of_a_dead_process_is_taken_over(run_dir):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (run_dir / "run.lock").write_text(json.dumps({"pid": dead.pid, "host": "elsewhere",
                                                  "started": "2026-01-01T00:00:00+00:00"}))
    code, text, _ = cli(run_dir, "--steps", "after")
    assert code == 0, text
    assert f"took over a stale lock of pid {dead.pid} on elsewhere, started 2026-01-01T00:00:00+00:00" in text
    assert (run_dir / "diagnostics" / "selftest" / "done.json").exists()


# -- 3. temporary files swept at the start of every run --------------------------------------------
def test_partial_files_of_a_killed_run_are_swept_in_every_volume(run_dir):
    leftovers = [run_dir / "output" / "selftest" / f".{REACHES[0]}.nc.part",
                 run_dir / "flpe" / ".x.nc.part", run_dir / "input" / ".reaches.json.part",
                 run_dir / "state" / "fan" / ".0.json.abc.part", run_dir / ".run.json.xyz.part"]
    keep = run_dir / "output" / "notes.part"  # not a temporary name: kept
    for p in [*leftovers, keep]:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("half")
    code, text, _ = cli(run_dir, "--steps", "after")  # a step that writes none of those volumes
    assert code == 0, text
    assert not [p for p in leftovers if p.exists()]
    assert keep.exists()
    assert "removed 5 temporary file(s)" in text


# -- 4. no empty success ---------------------------------------------------------------------------
def test_run_with_zero_reaches_is_an_error(run_dir):
    (run_dir / "input" / "reaches.json").write_text("[]")
    code, text, _ = cli(run_dir)
    assert code == 1
    line = one_error_line(text)
    assert "step fan: no reach to run, the list is empty" in line and "reaches.json" in line
    assert not (run_dir / "diagnostics" / "selftest" / "done.json").exists()


def test_reaches_not_in_the_run_is_an_error(run_dir):
    code, text, _ = cli(run_dir, "--reaches", "11111111111")
    assert code == 1
    assert "--reaches selects none of the 4 entries of this run (11111111111 not found)" in one_error_line(text)


# -- 5. --engine auto checks the images -------------------------------------------------------------
class _ImageNotFoundError(Exception):
    pass


class _Images:
    def get(self, tag):
        raise _ImageNotFoundError(tag)


class _Client:
    images = _Images()


def test_auto_engine_needs_the_images_not_only_an_engine(run_dir, monkeypatch):
    import docker
    from confluence_driver.engines import docker_engine

    monkeypatch.setattr(docker.errors, "ImageNotFound", _ImageNotFoundError)
    monkeypatch.setattr(docker_engine, "docker_client", lambda: _Client())
    result = CliRunner().invoke(main, ["run", "--workflow", str(SELFTEST_WORKFLOW), "--workdir", str(run_dir),
                                       "--engine", "auto", "--steps", "after"])
    assert result.exit_code == 0, result.output
    assert (f"engine: process (a Docker engine answers but images not built: confluence/selftest:{__version__}"
            in result.output)


# -- 6. honest records ------------------------------------------------------------------------------
def test_records_hold_each_childs_own_memory_and_cpu_and_every_attempt(run_dir):
    bad = REACHES[1]
    code, _, _ = cli(run_dir, "--jobs", "4", "--steps", "fan", "--env", f"SELFTEST_FAIL_ON={bad}")
    assert code == 1
    first = json.loads((run_dir / "run.json").read_text())
    assert first["status"] == "incomplete"  # --keep-going (the default): the other children finished
    fan = first["steps"]["fan"]
    assert [a["ran"] for a in fan["attempts"]] == [4]
    assert fan["attempts"][0]["wall_s"] > 0.5
    assert sorted(fan["children"]) == ["0", "1", "2", "3"]
    for child in fan["children"].values():
        # the driver (this test process) is far bigger than a selftest child; its RSS is not the child's
        assert 5 < child["peak_mib"] < 120, child
        assert child["cpu_s"] > 0
    assert fan["children"]["1"]["returncode"] != 0
    code, text, _ = cli(run_dir, "--steps", "fan")
    assert code == 0, text
    again = json.loads((run_dir / "run.json").read_text())
    fan2 = again["steps"]["fan"]
    assert [a["ran"] for a in fan2["attempts"]] == [4, 1]
    assert fan2["attempts"][0] == fan["attempts"][0]  # the first attempt's figures are kept
    assert fan2["wall_s"] >= fan["attempts"][0]["wall_s"]
    assert fan2["children"]["1"]["returncode"] == 0 and fan2["children"]["0"] == fan["children"]["0"]
    assert [r["status"] for r in again["runs"]] == ["incomplete", "finished"]
    code, text, _ = cli(run_dir, "--steps", "fan")  # all skipped: one more attempt, figures unchanged
    fan3 = json.loads((run_dir / "run.json").read_text())["steps"]["fan"]
    assert [a["ran"] for a in fan3["attempts"]] == [4, 1, 0]
    assert fan3["wall_s"] == fan2["wall_s"] and fan3["peak_mib"] == fan2["peak_mib"]


# -- 7. progress of a long step ----------------------------------------------------------------------
def test_progress_shows_elapsed_time_and_the_running_children_while_nothing_finishes():
    out = io.StringIO()
    progress = StepProgress("[7/20] neobam", 39, stream=out, every=0.05,
                            running=lambda: [("74269800011", 65.0), ("74269800021", 1201.0)])
    time.sleep(0.3)
    progress.close()
    lines = out.getvalue().splitlines()
    assert len(lines) >= 3  # lines while no child finished, then the summary
    assert "0/39 done, 0 failed" in lines[0]
    assert lines[0].endswith("running: 74269800021 20:01, 74269800011 01:05")


def test_run_that_ends_with_an_empty_reach_list_is_an_error(run_dir):
    (run_dir / "input" / "reaches.json").write_text("[]")
    code, text, _ = cli(run_dir, "--steps", "after")  # a step that does not read the list
    assert code == 1
    assert "the run ends with zero reaches" in one_error_line(text)
    assert json.loads((run_dir / "run.json").read_text())["status"] == "failed"


def test_an_empty_set_list_is_not_an_error(tmp_path, run_dir):
    table = tmp_path / "sets.toml"
    table.write_text(SELFTEST_WORKFLOW.read_text().replace('fanout = "reach"\nlist = "reaches.json"',
                                                           'fanout = "reachset"\nlist = "sets.json"'))
    (run_dir / "input" / "sets.json").write_text("[]")
    result = CliRunner().invoke(main, ["run", "--workflow", str(table), "--workdir", str(run_dir),
                                       "--engine", "process", "--steps", "fan"])
    assert result.exit_code == 0, result.output
    assert "0/0 done" in result.output
