"""bench/public_peers.py: the skip lines without checkouts, and the commands it builds from a checkout."""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]

MOMMA_R = """source("/app/mommadata/input_data.R")
run_momma <- function() {
  input_dir <- file.path("/mnt", "data", "input")
  output_dir <- file.path("/mnt", "data", "output")
}
"""


@pytest.fixture()
def peers(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    monkeypatch.delenv("CONFLUENCE_PUBLIC", raising=False)
    return importlib.import_module("public_peers")


def test_without_checkouts_every_peer_says_it_is_skipped_and_the_run_succeeds(
        peers: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["--public", ""]):  # bench/run.sh passes "${CONFLUENCE_PUBLIC:-}"
        assert peers.main(argv) == 0
        lines = capsys.readouterr().out.splitlines()
        assert [line.split(" (")[0] for line in lines] == [
            f"skipped: no checkout of {name} at PATH/{name}" for name in ("momma", "metroman", "input")]
        assert all("give --public" in line for line in lines)

    (tmp_path / "metroman").mkdir()  # a folder without the entry script is no checkout
    assert peers.main(["--public", str(tmp_path), "--peers", "metroman,input"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"skipped: no checkout of {name} at {tmp_path / name} (give --public; "
        f"https://github.com/SWOT-Confluence/{name})" for name in ("metroman", "input")]


def test_momma_is_skipped_without_rscript(peers: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "momma" / "mommadata").mkdir(parents=True)
    (tmp_path / "momma" / "mommadata" / "momma_data.R").write_text(MOMMA_R)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert peers.main(["--public", str(tmp_path), "--peers", "momma"]) == 0
    assert capsys.readouterr().out.strip() == ("skipped: momma: Rscript is not on PATH (the public momma runs "
                                               "with it)")


def test_the_public_commands_run_a_copy_with_only_the_hard_coded_folders_replaced(
        peers: ModuleType, tmp_path: Path) -> None:
    checkout, mnt, scratch = tmp_path / "public" / "momma", tmp_path / "mnt", tmp_path / "scratch"
    (checkout / "mommadata").mkdir(parents=True)
    (checkout / "mommadata" / "momma_data.R").write_text(MOMMA_R)
    scratch.mkdir()
    momma = next(p for p in peers.PEERS if p.name == "momma")
    script = peers.rewrite_entry(momma, checkout, mnt, scratch)
    assert script.parent == scratch and (checkout / "mommadata" / "momma_data.R").read_text() == MOMMA_R
    assert script.read_text() == MOMMA_R.replace("/app/mommadata", f"{checkout}/mommadata").replace(
        'file.path("/mnt", "data", "input")', f'"{mnt}/input"').replace(
        'file.path("/mnt", "data", "output")', f'"{mnt}/public"')
    command = peers.public_command(momma, "/usr/bin/Rscript", script, checkout, mnt, 3)
    assert command.args == ["/usr/bin/Rscript", str(script), "bench_reaches.json"]
    assert command.env == {"AWS_BATCH_JOB_ARRAY_INDEX": "3"} and command.cwd == checkout

    metroman = next(p for p in peers.PEERS if p.name == "metroman")
    (tmp_path / "public" / "metroman").mkdir()
    entry = tmp_path / "public" / "metroman" / "run_metroman.py"
    entry.write_text('inputdir = Path("/mnt/data/input")\noutputdir = Path("/mnt/data/output/sets")\n')
    script = peers.rewrite_entry(metroman, entry.parent, mnt, scratch)
    assert script.read_text() == f'inputdir = Path("{mnt}/input")\noutputdir = Path("{mnt}/public/sets")\n'
    command = peers.public_command(metroman, sys.executable, script, entry.parent, mnt, 2)
    assert command.args == [sys.executable, str(script), "-i", "2", "-r", "metrosets.json"]
    assert command.env["AWS_BATCH_JOB_ID"] and command.env["PYTHONPATH"].split(":")[0] == str(entry.parent)

    entry.write_text("print('a later revision that reads its folders elsewhere')\n")
    with pytest.raises(peers.NotExpectedError, match="not the expected revision"):
        peers.rewrite_entry(metroman, entry.parent, mnt, scratch)


def test_ours_runs_the_same_entries_in_jobs_of_its_workflow_group(peers: ModuleType, tmp_path: Path) -> None:
    from confluence_core import workflow

    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "bench_reaches.json").write_text(json.dumps([{"reach_id": 74200000001}] * 30))
    momma = next(p for p in peers.PEERS if p.name == "momma")
    group = workflow.load().step("momma").group
    jobs, n_reaches = peers.our_commands(momma, tmp_path, list(range(25)))
    assert n_reaches == 25 and len(jobs) == -(-25 // group)
    assert jobs[0].args[-2:] == ["--list", "bench_reaches.json"] and jobs[0].args[-3] == "momma"
    assert [j.env["CONFLUENCE_ENTRIES"] for j in jobs] == [
        ",".join(map(str, range(k, min(k + group, 25)))) for k in range(0, 25, group)]
    assert all(j.env["CONFLUENCE_STEP"] == "momma" for j in jobs)
