"""--sos FILE / --sos podaac: the SoS staged under the workflow's name, checked, downloads recorded."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import netCDF4
import pytest
from confluence_core import sos_podaac
from confluence_core.errors import ConfluenceError, InputError
from confluence_driver import data
from confluence_driver.runner import RunFolder


@pytest.fixture(scope="module")
def demo_sos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from confluence_demo import generate

    world = tmp_path_factory.mktemp("world")
    generate(world)
    (path,) = sorted((world / "sos").glob("na_*_SOS_priors.nc"))
    return path


@pytest.fixture()
def folder(tmp_path: Path) -> RunFolder:
    f = RunFolder(tmp_path / "run")
    f.create()
    return f


def test_a_podaac_named_file_is_staged_under_the_workflow_name(folder: RunFolder, demo_sos: Path,
                                                              tmp_path: Path) -> None:
    published = tmp_path / "na_sword_v16_SOS_priors_unconstrained_20230502T204408_20250502T204408_20251219.nc"
    shutil.copyfile(demo_sos, published)
    (staged,) = data.stage_sos(folder, [published])
    assert staged == folder.volume("input") / "sos" / "na_sword_v16_SOS_priors.nc"
    assert staged.read_bytes() == demo_sos.read_bytes()


def test_a_file_not_in_the_sos_layout_is_one_line_naming_it(folder: RunFolder, demo_sos: Path,
                                                           tmp_path: Path) -> None:
    bad = tmp_path / "na_sword_v16_SOS_priors.nc"
    with netCDF4.Dataset(bad, "w") as ds:
        ds.createGroup("reaches")
    with pytest.raises(InputError, match="not a SoS priors file in the published layout") as err:
        data.stage_sos(folder, [bad])
    assert str(bad) in str(err.value)
    assert not (folder.volume("input") / "sos" / bad.name).exists()


def test_sos_podaac_downloads_each_continent_of_the_run_and_records_it(
        folder: RunFolder, demo_sos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def fake_fetch(continent: str, cache_dir: Path, *, branch: str = "unconstrained", **_: object
                   ) -> sos_podaac.SosDownload:
        calls.append((continent, branch, cache_dir))
        cached = cache_dir / f"{continent}_sword_v16_SOS_priors_{branch}_20251219.nc"
        cached.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(demo_sos, cached)
        return sos_podaac.SosDownload(
            path=cached, collection="SWOT_L4_HR_DAWG_SOS_DISCHARGE_V3", version="3", granule_id="g",
            concept_id="G1-POCLOUD", file_name=cached.name, size=cached.stat().st_size, checksum=None,
            sha256="0" * 64, source_url="https://example.invalid/x.nc", s3_url=None, continent=continent,
            branch=branch, downloaded=True, product_version="0001")

    monkeypatch.setattr(sos_podaac, "fetch_priors", fake_fetch)
    monkeypatch.setenv("CONFLUENCE_CACHE", str(tmp_path / "cache"))
    note = data.prepare_data(folder, "hydrocron", None, "podaac", reach_ids={"81320300011", "81320300021"},
                             sos_branch="constrained")
    assert calls == [("na", "constrained", tmp_path / "cache" / "sos")]
    assert (folder.volume("input") / "sos" / "na_sword_v16_SOS_priors.nc").exists()
    assert "SoS priors from PO.DAAC" in note
    (rec,) = json.loads((folder.root / "run.json").read_text())["sos"]
    assert rec["collection"] == "SWOT_L4_HR_DAWG_SOS_DISCHARGE_V3" and rec["branch"] == "constrained"


def test_sos_podaac_without_reaches_says_what_to_do(folder: RunFolder) -> None:
    with pytest.raises(ConfluenceError, match="--sos podaac needs the run's reaches"):
        data.prepare_data(folder, None, None, "podaac")
    with pytest.raises(InputError, match="--sos: no such file"):
        data.prepare_data(folder, None, None, "nowhere.nc")
