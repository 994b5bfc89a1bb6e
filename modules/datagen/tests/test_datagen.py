"""confluence-datagen on the simulated granules: local folder, S3 (moto) and CMR (fake, see conftest.py)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
import pytest
from click.testing import CliRunner
from confluence_datagen.cli import main
from confluence_datagen.io import output_names

DATA = Path(__file__).parent / "data"
NA = 3  # index of na in continent.json
REACHES = [74269500211, 74269500231, 74269700011, 74269700031, 74269700041, 74269800011, 74269800021,
           74269800031, 74269900011, 74269900031, 74269900051]


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def load(mnt: Path, name: str) -> object:
    return json.loads((mnt / "input" / f"{name}.json").read_text())


def test_local_source_writes_every_list(mnt: Path, source: Path) -> None:
    code, out = run("--index", str(NA))
    assert code == 0, out
    for name in output_names():
        assert (mnt / "input" / f"{name}_na.json").is_file()
    reaches = load(mnt, "reaches_na")
    assert [r["reach_id"] for r in reaches] == REACHES
    assert reaches[5] == {"reach_id": 74269800011, "sword": "na_sword_v16.nc", "swot": "74269800011_SWOT.nc",
                          "sos": "na_sword_v16_SOS_priors.nc"}
    reach_node = dict(load(mnt, "reach_node_na"))
    assert len(reach_node["74269800011"]) == 42 and reach_node["74269800011"][0] == "74269800010011"
    s3_list = load(mnt, "s3_list_na")
    assert len(s3_list) == 10 and all((source / g).is_file() for g in s3_list)  # relative to the source root
    s3_reach = load(mnt, "s3_reach_na")
    assert set(s3_reach) == {str(r) for r in REACHES}
    # 74269800011 is seen on both passes, 74269500211 on pass 51 only (3 cycles: 3 Reach + 3 Node granules)
    assert len(s3_reach["74269800011"]) == 10
    assert len(s3_reach["74269500211"]) == 6 and all("_51_" in g for g in s3_reach["74269500211"])
    assert load(mnt, "cycle_passes_na") == {"001_051": 1051, "001_372": 1372, "002_051": 2051,
                                            "002_372": 2372, "003_051": 3051}
    assert load(mnt, "passes_na")["2372"] == ["002", "372"]
    basin = load(mnt, "basin_na")
    assert basin == [{"basin_id": 7426, "reach_id": [str(r) for r in REACHES], "sword": "na_sword_v16.nc",
                      "sos": "na_sword_v16_SOS_priors.nc", "swot": [f"{r}_SWOT.nc" for r in REACHES]}]
    # no SWORD: no facc, so MetroMan sets cannot grow and HiVDI/SIC sets are single reaches
    # no SWORD, no facc: no set grows; every river reach is a set of one
    assert all(len(s) == 1 for s in load(mnt, "metrosets_na")) and len(load(mnt, "sicsets_na")) == 11
    assert len(load(mnt, "metrosets_na")) == 11
    assert "no SWORD" in out


def test_continent_without_granules_writes_empty_lists(mnt: Path, source: Path) -> None:
    code, out = run("--index", "0")  # af
    assert code == 0, out
    assert load(mnt, "reaches_af") == [] and load(mnt, "s3_reach_af") == {} and load(mnt, "basin_af") == []
    assert "no granules for af" in out


def test_continent_with_granules_but_no_reaches(mnt: Path, source: Path) -> None:
    code, out = run("--index", "5")  # sa: NA-token granules are read, none of their reach ids start with 6
    assert code == 0, out
    assert load(mnt, "reaches_sa") == [] and load(mnt, "reach_node_sa") == [] and load(mnt, "sicsets_sa") == []
    assert "sa: 10 granules read (0 skipped), 0 reaches" in out


def test_empty_source_is_a_clear_error(mnt: Path) -> None:
    code, out = run("--index", str(NA))
    assert code == 1
    assert out.strip().splitlines()[-1].endswith("source: no SWOT_L2_HR_RiverSP_*.zip granules in the source folder")


def test_continent_json_entry_used(mnt: Path, source: Path) -> None:
    (mnt / "input" / "continent.json").write_text(json.dumps([{"na": [7, 8, 9]}]))
    code, out = run("--index", "0")
    assert code == 0, out
    assert len(load(mnt, "reaches_na")) == 11
    (mnt / "input" / "continent.json").write_text(json.dumps([{"xx": []}]))
    code, out = run("--index", "0")
    assert code == 1 and "continent.json" in out


def test_other_sword_version_skipped(mnt: Path, source: Path, add_xml: Callable[[Path, str], None]) -> None:
    for f in source.glob("*_51_*.zip"):
        add_xml(f, "na_sword_v15.nc")
    for f in source.glob("*_372_*.zip"):
        add_xml(f, "na_sword_v16.nc")
    code, out = run("--index", str(NA))
    assert code == 0, out
    assert "built on SWORD v15" in out
    assert all("_372_" in g for g in load(mnt, "s3_list_na"))
    assert load(mnt, "cycle_passes_na") == {"001_372": 1372, "002_372": 2372}


def write_sword(path: Path) -> None:
    """A small SWORD file for the simulated reaches: a chain through 74269800011 and a facc jump."""
    chain = [74269800031, 74269800021, 74269800011, 74269900011, 74269900031, 74269900051]
    facc = {74269800031: 1000.0, 74269800021: 1010.0, 74269800011: 1020.0, 74269900011: 1030.0,
            74269900031: 2000.0, 74269900051: 2010.0}
    ids = sorted(set(REACHES) - {74269700031})  # one observed reach unknown to SWORD
    up = np.zeros((4, len(ids)), np.int64)
    dn = np.zeros((4, len(ids)), np.int64)
    for a, b in itertools.pairwise(chain):
        dn[0, ids.index(a)] = b
        up[0, ids.index(b)] = a
    up[0, ids.index(chain[0])] = 74269800041  # outside the run
    path.parent.mkdir(parents=True, exist_ok=True)
    with netCDF4.Dataset(path, "w") as ds:
        ds.createDimension("num_reaches", len(ids))
        ds.createDimension("num_nodes", 3)
        ds.createDimension("num_domains", 4)
        g = ds.createGroup("reaches")
        g.createVariable("reach_id", "i8", ("num_reaches",))[:] = ids
        g.createVariable("facc", "f8", ("num_reaches",))[:] = [facc.get(r, 500.0) for r in ids]
        g.createVariable("rch_id_up", "i8", ("num_domains", "num_reaches"))[:] = up
        g.createVariable("rch_id_dn", "i8", ("num_domains", "num_reaches"))[:] = dn
        n = ds.createGroup("nodes")
        n.createVariable("node_id", "i8", ("num_nodes",))[:] = [74269800010011, 74269800010999, 74269900010011]
        n.createVariable("reach_id", "i8", ("num_nodes",))[:] = [74269800011, 74269800011, 74269900011]


def test_sword_gives_reaches_topology_and_sets(mnt: Path, source: Path) -> None:
    write_sword(mnt / "input" / "sword" / "na_sword_v16.nc")
    code, out = run("--index", str(NA))
    assert code == 0, out
    ids = [r["reach_id"] for r in load(mnt, "reaches_na")]
    assert 74269700031 not in ids and len(ids) == 10
    assert "not in na_sword_v16.nc" in out
    metro = [[e["reach_id"] for e in s] for s in load(mnt, "metrosets_na") if len(s) > 1]
    # seed 74269800031 (one upstream, outside the run): 2 down -> 3 reaches; 900031 jumps facc
    assert metro == [[74269800031, 74269800021, 74269800011]]
    hivdi = [[e["reach_id"] for e in s] for s in load(mnt, "hivdisets_na")]
    assert [74269800031, 74269800021, 74269800011, 74269900011] in hivdi
    nodes = dict(load(mnt, "reach_node_na"))["74269800011"]
    assert "74269800010999" in nodes and len(nodes) == 43  # SWORD's nodes added to the observed 42


# ----------------------------------------------------------------------------- S3 and CMR


@pytest.fixture()
def bucket(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    moto = pytest.importorskip("moto")
    import boto3

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("CONFLUENCE_CREDS_PREFIX", "/run/creds")
    with moto.mock_aws():
        ssm = boto3.client("ssm")
        for key in ("accessKeyId", "secretAccessKey", "sessionToken", "expiration"):
            ssm.put_parameter(Name=f"/run/creds/{key}", Value=f"x-{key}", Type="SecureString")
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="podaac", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
        for f in sorted((shared_data / "riversp_simulated").glob("*.zip")):
            s3.upload_file(str(f), "podaac", f"SWOT_L2_HR_RiverSP_2.0/{f.name}")
        yield "podaac"


def test_s3_source(mnt: Path, bucket: str) -> None:
    code, out = run("--index", str(NA), "--source", f"s3://{bucket}/SWOT_L2_HR_RiverSP_2.0/")
    assert code == 0, out
    assert "credentials from SSM /run/creds" in out
    s3_list = load(mnt, "s3_list_na")
    assert len(s3_list) == 10 and all(g.startswith("s3://podaac/SWOT_L2_HR_RiverSP_2.0/SWOT_") for g in s3_list)
    assert len(load(mnt, "reaches_na")) == 11


def test_s3_with_sword_reads_reach_granules_only(mnt: Path, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from confluence_core import riversp

    write_sword(mnt / "input" / "sword" / "na_sword_v16.nc")
    opened: list[str] = []
    real = riversp.read_granule
    monkeypatch.setattr(riversp, "read_granule", lambda p, *a, **k: opened.append(str(p)) or real(p, *a, **k))
    code, out = run("--index", str(NA), "--source", f"s3://{bucket}/SWOT_L2_HR_RiverSP_2.0/")
    assert code == 0, out
    assert len(opened) == 5 and all("_Reach_" in p for p in opened)
    s3_list = load(mnt, "s3_list_na")
    assert len(s3_list) == 10  # Node granules kept with their Reach twins
    assert len(load(mnt, "s3_reach_na")["74269800011"]) == 10


def test_s3_empty_prefix(mnt: Path, bucket: str) -> None:
    code, out = run("--index", str(NA), "--source", f"s3://{bucket}/nothing/")
    assert code == 1 and "s3://podaac/nothing/: no SWOT_L2_HR_RiverSP_*.zip granules" in out


def test_cmr_source_reads_s3(mnt: Path, bucket: str, cmr: Any) -> None:
    """--source cmr: earthaccess searches the fake CMR of conftest.py (recorded pages), S3 (moto) is read."""
    code, out = run("--index", str(NA), "--source", "cmr", "--cmr-url", cmr.root,
                    "--temporal-start", "2010-08-01T00:00:00Z", "--temporal-end", "2010-10-01T00:00:00Z")
    assert code == 0, out
    query = cmr.requests[-1]["query"]
    assert query["short_name"] == ["SWOT_L2_HR_RiverSP_2.0"] and query["temporal[]"][0].startswith("2010-08-01T00")
    s3_list = load(mnt, "s3_list_na")
    assert len(s3_list) == 10 and all(g.startswith("s3://podaac/") for g in s3_list)
    assert "CMR lists no s3:// link" in out  # the recorded page holds one HTTPS-only granule
    assert len(load(mnt, "reaches_na")) == 11


def test_cmr_failure_is_one_line(mnt: Path, cmr: Any) -> None:
    cmr.failures = [(503, "busy")] * 4
    code, out = run("--index", str(NA), "--source", "cmr", "--cmr-url", cmr.root)
    assert code == 1
    assert f"{cmr.root}: CMR search failed: HTTP 503 Service Unavailable" in out


def test_recorded_pages_are_cmr_umm_json() -> None:
    pages = [json.loads((DATA / f"cmr_page{k}.json").read_text()) for k in (1, 2)]
    assert pages[0]["hits"] == 11
    items = [i for p in pages for i in p["items"]]
    assert len(items) == 11 and all("GranuleUR" in i["umm"] for i in items)

