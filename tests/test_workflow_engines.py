"""The real workflow on the demo world: both engines write the same files.

Runs every ready step of the packaged workflow table on the built-in demo
world, once with the process engine and once with the Docker engine (the
images of `make build`), and compares every JSON file and every NetCDF
variable of the two run folders.  Attributes that record when or where a file
was written are left out: they differ run to run by design.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import netCDF4
import numpy as np
import pytest
from click.testing import CliRunner
from confluence_core import workflow as wf
from confluence_driver import __version__
from confluence_driver.cli import main

from .conftest import docker_ready

IMAGES = sorted({f"confluence/{s.image}:{__version__}" for s in wf.load().steps if s.ready and s.local == "run"})
SKIP = docker_ready(*IMAGES)


#: The demo world's smallest basin (6 river reaches, arctic: ice flags) keeps the per-reach steps short.
BASIN = "8132"


def basin_reaches(workdir: Path) -> str:
    from confluence_demo import generate

    world = workdir / "demo"
    if not (world / "manifest.json").exists():
        generate(world)
    manifest = json.loads((world / "manifest.json").read_text())
    return ",".join(manifest["continents"]["na"][BASIN])


def run(workdir: Path, engine: str, *extra: str) -> str:
    result = CliRunner().invoke(main, ["run", "--local", "--engine", engine, "--workdir", str(workdir),
                                       "--jobs", "2", "--reaches", basin_reaches(workdir), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def variables(path: Path) -> dict[str, np.ndarray]:
    out = {}
    with netCDF4.Dataset(path) as ds:
        ds.set_auto_mask(False)

        def walk(group: netCDF4.Group, prefix: str) -> None:
            for name, var in group.variables.items():
                out[prefix + name] = np.asarray(var[...])
            for name, sub in group.groups.items():
                walk(sub, f"{prefix}{name}/")

        walk(ds, "")
    return out


def data_files(root: Path) -> list[Path]:
    skip = {"logs", "state", "demo", "source"}
    # hidden folders are caches (neoBAM's compiled sampler), not results
    return sorted(p.relative_to(root) for p in root.rglob("*")
                  if p.is_file() and p.relative_to(root).parts[0] not in skip and p.name != "run.json"
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


@pytest.fixture(scope="module")
def process_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One process-engine run of the ready steps on the demo basin, shared by the tests below."""
    workdir = tmp_path_factory.mktemp("process")
    return workdir, run(workdir, "process")


@pytest.mark.slow
@pytest.mark.docker
@pytest.mark.skipif(bool(SKIP), reason=SKIP or "ok")
def test_docker_and_process_engines_give_the_same_outputs(tmp_path, process_run):
    proc, dock = process_run[0], tmp_path / "docker"
    # the same world, not generated twice: the Docker run starts from a copy of the demo data
    dock.mkdir()
    shutil.copytree(proc / "demo", dock / "demo", symlinks=True)
    run(dock, "docker")
    files = data_files(proc)
    assert files == data_files(dock)
    assert any(f.suffix == ".nc" for f in files) and any(f.suffix == ".json" for f in files)
    for rel in files:
        a, b = proc / rel, dock / rel
        if rel.suffix == ".json":
            assert json.loads(a.read_text()) == json.loads(b.read_text()), rel
        elif rel.suffix == ".nc" or ".nc." in rel.name:
            va, vb = variables(a), variables(b)
            assert va.keys() == vb.keys(), rel
            for key in va:
                x, y = np.asarray(va[key]), np.asarray(vb[key])
                if x.dtype == object and x.shape == y.shape:  # VLEN variables: one array per element
                    for xi, yi in zip(x.ravel(), y.ravel(), strict=True):
                        np.testing.assert_array_equal(np.asarray(xi), np.asarray(yi), err_msg=f"{rel}:{key}")
                else:
                    np.testing.assert_array_equal(x, y, err_msg=f"{rel}:{key}")


@pytest.mark.slow
def test_process_engine_runs_the_ready_steps_on_the_demo_world(process_run):
    tmp_path, text = process_run
    assert "data: the built-in demo world" in text
    reaches = json.loads((tmp_path / "input" / "reaches.json").read_text())
    manifest = json.loads((tmp_path / "demo" / "manifest.json").read_text())
    assert {str(r["reach_id"]) for r in reaches} >= {str(r) for r in manifest["type1_reach_ids"]}
    chosen = basin_reaches(tmp_path).split(",")
    for rid in chosen:
        assert (tmp_path / "input" / "swot" / f"{rid}_SWOT.nc").exists()
        for folder, name in [("momma", "momma"), ("geobam", "geobam"), ("consensus", "consensus")]:
            assert (tmp_path / "flpe" / folder / f"{rid}_{name}.nc").exists(), (folder, rid)
        assert (tmp_path / "offline" / f"{rid}_offline.nc").exists()
        assert (tmp_path / "moi" / f"{rid}_integrator.nc").exists()
    assert (tmp_path / "output" / "na_sword_v16_SOS_results_unconstrained.nc").exists()
    # a rerun resumes: nothing is redone
    again = run(tmp_path, "process")
    counts = re.findall(r"(\d+)/(\d+) done, (\d+) failed(?:, (\d+) skipped)?", again)
    assert counts and all(done == "0" and failed == "0" and skipped == total for done, total, failed, skipped in counts)
