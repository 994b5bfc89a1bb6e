"""No silent loss in datagen: each bad input is a counted skip, the rest of the data goes on (issue 17).

Every case runs ``confluence-datagen`` on real files (the Kobuk Hydrocron answers,
the simulated RiverSP granules) copied into the run's source volume and corrupted
there, and checks what the user sees (``skip:`` lines, parsed with
:func:`confluence_core.skips.parse`; one ``error:`` line when nothing is left; never a
traceback), the exit status, that the other rows / files / granules / passes made it
into the lists, and that no ``.part`` file or half-written output is left.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluence_core import skips
from confluence_core.hydrocron import read_reach
from confluence_datagen import io, sources
from confluence_datagen.cli import main

NA = "3"  # index of na in the built-in continent table
KOBUK = [81320300011, 81320300021, 81320300031, 81320300041, 81320300051]
BAD = 81320300021


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--index", NA, *args])
    return result.exit_code, result.output


def found(out: str) -> list[skips.Skip]:
    return skips.parse(out.splitlines())


def lists_whole(mnt: Path) -> dict[str, object]:
    """Every list datagen wrote, parsed (a half-written one fails here); no ``.part`` file anywhere."""
    assert not [p for p in mnt.rglob("*") if ".part" in p.name]
    return {p.stem: json.loads(p.read_text()) for p in (mnt / "input").glob("*_na.json")}


def reaches(mnt: Path) -> list[int]:
    return [e["reach_id"] for e in json.loads((mnt / "input" / "reaches_na.json").read_text())]


@pytest.fixture()
def csvs(mnt: Path, shared_data: Path) -> Path:
    """The five Kobuk answers in the source volume."""
    src = mnt / "source"
    for f in sorted((shared_data / "real_swot_kobuk" / "reaches").glob("*.csv")):
        shutil.copy(f, src / f.name)
    return src


def assert_clean_output(out: str) -> None:
    assert "Traceback" not in out and "error:" not in out


# ------------------------------------------------------------------------------------- Hydrocron CSVs


def test_garbage_rows_drop_the_rows_not_the_reach(mnt: Path, csvs: Path) -> None:
    path = csvs / f"{BAD}.csv"
    before = read_reach(path, BAD)
    lines = path.read_text().splitlines(keepends=True)
    obs = [int(k) - 1 for k in before.lines[:12]]  # 0-based indices of observation rows
    lines[obs[3]] = "garbage,,,\n"  # 4 fields, the header 30
    cells = lines[obs[7]].split(",")
    assert lines[0].split(",")[8] == "reach_q"
    cells[8] = "1x"  # reach_q does not parse
    lines[obs[7]] = ",".join(cells)
    lines[obs[10]] = "#### cut here ####\n"  # 1 field
    path.write_text("".join(lines))

    code, out = run()
    assert code == 0, out
    assert_clean_output(out)
    wrong = f"2 rows: not 30 fields like the header (lines {obs[3] + 1}, {obs[10] + 1})"
    assert found(out) == [skips.Skip("row", path.name, wrong, 2),
                          skips.Skip("row", path.name, f"1 row: reach_q is not a number (line {obs[7] + 1})", 1)]
    assert len([ln for ln in out.splitlines() if "skip:" in ln]) == 2  # one line per file and reason
    lists_whole(mnt)
    assert reaches(mnt) == KOBUK
    saved = read_reach(mnt / "input" / "hydrocron" / f"{BAD}.csv", BAD)
    assert saved.dropped == {} and saved.time.size == before.time.size - 3
    assert saved.n_placeholder == before.n_placeholder


@pytest.mark.parametrize(("text", "reason"), [
    ("foo,bar\n1,2\n", "malformed CSV: no column reach_id, time_str in the header"),
    ("", "empty response (no header, no rows)"),
    ("reach_id,time_str,wse\n", "empty result (a header and no rows)"),
])
def test_unusable_csv_is_a_file_and_a_reach_skip(mnt: Path, csvs: Path, text: str, reason: str) -> None:
    (csvs / f"{BAD}.csv").write_text(text)
    code, out = run()
    assert code == 0, out
    assert_clean_output(out)
    assert found(out) == [skips.Skip("file", f"{BAD}.csv", reason), skips.Skip("reach", str(BAD), reason)]
    lists_whole(mnt)
    assert reaches(mnt) == [r for r in KOBUK if r != BAD]
    assert not (mnt / "input" / "hydrocron" / f"{BAD}.csv").exists()
    for r in KOBUK:
        if r != BAD:  # the others kept byte for byte
            assert (mnt / "input" / "hydrocron" / f"{r}.csv").read_bytes() == (csvs / f"{r}.csv").read_bytes()


def test_odd_file_names_are_read_and_untied_ones_said(mnt: Path, csvs: Path) -> None:
    (csvs / f"{BAD}.csv").rename(csvs / f"Kobuk {BAD} (copy).csv")
    shutil.copy(csvs / "81320300011.csv", csvs / "81320300011 (1).csv")  # a second download of one reach
    (csvs / "notes on the river.csv").write_text("a,b\n")
    code, out = run()
    assert code == 0, out
    assert_clean_output(out)
    assert sorted(found(out), key=lambda s: s.item) == [
        skips.Skip("file", "81320300011 (1).csv", "another file (81320300011.csv) holds reach 81320300011"),
        skips.Skip("file", "notes on the river.csv",
                   "the file name holds no 11-digit SWORD reach id (name it {reach_id}.csv)")]
    lists_whole(mnt)
    assert reaches(mnt) == KOBUK
    assert (mnt / "input" / "hydrocron" / f"{BAD}.csv").read_bytes() == \
        (csvs / f"Kobuk {BAD} (copy).csv").read_bytes()


def test_untied_files_are_said_by_one_continent_job(mnt: Path, csvs: Path) -> None:
    (csvs / "notes.csv").write_text("a,b\n")
    other = CliRunner().invoke(main, ["--index", "0"])  # af: holds no Kobuk reach, says nothing of notes.csv
    assert not found(other.output)
    code, out = run()
    assert code == 0 and [s.item for s in found(out)] == ["notes.csv"]


def test_a_folder_with_only_odd_names_is_still_hydrocron(mnt: Path, csvs: Path) -> None:
    for r in KOBUK:
        (csvs / f"{r}.csv").rename(csvs / f"reach {r}.csv")
    code, out = run()
    assert code == 0, out
    assert not found(out) and reaches(mnt) == KOBUK


def test_every_csv_unusable_fails_with_one_line(mnt: Path, csvs: Path) -> None:
    for r in KOBUK:
        (csvs / f"{r}.csv").write_text("foo,bar\n1,2\n")
    code, out = run()
    assert code == 1
    last = out.strip().splitlines()[-1]
    assert last.startswith("error: confluence-datagen: ") and "none of the 5 reaches could be used" in last
    assert "Traceback" not in out
    assert len([s for s in found(out) if s.kind == "reach"]) == 5
    assert lists_whole(mnt) == {}  # nothing written, nothing half-written


# ------------------------------------------------------------------------------------- RiverSP granules

REACH_2_51 = "SWOT_L2_HR_RiverSP_Reach_2_51_NA_20100906T152521_20100906T152528_PGA2_03.zip"
NODE_2_51 = "SWOT_L2_HR_RiverSP_Node_2_51_NA_20100906T152521_20100906T152528_PGA2_03.zip"


@pytest.mark.parametrize(("damage", "reason"), [
    ("truncate", "corrupt zip (File is not a zip file)"),
    (".dbf", "zip holds no .dbf file (the attribute table) beside "
             "SWOT_L2_HR_RiverSP_Reach_2_51_NA_20100906T152521_20100906T152528_PGA2_03.shp"),
    (".shx", "zip holds no .shx file (the shapefile index) beside "
             "SWOT_L2_HR_RiverSP_Reach_2_51_NA_20100906T152521_20100906T152528_PGA2_03.shp"),
    (".shp", "zip holds no .shp file"),
])
def test_bad_granule_skips_that_granule_only(mnt: Path, source: Path, damage: str, reason: str,
                                            drop_member: Callable[[Path, str], None]) -> None:
    bad = source / REACH_2_51
    if damage == "truncate":
        bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    else:
        drop_member(bad, damage)
    code, out = run()
    assert code == 0, out
    assert_clean_output(out)
    assert found(out) == [skips.Skip("granule", REACH_2_51, reason)]
    lists = lists_whole(mnt)
    assert REACH_2_51 not in lists["s3_list_na"] and NODE_2_51 in lists["s3_list_na"]
    assert len(lists["s3_list_na"]) == 9  # type: ignore[arg-type]
    assert "002_051" in lists["cycle_passes_na"]  # type: ignore[operator]  # the pass stays (its Node granule)
    assert len(reaches(mnt)) == 11
    assert NODE_2_51 in lists["s3_reach_na"]["74269800011"]  # type: ignore[index]


def test_node_twin_of_a_bad_reach_granule_is_read_when_nodes_are_not(source: Path) -> None:
    """Remote granules with SWORD: Node granules are not read, but a failed Reach twin must not take the pass."""
    bad = source / REACH_2_51
    bad.write_bytes(bad.read_bytes()[:1000])
    refs = sources.list_local(source)
    scan = io.scan_granules(refs, lambda uri: str(source / uri), [7], 16, read_nodes=False)
    assert scan.skipped == 1
    assert NODE_2_51 in scan.granules and (2, 51) in scan.cycle_passes
    assert sum(NODE_2_51 in g for g in scan.reach_granules.values()) > 0


def test_odd_granule_name_is_a_file_skip(mnt: Path, source: Path) -> None:
    shutil.copy(source / REACH_2_51, source / REACH_2_51.replace(".zip", " (1).zip"))
    code, out = run()
    assert code == 0, out
    [s] = found(out)
    assert (s.kind, s.item) == ("file", REACH_2_51.replace(".zip", " (1).zip"))
    assert s.reason.startswith("not a RiverSP granule name")
    assert len(lists_whole(mnt)["s3_list_na"]) == 10  # type: ignore[arg-type]
