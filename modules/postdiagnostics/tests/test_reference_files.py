"""The public workflow's own files for reach 77449100071 (FLPE momma, sad, hivdi and MOI), read by the contract."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result

REACH = 77449100071


def _run_folder(root: Path, shared_data: Path) -> Path:
    ref = shared_data / "reference_outputs"
    for algo in ("momma", "sad", "hivdi"):
        dest = root / "flpe" / algo / f"{REACH}_{algo}.nc"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ref / "flpe" / algo / dest.name, dest)
    (root / "moi").mkdir(parents=True)
    shutil.copyfile(ref / "moi" / f"{REACH}_integrator.nc", root / "moi" / f"{REACH}_integrator.nc")
    (root / "input").mkdir()
    (root / "input" / "reaches.json").write_text(json.dumps([{"reach_id": REACH}]))
    (root / "input" / "basin.json").write_text(json.dumps([{"basin_id": 7744, "reach_id": [str(REACH)]}]))
    return root


def test_reference_flpe_and_moi(tmp_path: Path, shared_data: Path, world: Any,
                                run_cli: Callable[..., Result]) -> None:
    root = _run_folder(tmp_path / "run", shared_data)
    result = run_cli(root, "flpe", "--index", "0")
    assert result.exit_code == 0, result.output
    assert "bound checks skipped" in result.stderr  # this run folder has no SoS
    d = world.read_diag(root, REACH)
    flags = dict(zip(d["algo_names"].tolist(), d["realism_flags"].tolist(), strict=True))
    assert flags["geobam"] == flags["metroman"] == flags["sic4dvar"] == -999  # no files
    assert {flags["momma"], flags["sad"], flags["hivdi"]} <= {0, 1}

    result = run_cli(root, "moi", "--index", "0", "--previous", str(root))  # compared with itself
    assert result.exit_code == 0, result.output
    d = world.read_diag(root, REACH, "moi")
    names = d["algo_names"].tolist()
    reasons = dict(zip(names, d["realism_reasons"].tolist(), strict=True))
    realism = dict(zip(names, d["realism_flags"].tolist(), strict=True))
    assert realism["sad"] == 1 and "n = 6.199" in reasons["sad"]  # Manning's n of 6.2: unphysical
    assert realism["geobam"] == 1 and "n = 0.001" in reasons["geobam"]
    assert realism["sic4dvar"] == 1 and "no finite flow" in reasons["sic4dvar"]
    stability = dict(zip(names, d["stability_flags"].tolist(), strict=True))
    assert stability["sic4dvar"] == 2 and {v for k, v in stability.items() if k != "sic4dvar"} == {0}
    prepost = dict(zip(names, d["prepost_flags"].tolist(), strict=True))
    assert prepost["geobam"] == 2 and prepost["momma"] in (0, 1)  # no geobam FLPE file to compare with
