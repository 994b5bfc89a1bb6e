"""Issue 17 on the real workflow (process engine): resume that verifies, provenance after --force,
counted skips of real Hydrocron CSVs corrupted in a temp folder, --strict.

Slow: each builds a run of the real modules (the demo world's smallest basin, or the Kobuk CSVs).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import netCDF4
import pytest
from click.testing import CliRunner
from confluence_driver.cli import main

pytestmark = pytest.mark.slow

#: The demo world's smallest basin (6 river reaches).
BASIN = "8132"


def confluence(workdir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["run", "--local", "--engine", "process", "--workdir", str(workdir),
                                       "--jobs", "2", *args])
    assert "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def steps(text: str) -> dict[str, str]:
    """The last progress line of each step: ``name -> line``."""
    out = {}
    for line in text.splitlines():
        if line.startswith("[") and "] " in line:
            parts = line.split("] ", 1)[1].split()
            if parts:
                out[parts[0].rstrip(":")] = line
    return out


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    from confluence_demo import generate

    root = tmp_path_factory.mktemp("reliability")
    generate(root / "demo")
    manifest = json.loads((root / "demo" / "manifest.json").read_text())
    reaches = manifest["continents"]["na"][BASIN]
    code, text = confluence(root / "run", "--source", str(root / "demo"), "--reaches", ",".join(reaches),
                            "--until", "prediagnostics")
    assert code == 0, text
    return root / "run", reaches


@pytest.fixture()
def run_copy(demo_run: tuple[Path, list[str]], tmp_path: Path) -> tuple[Path, list[str]]:
    run, reaches = demo_run
    copy = tmp_path / "run"
    shutil.copytree(run, copy, symlinks=True)
    (copy / "run.lock").unlink(missing_ok=True)
    return copy, reaches


def test_truncated_swot_file_after_a_finished_step_is_redone(run_copy):
    run, reaches = run_copy
    sel = ("--reaches", ",".join(reaches), "--until", "prediagnostics")
    target = run / "input" / "swot" / f"{reaches[0]}_SWOT.nc"
    target.write_bytes(target.read_bytes()[:2000])
    dry = CliRunner().invoke(main, ["run", "--workdir", str(run), "--dry-run", *sel]).output
    assert "output changed since it was written" in dry
    code, text = confluence(run, *sel)
    assert code == 0, text
    assert "1/1 done" in steps(text)["input"]
    with netCDF4.Dataset(target) as ds:  # whole again, and filtered again by prediagnostics
        assert "original" in ds.groups
    code, text = confluence(run, *sel)
    assert code == 0 and all(" 0/" in line for line in steps(text).values() if "done" in line), text


def test_input_redone_for_one_reach_redoes_prediagnostics_for_that_reach_only(run_copy):
    run, reaches = run_copy
    one = reaches[2]
    code, text = confluence(run, "--force", "--from", "input", "--until", "input", "--reaches", one)
    assert code == 0, text
    with netCDF4.Dataset(run / "input" / "swot" / f"{one}_SWOT.nc") as ds:
        assert "original" not in ds.groups  # input wrote it afresh: prediagnostics' filtering is gone
    dry = CliRunner().invoke(main, ["run", "--workdir", str(run), "--dry-run", "--until", "prediagnostics",
                                    "--reaches", ",".join(reaches)]).output
    line = next(ln for ln in dry.splitlines() if " prediagnostics " in ln)
    assert "to run: 1 " in line and "output changed since it was written" in line
    before = {p.name: p.stat().st_mtime_ns for p in (run / "diagnostics" / "prediagnostics").glob("*.nc")}
    code, text = confluence(run, "--reaches", ",".join(reaches), "--until", "prediagnostics")
    assert code == 0, text
    assert "1/6 done, 0 failed, 5 skipped" in steps(text)["prediagnostics"]
    after = {p.name: p.stat().st_mtime_ns for p in (run / "diagnostics" / "prediagnostics").glob("*.nc")}
    assert [n for n in after if after[n] != before.get(n)] == [f"{one}_prediagnostics.nc"]
    with netCDF4.Dataset(run / "input" / "swot" / f"{one}_SWOT.nc") as ds:
        assert "original" in ds.groups


# -- counted skips of real Hydrocron answers (the Kobuk River) -------------------------------------------
def _corrupt_kobuk(src: Path, dest: Path) -> dict[str, str]:
    dest.mkdir()
    files = sorted(src.glob("*.csv"))
    lines = files[0].read_text().splitlines(keepends=True)
    for at in (5, 40, 90):  # three garbage rows out of ~195
        lines[at] = "garbage,row\n"
    (dest / files[0].name).write_text("".join(lines))
    (dest / files[1].name).write_text("not,the,header\n1,2,3\n")  # a wrong header
    shutil.copy(files[2], dest / f"{files[2].stem} copy.csv")  # a space in the name
    for f in files[3:]:
        shutil.copy(f, dest / f.name)
    return {"garbage": files[0].stem, "header": files[1].stem, "space": files[2].stem}


def test_kobuk_csv_defects_drop_rows_not_reaches_and_are_counted(tmp_path, shared_data):
    names = _corrupt_kobuk(shared_data / "real_swot_kobuk" / "reaches", tmp_path / "csv")
    code, text = confluence(tmp_path / "run", "--source", str(tmp_path / "csv"), "--until", "input")
    assert code == 0, text
    assert "left out" in text and "skipped.csv" in text
    rows = list(csv.DictReader((tmp_path / "run" / "skipped.csv").open()))
    kinds = {(r["kind"], r["step"]) for r in rows}
    assert ("row", "datagen") in kinds and ("file", "datagen") in kinds
    assert sum(int(r["count"]) for r in rows if r["kind"] == "row") == 3
    assert any(names["header"] in r["item"] for r in rows if r["kind"] == "file")
    swot = {p.name.split("_")[0] for p in (tmp_path / "run" / "input" / "swot").glob("*_SWOT.nc")}
    assert len(swot) == 4 and names["garbage"] in swot and names["space"] in swot and names["header"] not in swot
    record = json.loads((tmp_path / "run" / "run.json").read_text())
    assert record["steps"]["datagen"]["left_out"].get("row") == 3
    # --strict: the same data fails its step, one line, exit 1
    code, text = confluence(tmp_path / "strict", "--source", str(tmp_path / "csv"), "--until", "input",
                            "--strict")
    assert code == 1
    errors = [ln for ln in text.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "--strict: step datagen left data out" in errors[0]
