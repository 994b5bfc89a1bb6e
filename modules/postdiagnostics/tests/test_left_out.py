"""The basin step with one reach left out upstream (no FLPE, consensus or integrator file of it):
the basin goes on, one warning names the reach, its file and the reason, its flags are -999."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result
from confluence_core import leftout


def test_left_out_reach_is_flagged_no_result_and_the_basin_goes_on(tmp_path: Path, world: Any,
                                                                    run_cli: Callable[..., Result]) -> None:
    root = world.build_run(tmp_path / "run")
    gone = world.REACHES[1]
    for f in [*(root / "flpe").rglob(f"{gone}_*.nc"), root / "moi" / f"{gone}_integrator.nc"]:
        f.unlink()
    leftout.write(root / "input", [{"reach_id": gone, "step": "flpe_sad", "reason": "timed out"}])
    result = run_cli(root, "moi", "--index", "0")
    assert result.exit_code == 0, result.output
    warned = [ln for ln in result.stderr.splitlines() if "WARNING" in ln and str(gone) in ln]
    assert len(warned) == 1
    assert f"{gone}_integrator.nc" in warned[0] and "flpe_sad: timed out" in warned[0]
    d = world.read_diag(root, gone, "moi")
    for name in ("realism_flags", "stability_flags", "prepost_flags"):
        assert set(d[name].tolist()) == {-999}, name
    assert set(d["mean_q"].tolist()) == {world.FILL} and set(d["flpe_mean_q"].tolist()) == {world.FILL}
    for rid in world.REACHES:
        if rid != gone:
            assert set(world.read_diag(root, rid, "moi")["realism_flags"].tolist()) == {0}
