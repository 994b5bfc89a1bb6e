"""Adding an FLPE algorithm is its own folder and one workflow-table row, nothing else.

A dummy plug-in is written to a temporary folder and installed there (``pip install --target``), the
packaged workflow table is copied with one row added for it, and the real workflow runs on one demo
basin with the process engine.  The new algorithm must then appear in the consensus, in MOI's
integrator files, in the offline product and in the per-continent results file, although no file of
the repository was changed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from click.testing import CliRunner
from confluence_core import workflow
from confluence_driver.cli import main

pytestmark = pytest.mark.slow

PLUGIN = '''
"""A dummy FLPE algorithm: the prior mean flow shaped by the observed width (for a test only)."""

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
from confluence_core import ncio
from confluence_flpe import output
from confluence_flpe.interface import FlpeResult, Priors, ReachObs


class Dummy:
    name: ClassVar[str] = "dummy"
    min_obs: ClassVar[int] = 3

    def run(self, reaches: Sequence[tuple[ReachObs, Priors]]) -> list[FlpeResult]:
        out = []
        for obs, pri in reaches:
            if not np.isfinite(pri.mean_q):
                out.append(FlpeResult.invalid(obs.reach_id, obs.nt, "no mean_q prior"))
                continue
            shape = (obs.width / np.nanmedian(obs.width)) ** 4
            q = pri.mean_q * shape / np.nanmean(shape)
            out.append(FlpeResult(obs.reach_id, q, params={"n": 0.03}))
        return out

    def write(self, path: Path, obs: Sequence[ReachObs], results: Sequence[FlpeResult]) -> None:
        with ncio.create(path) as ds:
            output.set_valid(ds, results[0].valid)
            output.time_dim(ds, obs[0].nt)
            output.series(ds, "Q", results[0].q)
            output.scalar(ds, "n", results[0].params.get("n"))
'''

PYPROJECT = '''
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "confluence-flpe-dummy"
version = "0.0.1"
requires-python = ">=3.11"

[project.entry-points."confluence.flpe"]
dummy = "confluence_flpe_dummy:Dummy"

[tool.setuptools.packages.find]
where = ["src"]
'''

ROW = '''
[[steps]]
name = "dummy"
stage = 7
image = "flpe-dummy"
path = "{path}"
command = ["confluence-flpe", "dummy"]
fanout = "reach"
list = "reaches.json"
reads = ["input"]
writes = ["flpe"]
outputs = ["flpe:dummy/{{river_id}}_dummy.nc"]
resources = "small"

[steps.flpe]
q = ["Q"]
q_u = ""
params = {{ n = "n" }}
moi = "dummy"
offline = "dummy"
'''

STEPS = "datagen,combine_data,input,prediagnostics,priors,momma,dummy,consensus,moi,offline,output"
BASIN = "8132"  # the demo world's smallest basin


def _install_plugin(root: Path) -> Path:
    pkg = root / "dummy"
    (pkg / "src" / "confluence_flpe_dummy").mkdir(parents=True)
    (pkg / "src" / "confluence_flpe_dummy" / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    (pkg / "pyproject.toml").write_text(PYPROJECT)
    site = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(site), str(pkg)], check=True)
    return site


def _table(root: Path, plugin_path: Path) -> Path:
    text = workflow.packaged_text()
    at = text.index('[[steps]]\nname = "consensus"')  # algorithms run before the consensus
    table = root / "workflow.toml"
    table.write_text(text[:at] + ROW.format(path=plugin_path).lstrip() + "\n" + text[at:])
    return table


def test_a_seventh_algorithm_is_one_folder_and_one_row(tmp_path: Path) -> None:
    from confluence_demo import generate

    site = _install_plugin(tmp_path)
    table = _table(tmp_path, tmp_path / "dummy")
    world = tmp_path / "world"
    generate(world)
    reaches = json.loads((world / "manifest.json").read_text())["continents"]["na"][BASIN]
    run = tmp_path / "run"
    result = CliRunner().invoke(main, [
        "run", "--local", "--engine", "process", "--workflow", str(table), "--workdir", str(run),
        "--source", str(world), "--jobs", "2", "--steps", STEPS, "--reaches", ",".join(reaches),
        "--env", f"PYTHONPATH={site}",
    ])
    assert result.exit_code == 0, result.output
    rivers = [r for r in reaches if r.endswith("1")]
    assert sorted(p.name for p in (run / "flpe" / "dummy").glob("*_dummy.nc")) == sorted(
        f"{r}_dummy.nc" for r in rivers)
    summary = json.loads((run / "run.json").read_text())["steps"]["dummy"]["reaches"]
    assert summary["reaches"] == len(reaches) and summary["valid"] + summary["flagged"] == len(rivers)
    assert summary["missing"] == len(reaches) - len(rivers)  # not rivers: no file
    prediag = json.loads((run / "run.json").read_text())["steps"]["prediagnostics"]["summary"]  # filters counted
    assert prediag["files"] == len(reaches) and prediag["reach"]["observations"] > 0
    assert prediag["reach"]["kept"] + prediag["reach"]["removed"] == prediag["reach"]["observations"]

    contributing = set()
    for r in rivers:
        with netCDF4.Dataset(run / "flpe" / "consensus" / f"{r}_consensus.nc") as ds:
            contributing |= set(np.atleast_1d(ds.getncattr("contributing_algos")).tolist())
        with netCDF4.Dataset(run / "moi" / f"{r}_integrator.nc") as ds:
            assert "dummy" in ds.groups and np.isfinite(ds["dummy/qbar_basinScale"][...].filled(np.nan))
        with netCDF4.Dataset(run / "offline" / f"{r}_offline.nc") as ds:
            assert {"dummy_q_c", "dummy_q_uc"} <= set(ds.variables)
            assert np.isfinite(ds["dummy_q_uc"][:].filled(np.nan)).any()
    assert "dummy" in contributing
    (results,) = sorted((run / "output").glob("na_*_SOS_results_unconstrained.nc"))
    with netCDF4.Dataset(results) as ds:
        assert "dummy" in ds.groups
