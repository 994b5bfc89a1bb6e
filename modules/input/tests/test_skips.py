"""No silent loss in input: each bad input is a counted skip, the rest of the data goes on (issue 17).

datagen and combine_data run first on real files (the Kobuk Hydrocron answers, the
simulated RiverSP granules) in the run's volumes; the files input then reads are
corrupted there.  Each case checks the ``skip:`` lines the user sees
(:func:`confluence_core.skips.parse`), the exit status, that the other rows /
granules / passes are in the written files, and that nothing already written is
lost or half-written (no ``.part`` file, earlier files intact).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import click
import netCDF4
import numpy as np
import pytest
from click.testing import CliRunner
from confluence_combine_data.cli import main as combine_main
from confluence_core import skips
from confluence_core.hydrocron import read_reach
from confluence_datagen.cli import main as datagen_main
from confluence_input.cli import main as input_main

KOBUK = [81320300011, 81320300021, 81320300031, 81320300041, 81320300051]
BAD = 81320300021
R = 74269800011
REACH_2_51 = "SWOT_L2_HR_RiverSP_Reach_2_51_NA_20100906T152521_20100906T152528_PGA2_03.zip"


def invoke(cmd: click.Command, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cmd, list(args))
    return result.exit_code, result.output


def prepare() -> None:
    for cmd, args in ((datagen_main, ("--index", "3")), (combine_main, ())):
        code, out = invoke(cmd, *args)
        assert code == 0, out


def run_input() -> tuple[int, str, list[skips.Skip]]:
    code, out = invoke(input_main, "--index", "0")
    assert "Traceback" not in out
    return code, out, skips.parse(out.splitlines())


def nt(path: Path) -> int:
    with netCDF4.Dataset(path) as ds:
        return ds.dimensions["nt"].size


def no_part(mnt: Path) -> None:
    assert not [p for p in mnt.rglob("*") if ".part" in p.name]


@pytest.fixture()
def hydro(mnt: Path, shared_data: Path) -> Path:
    """datagen + combine_data on the Kobuk answers; returns input/hydrocron/ (datagen's saved answers)."""
    for f in sorted((shared_data / "real_swot_kobuk" / "reaches").glob("*.csv")):
        shutil.copy(f, mnt / "source" / f.name)
    prepare()
    return mnt / "input" / "hydrocron"


# ------------------------------------------------------------------------------------- Hydrocron CSVs


def test_garbage_rows_drop_the_rows_not_the_reach(mnt: Path, hydro: Path) -> None:
    path = hydro / f"{BAD}.csv"
    before = read_reach(path, BAD)
    lines = path.read_text().splitlines(keepends=True)
    at = [int(k) - 1 for k in before.lines[[2, 50, 100]]]
    for k in at:
        lines[k] = lines[k].replace("-999999999999.0", "?", 1) if k == at[0] else "garbage\n"
    path.write_text("".join(lines))
    code, out, found = run_input()
    assert code == 0, out
    assert found == [skips.Skip("row", path.name, f"2 rows: not 30 fields like the header (lines {at[1] + 1}, "
                                                  f"{at[2] + 1})", 2),
                     skips.Skip("row", path.name, f"1 row: d_x_area is not a number (line {at[0] + 1})", 1)]
    swot = mnt / "input" / "swot"
    assert sorted(p.name for p in swot.iterdir()) == [f"{r}_SWOT.nc" for r in KOBUK]
    assert nt(swot / f"{BAD}_SWOT.nc") == before.time.size - 3
    no_part(mnt)


@pytest.mark.parametrize(("text", "reason"), [
    ("foo,bar\n1,2\n", "malformed CSV: no column reach_id, time_str in the header"),
    ("", "empty response (no header, no rows)"),
])
def test_unusable_csv_keeps_what_was_written(mnt: Path, hydro: Path, text: str, reason: str) -> None:
    code, out, found = run_input()
    assert code == 0 and not found, out
    swot = mnt / "input" / "swot"
    earlier = (swot / f"{BAD}_SWOT.nc").read_bytes()
    (hydro / f"{BAD}.csv").write_text(text)
    code, out, found = run_input()
    assert code == 0, out
    assert found == [skips.Skip("file", f"{BAD}.csv", reason),
                     skips.Skip("reach", str(BAD), f"{reason}: {BAD}_SWOT.nc not written")]
    assert (swot / f"{BAD}_SWOT.nc").read_bytes() == earlier  # the earlier run's file is not lost
    assert sorted(p.name for p in swot.iterdir()) == [f"{r}_SWOT.nc" for r in KOBUK]
    no_part(mnt)


def test_every_csv_unusable_fails_with_one_line(mnt: Path, hydro: Path) -> None:
    for r in KOBUK:
        (hydro / f"{r}.csv").write_text("foo,bar\n1,2\n")
    code, out, found = run_input()
    assert code == 1
    last = out.strip().splitlines()[-1]
    assert last.startswith("error: confluence-input: ") and "no reach written: all 5 Hydrocron CSVs failed" in last
    assert [s.kind for s in found] == ["file", "reach"] * 5
    assert not list((mnt / "input" / "swot").glob("*"))
    no_part(mnt)


# ------------------------------------------------------------------------------------- RiverSP granules


@pytest.mark.parametrize(("damage", "reason"), [
    ("truncate", "corrupt zip (File is not a zip file)"),
    (".dbf", "zip holds no .dbf file (the attribute table) beside " + REACH_2_51.replace(".zip", ".shp")),
    (".shx", "zip holds no .shx file (the shapefile index) beside " + REACH_2_51.replace(".zip", ".shp")),
])
def test_bad_granule_skips_that_granule_only(mnt: Path, source: Path, damage: str, reason: str,
                                            drop_member: Callable[[Path, str], None]) -> None:
    prepare()
    bad = source / REACH_2_51
    if damage == "truncate":
        bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    else:
        drop_member(bad, damage)
    code, out, found = run_input()
    assert code == 0, out
    assert found == [skips.Skip("granule", REACH_2_51, reason)]
    swot = mnt / "input" / "swot"
    assert len(list(swot.glob("*_SWOT.nc"))) == 11
    with netCDF4.Dataset(swot / f"{R}_SWOT.nc") as ds:
        ds.set_auto_mask(False)
        obs = ds["observations"][:].tolist()
        assert sorted(obs) == [1051, 1372, 2051, 2372, 3051]  # every pass kept, 2_51 too (its Node granule)
        t = obs.index(2051)
        assert (ds["node/wse"][:, t] > -1e11).any()  # the Node granule of the same pass was read
        assert ds["reach/wse"][t] < -1e11  # the Reach values of that pass are fill
        assert np.all(ds["reach/wse"][[i for i in range(len(obs)) if i != t]] > -1e11)
    no_part(mnt)


def test_reach_left_with_no_observation_is_a_reach_skip(mnt: Path, source: Path) -> None:
    prepare()
    basin = json.loads((mnt / "input" / "basin.json").read_text())
    basin[0]["reach_id"].append("74269999991")
    (mnt / "input" / "basin.json").write_text(json.dumps(basin))
    s3_reach = json.loads((mnt / "input" / "s3_reach.json").read_text())
    s3_reach["74269999991"] = [REACH_2_51]
    (mnt / "input" / "s3_reach.json").write_text(json.dumps(s3_reach))
    (source / REACH_2_51).write_bytes(b"PK\x03\x04 cut")
    code, out, found = run_input()
    assert code == 0, out
    assert found[-1] == skips.Skip("reach", "74269999991", "no observation in its 1 granules (1 of them could "
                                                          "not be read): 74269999991_SWOT.nc not written")
    assert [s.kind for s in found] == ["granule", "reach"]
    assert len(list((mnt / "input" / "swot").glob("*_SWOT.nc"))) == 11
    no_part(mnt)
