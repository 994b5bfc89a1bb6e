"""Both branches of the public product on the demo world: ``confluence run --branch unconstrained|constrained``.

The demo world's smallest basin (8132, six reaches) has two gauges in its local archive and none in
its SoS; the test gives them with ``--gauges`` and a ``cal`` column: one calibration gauge (CAL 1), one
validation gauge (CAL 0).  The same command runs the unconstrained branch (no ``--branch``: the default)
and then the constrained one in the same run folder.  The FLPE algorithms that take the SoS mean flow
as their prior run (MOMMA, SAD, MetroMan and their consensus); neoBAM's sampler would only add minutes.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
import pytest
from click.testing import CliRunner
from confluence_driver.cli import main

BASIN = "8132"
STEPS = ("datagen,combine_data,input,prediagnostics,priors,metroman,momma,sad,consensus,moi,offline,"
         "validation,validation_summary,output")
SOS = "input/sos/na_sword_v16_SOS_priors.nc"
pytestmark = pytest.mark.slow  # two workflow runs, about a minute each on two cores


def _world(workdir: Path) -> tuple[list[str], dict[str, str], dict[str, float], Path]:
    """The basin's reaches, its gauges' CAL (half 1, half 0), their mean flows and the ``--gauges`` CSV."""
    from confluence_demo import generate

    world = workdir / "demo"
    generate(world)
    manifest = json.loads((world / "manifest.json").read_text())
    reaches = manifest["continents"]["na"][BASIN]
    gauged = sorted(g["reach_id"] for g in manifest["gauges"] if g["reach_id"] in reaches)
    assert len(gauged) == 2
    cal = {gauged[0]: "0", gauged[1]: "1"}
    flows: dict[str, list[float]] = {}
    dest = workdir.parent / "gauges.csv"
    with (world / "gauges" / "gauges.csv").open() as src, dest.open("w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["agency", "site", "reach_id", "date", "discharge_cms", "cal"])
        for row in csv.DictReader(src):
            if row["reach_id"] in cal:
                w.writerow([row["agency"], row["site"], row["reach_id"], row["date"], row["discharge_cms"],
                            cal[row["reach_id"]]])
                flows.setdefault(row["reach_id"], []).append(float(row["discharge_cms"]))
    return reaches, cal, {r: float(np.mean(q)) for r, q in flows.items()}, dest


def _run(workdir: Path, reaches: list[str], gauges: Path, *extra: str) -> str:
    result = CliRunner().invoke(main, ["run", "--local", "--engine", "process", "--jobs", "2", "--workdir",
                                       str(workdir), "--reaches", ",".join(reaches), "--steps", STEPS,
                                       "--gauges", str(gauges), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def _checksums(root: Path) -> dict[str, str]:
    """Every file the unconstrained branch wrote (its logs, state and record aside, and the other branch)."""
    skip = {"logs", "state", "constrained", "demo", "source"}
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and p.relative_to(root).parts[0] not in skip
            and p.name not in ("run.json", ".lock") and not p.name.startswith(".")}


def _mean_q(path: Path, group: str, var: str, reach: str) -> float:
    with netCDF4.Dataset(path) as ds:
        ds.set_auto_mask(False)
        row = int(np.flatnonzero(ds["reaches/reach_id"][:] == int(reach))[0])
        q = np.asarray(ds[f"{group}/{var}"][row], dtype=np.float64)
    return float(np.mean(q[q > -1e11]))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("branches") / "run"
    workdir.mkdir()
    reaches, cal, gauge_mean, gauges = _world(workdir)
    unc_out = _run(workdir, reaches, gauges)  # no --branch: unconstrained
    before = _checksums(workdir)
    con_out = _run(workdir, reaches, gauges, "--branch", "constrained")
    return {"root": workdir, "reaches": reaches, "cal": cal, "gauge_mean": gauge_mean, "gauges": gauges,
            "unc_out": unc_out, "con_out": con_out, "before": before}


def test_the_constrained_priors_file(runs: dict[str, Any]) -> None:
    """product_version raised, the overwritten reaches and their source recorded, the replaced values kept."""
    root: Path = runs["root"]
    cal1 = next(r for r, c in runs["cal"].items() if c == "1")
    cal0 = next(r for r, c in runs["cal"].items() if c == "0")
    with netCDF4.Dataset(root / "demo" / "sos" / "na_sword_v16_SOS_priors.nc") as ds:
        ds.set_auto_mask(False)
        rid = ds["reaches/reach_id"][:]
        model_mean = np.asarray(ds["model/mean_q"][:])
        first_version = ds.product_version
    row1 = int(np.flatnonzero(rid == int(cal1))[0])
    with netCDF4.Dataset(root / "constrained" / SOS) as ds:
        ds.set_auto_mask(False)
        assert int(ds.product_version) == int(first_version) + 1
        assert (ds.branch, ds.run_type, int(ds.priors_constrained)) == ("constrained", "constrained", 1)
        flags = ds["model/overwritten_indexes"][:]
        sources = ds["model/overwritten_source"][:]
        assert flags[row1] == 1 and sources[row1] == "USGS"
        assert flags[rid == int(cal0)][0] == 0  # a CAL 0 gauge is never a prior
        assert ds["model/mean_q"][row1] == pytest.approx(runs["gauge_mean"][cal1], rel=1e-9)
        orig = ds["model_original"]
        k = int(np.flatnonzero(orig["reach_id"][:] == int(cal1))[0])
        assert orig["mean_q"][k] == model_mean[row1]  # the model's value, kept in its own group
    with netCDF4.Dataset(root / SOS) as ds:  # the unconstrained branch's priors: the model's, untouched
        ds.set_auto_mask(False)
        assert (ds.branch, int(ds.priors_constrained)) == ("unconstrained", 0)
        assert "model_original" not in ds.groups and not np.any(ds["model/overwritten_indexes"][:] == 1)
        np.testing.assert_array_equal(ds["model/mean_q"][:], model_mean)


def test_discharge_on_the_cal1_reach_moves_toward_its_gauge(runs: dict[str, Any]) -> None:
    root: Path = runs["root"]
    cal1 = next(r for r, c in runs["cal"].items() if c == "1")
    gauge = runs["gauge_mean"][cal1]
    unc = root / "output" / "na_sword_v16_SOS_results_unconstrained.nc"
    con = root / "constrained" / "output" / "na_sword_v16_SOS_results_constrained.nc"
    for group, var in (("consensus", "consensus_q"), ("momma", "Q")):
        before, after = _mean_q(unc, group, var, cal1), _mean_q(con, group, var, cal1)
        assert abs(np.log(after / gauge)) < abs(np.log(before / gauge)), (group, before, after, gauge)


def test_validation_counts_only_cal0_gauges(runs: dict[str, Any]) -> None:
    root: Path = runs["root"]
    cal0 = next(r for r, c in runs["cal"].items() if c == "0")
    for folder in (root, root / "constrained"):
        files = sorted(p.name for p in (folder / "validation").glob("*_validation.nc"))
        assert files == [f"{cal0}_validation.nc"]
        summary = json.loads((folder / "validation" / "summary.json").read_text())
        assert (summary["validation_gauges"], summary["calibration_gauges_held_back"]) == (1, 1)
        with (folder / "validation" / "summary.csv").open() as fh:
            assert {r["reach_id"] for r in csv.DictReader(fh)} == {cal0}
    summary = json.loads((root / "constrained" / "validation" / "summary.json").read_text())
    assert summary["branch"] == "constrained" and summary["held_back"][0].startswith("USGS gauge")
    with netCDF4.Dataset(root / "constrained" / "output" / "na_sword_v16_SOS_results_constrained.nc") as ds:
        assert (int(ds.validation_gauges), int(ds.calibration_gauges_held_back)) == (1, 1)


def test_each_branch_is_recorded_everywhere(runs: dict[str, Any]) -> None:
    root: Path = runs["root"]
    for folder, branch in ((root, "unconstrained"), (root / "constrained", "constrained")):
        record = json.loads((folder / "run.json").read_text())
        assert record["branch"] == branch and record["env"]["CONFLUENCE_BRANCH"] == branch
        for path in (folder / "offline").glob("*.nc"):
            with netCDF4.Dataset(path) as ds:
                assert ds.branch == branch
        for path in [*(folder / "flpe").rglob("*.nc"), *(folder / "moi").glob("*.nc"),
                     *(folder / "output").glob("*.nc")]:
            with netCDF4.Dataset(path) as ds:
                assert ds.getncattr("branch") == branch, path
    assert "1 CAL 1 (calibration: priors of this constrained branch" in runs["con_out"]


def test_the_unconstrained_branch_is_untouched(runs: dict[str, Any]) -> None:
    """The constrained run wrote nothing of the unconstrained branch's, and a rerun with --branch
    unconstrained finds the run made without --branch up to date."""
    root: Path = runs["root"]
    assert _checksums(root) == runs["before"]
    out = CliRunner().invoke(main, ["run", "--local", "--engine", "process", "--workdir", str(root), "--dry-run",
                                    "--reaches", ",".join(runs["reaches"]), "--steps", STEPS,
                                    "--branch", "unconstrained"]).output
    lines = [ln for ln in out.splitlines() if "children:" in ln]
    assert lines and all("to run: 0 " in ln for ln in lines), out
    wrong = CliRunner().invoke(main, ["run", "--local", "--engine", "process", "--workdir",
                                      str(root / "constrained"), "--branch", "unconstrained"])
    assert wrong.exit_code == 1 and "holds the constrained branch" in wrong.output
