"""Hydrocron reach CSV -> {reach_id}_SWOT.nc (contracts.md section 6), on the real Kobuk answers."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from confluence_core import ncio
from confluence_core.errors import InputError
from confluence_core.fill import FLOAT_FILL
from confluence_input import cli, hydrocron, io


@pytest.fixture()
def kobuk(shared_data: Path) -> Path:
    return shared_data / "real_swot_kobuk" / "reaches"


def test_kobuk_reach_to_swot_file(mnt: Path, kobuk: Path) -> None:
    series = hydrocron.read_reach_file(kobuk / "81320300011.csv", 81320300011)
    path = io.write_swot(mnt / "input" / "swot" / "81320300011_SWOT.nc", series)
    with ncio.open_dataset(path) as ds:
        assert ds.dimensions["nt"].size == 167  # 195 rows, 28 no_data placeholders dropped
        assert ds.dimensions["nx"].size == 0
        t = ds["reach/time"][:]
        assert np.all(np.diff(t) > 0)
        # 2023-07-29T01:26:04Z, the first pass
        assert t[0] == pytest.approx((np.datetime64("2023-07-29T01:26:04") - np.datetime64("2000-01-01")) /
                                     np.timedelta64(1, "s"))
        assert b"".join(ds["reach/time_str"][0]).decode() == "2023-07-29T01:26:04Z"
        assert np.all(ds["reach/d_x_area"][:] == FLOAT_FILL)  # always fill in the answer
        assert ds["reach/width"][0] == pytest.approx(336.938688)
        assert np.all(ds["reach/wse_u"][:] == FLOAT_FILL)  # not in the answer
        assert set(np.unique(ds["reach/reach_q"][:]).tolist()) <= {1, 2}
        assert ds["reach/ice_dyn_f"][0] == -999
        w = ds["reach/width"][:]
        assert np.all((w == FLOAT_FILL) | (w > 0))


def test_wrong_unit_names_the_column(tmp_path: Path, kobuk: Path) -> None:
    text = (kobuk / "81320300021.csv").read_text()
    lines = text.splitlines()
    head = lines[0].split(",")
    k = head.index("width_units")
    bad = [lines[0]] + [",".join(f if i != k else "km" for i, f in enumerate(r.split(","))) for r in lines[1:]]
    with pytest.raises(InputError, match="reach 81320300021: line 2: column width_units says 'km', the contract "
                                         "unit of width is 'm'"):
        hydrocron.read_reach_csv("\n".join(bad), 81320300021, "x.csv")


@pytest.mark.parametrize(("text", "reason"), [
    ("reach_id,time_str,wse\n", "empty result"),
    ("reach_id,time_str,wse\n81320300071,2024-01-01T00:00:00Z\n", r"no usable row \(1 row: not 3 fields"),
    ("reach_id,time_str,wse\n81320300071,no_data,-999999999999.0\n", "all 1 rows are no_data placeholders"),
    ("reach_id,time_str,wse\n81320300071,yesterday,3.0\n", r"no usable row \(1 row: time_str is not"),
    ("reach_id,wse\n81320300071,3.0\n", "malformed CSV: no column time_str in the header"),
    ("reach_id,time_str,wse\n81320300071,2024-01-01T00:00:00Z,high\n", r"no usable row \(1 row: wse is not a number"),
])
def test_bad_csv_one_clear_error(text: str, reason: str) -> None:
    with pytest.raises(InputError, match=f"reach 81320300071: {reason}"):
        hydrocron.read_reach_csv(text, 81320300071, "r.csv")


def test_basin_goes_on_past_a_bad_reach(mnt: Path, kobuk: Path) -> None:
    saved = mnt / "input" / "hydrocron"
    saved.mkdir()
    shutil.copy(kobuk / "81320300041.csv", saved / "81320300041.csv")
    (saved / "81320300051.csv").write_text("reach_id,time_str,wse\n81320300051,no_data,-999999999999.0\n")
    s3_reach = {str(r): [f"hydrocron/{r}.csv"] for r in (81320300041, 81320300051)}
    written, failed = cli.run_hydrocron([81320300041, 81320300051], s3_reach)
    assert (written, failed) == (1, 1)
    assert (mnt / "input" / "swot" / "81320300041_SWOT.nc").is_file()
    assert not (mnt / "input" / "swot" / "81320300051_SWOT.nc").exists()


def test_pass_ids_when_the_answer_has_them() -> None:
    text = ("reach_id,time_str,cycle_id,pass_id,width,width_units\n"
            "81320300011,2024-07-02T00:00:00Z,17,330,300.0,m\n81320300011,2024-07-01T00:00:00Z,17,301,310.0,m\n")
    s = hydrocron.read_reach_csv(text, 81320300011, "r.csv")
    assert s.obs.tolist() == [17301, 17330]
    assert s.reach["width"].tolist() == [310.0, 300.0]


def test_repeated_pass_keeps_the_last_row() -> None:
    text = ("reach_id,time_str,width\n81320300011,2024-07-02T00:00:00Z,300.0\n"
            "81320300011,2024-07-01T00:00:00Z,310.0\n81320300011,2024-07-02T00:00:00Z,320.0\n")
    s = hydrocron.read_reach_csv(text, 81320300011, "r.csv")
    assert s.reach["width"].tolist() == [310.0, 320.0]
    assert s.reach["time_str"].tolist() == ["2024-07-01T00:00:00Z", "2024-07-02T00:00:00Z"]


def test_every_numeric_field_written_is_checked_as_a_number() -> None:
    """The reader rejects a non-number in every numeric field input writes (not only turns it to fill)."""
    from confluence_core.hydrocron import NUMERIC
    from confluence_input import schema

    written = {name for name, _, _ in schema.REACH_VARS + schema.EXTRA_REACH} - {"reach_id", "time_str"}
    assert written <= NUMERIC
