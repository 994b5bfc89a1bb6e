"""confluence_core.riversp on the real simulated PGA2 granules and on edited copies."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pyogrio = pytest.importorskip("pyogrio")

from confluence_core import riversp  # noqa: E402
from confluence_core.errors import ConfluenceError, InputError  # noqa: E402
from confluence_core.fill import INT_FILL  # noqa: E402

REACH = "SWOT_L2_HR_RiverSP_Reach_1_51_NA_20100816T184024_20100816T184031_PGA2_03.zip"
NODE = "SWOT_L2_HR_RiverSP_Node_1_51_NA_20100816T184024_20100816T184031_PGA2_03.zip"


def raw_read(path: Path) -> dict[str, np.ndarray]:
    shp = path.name.replace(".zip", ".shp")
    meta, *_, arrays = pyogrio.raw.read(f"/vsizip/{path}/{shp}", read_geometry=False)
    return dict(zip(meta["fields"], arrays, strict=True))


def with_xml(src: Path, dest: Path, sword_file: str) -> Path:
    """Copy a granule zip adding a .shp.xml that names ``sword_file``."""
    shutil.copy(src, dest)
    xml = (f"<?xml version='1.0'?><swot_product><global_attributes><xref_prior_river_db_files>"
           f"{sword_file}</xref_prior_river_db_files></global_attributes></swot_product>")
    with zipfile.ZipFile(dest, "a") as zf:
        zf.writestr(src.name.replace(".zip", ".shp.xml"), xml)
    return dest


def without_field(src: Path, dest_dir: Path, field: str) -> Path:
    """Rewrite a granule without ``field`` (same name, in ``dest_dir``)."""
    shp = src.name.replace(".zip", ".shp")
    meta, _, geom, arrays = pyogrio.raw.read(f"/vsizip/{src}/{shp}")
    keep = [i for i, f in enumerate(meta["fields"]) if f != field]
    work = dest_dir / "work"
    work.mkdir()
    pyogrio.raw.write(str(work / shp), geom, [arrays[i] for i in keep], [meta["fields"][i] for i in keep],
                      driver="ESRI Shapefile", geometry_type=meta["geometry_type"], crs=meta["crs"])
    dest = dest_dir / src.name
    with zipfile.ZipFile(dest, "w") as zf:
        for f in work.iterdir():
            zf.write(f, f.name)
    shutil.rmtree(work)
    return dest


@pytest.fixture()
def sim(shared_data: Path) -> Path:
    return shared_data / "riversp_simulated"


def test_parse_granule_name() -> None:
    g = riversp.parse_granule_name(f"s3://bucket/a/{REACH}")
    assert (g.feature, g.cycle, g.pass_number, g.continent_code) == ("Reach", 1, 51, "NA")
    assert (g.start, g.end, g.crid, g.counter) == ("20100816T184024", "20100816T184031", "PGA2", 3)
    assert g.cycle_pass == "001_051"
    assert riversp.parse_granule_name(NODE).tile_key == g.tile_key


@pytest.mark.parametrize("bad", ["foo.zip", "SWOT_L2_HR_RiverSP_Lake_1_51_NA_2010T1_2010T2_PGA2_03.zip",
                                 "SWOT_L2_HR_RiverSP_Reach_x_51_NA_20100816T184024_20100816T184031_PGA2_03"])
def test_parse_bad_name(bad: str) -> None:
    with pytest.raises(InputError, match="not a RiverSP granule name"):
        riversp.parse_granule_name(bad)


def test_read_reach_granule_matches_pyogrio(sim: Path) -> None:
    data, meta = riversp.read_granule(sim / REACH)
    raw = raw_read(sim / REACH)
    assert meta.n_records == len(raw["reach_id"]) == 10
    assert len(meta.fields) == 97 and meta.sword_version is None and meta.sword_file is None
    assert data["reach_id"].dtype == np.int64
    assert data["reach_id"].tolist() == [int(r) for r in raw["reach_id"]]
    np.testing.assert_array_equal(data["wse"], raw["wse"])
    np.testing.assert_array_equal(data["slope2"], raw["slope2"])
    assert data["width_u"].dtype == np.float64  # stored as int32 by the simulator
    assert np.isnan(data["xtrk_dist"]).all()  # int -9999 fill -> NaN
    assert (data["time_str"] == "no_data").all()  # numeric all-fill column -> text fill
    assert data["reach_q"].dtype == np.int64 and (data["reach_q"] == raw["reach_q"]).all()


def test_read_columns_and_absent_fields(sim: Path) -> None:
    data, meta = riversp.read_granule(sim / NODE, ["node_id", "wse", "node_q_b", "p_width"])
    assert set(data) == {"node_id", "wse", "node_q_b", "p_width"}
    assert meta.absent == ["node_q_b"]  # a version D field
    assert (data["node_q_b"] == INT_FILL).all()
    assert data["node_id"][0] == 74269900010011


def test_sword_version_from_xml(sim: Path, tmp_path: Path) -> None:
    path = with_xml(sim / REACH, tmp_path / REACH, "/data/SWORD/na_sword_v15.nc")
    _, meta = riversp.read_granule(path, ["reach_id"])
    assert meta.sword_file == "/data/SWORD/na_sword_v15.nc" and meta.sword_version == 15
    assert riversp.read_sword_version(path) == ("/data/SWORD/na_sword_v15.nc", 15)


@pytest.mark.parametrize("text, version", [("na_sword_v16.nc", 16), ("SWORD_v16_patch.nc, x_v3.nc", 16),
                                           ("/a/NA_SWORD_v17b.nc", 17), ("prior.nc", None), (None, None)])
def test_sword_version_of(text: str | None, version: int | None) -> None:
    assert riversp.sword_version_of(text) == version


def test_corrupt_zip(tmp_path: Path) -> None:
    path = tmp_path / REACH
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match=r"Reach_1_51.*corrupt zip"):
        riversp.read_granule(path)


def test_zip_without_shp(tmp_path: Path) -> None:
    path = tmp_path / REACH
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "nothing")
    with pytest.raises(InputError, match=r"no \.shp"):
        riversp.read_granule(path)


def test_missing_required_field(sim: Path, tmp_path: Path) -> None:
    path = without_field(sim / NODE, tmp_path, "node_id")
    with pytest.raises(InputError, match=r"Node_1_51.*lacks required field\(s\) node_id"):
        riversp.read_granule(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        riversp.read_granule(tmp_path / REACH)


def test_split_ids() -> None:
    got = riversp.split_ids(np.array(["74269800181  74269800041", "74269900011,74269800011", "no_data", "0"]))
    assert got.tolist() == [[74269800181, 74269800041, 0, 0], [74269900011, 74269800011, 0, 0],
                            [0, 0, 0, 0], [0, 0, 0, 0]]


@pytest.mark.slow  # importing moto alone takes seconds
def test_read_from_s3_with_ssm_credentials(sim: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    moto = pytest.importorskip("moto")
    import boto3

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("CONFLUENCE_CREDS_PREFIX", "/test/creds")
    with moto.mock_aws():
        ssm = boto3.client("ssm")
        for key in riversp.CREDS_KEYS:
            ssm.put_parameter(Name=f"/test/creds/{key}", Value=f"fake-{key}", Type="SecureString")
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="pod", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
        s3.upload_file(str(sim / REACH), "pod", f"riversp/{REACH}")
        client = riversp.s3_client()
        assert client._request_signer._credentials.access_key == "fake-accessKeyId"
        data, meta = riversp.read_granule(f"s3://pod/riversp/{REACH}", ["reach_id", "wse"], s3=client)
        assert meta.n_records == 10 and data["reach_id"][0] == 74269900011
        with pytest.raises(InputError, match="cannot download"):
            riversp.read_granule(f"s3://pod/riversp/{NODE}", s3=client)


def _put_creds(ssm: Any, key_id: str, expiration: str) -> None:
    for key, value in (("accessKeyId", key_id), ("secretAccessKey", f"secret-{key_id}"),
                       ("sessionToken", f"token-{key_id}"), ("expiration", expiration)):
        ssm.put_parameter(Name=f"/test/creds/{key}", Value=value, Type="SecureString", Overwrite=True)


@pytest.mark.slow  # importing moto alone takes seconds
def test_s3_client_refreshes_on_expired_token_once(sim: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """S3 answers ExpiredToken to the first request: the client re-reads SSM (renewed meanwhile) and retries."""
    moto = pytest.importorskip("moto")
    import boto3
    from botocore.stub import Stubber

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("CONFLUENCE_CREDS_PREFIX", "/test/creds")
    with moto.mock_aws():
        ssm = boto3.client("ssm")
        _put_creds(ssm, "first", "2999-01-01 00:00:00+00:00")
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="pod", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
        s3.upload_file(str(sim / REACH), "pod", f"riversp/{REACH}")
        client = riversp.s3_client()
        stale = Stubber(client._client)
        stale.add_client_error("head_object", service_error_code="ExpiredToken", http_status_code=400,
                               service_message="The provided token has expired.")
        stale.activate()
        _put_creds(ssm, "second", "2999-01-01 01:00:00+00:00")  # the renew Lambda ran
        assert client.head_object(Bucket="pod", Key=f"riversp/{REACH}")["ContentLength"] > 0
        stale.assert_no_pending_responses()
        assert client._request_signer._credentials.access_key == "second"
        data, _ = riversp.read_granule(f"s3://pod/riversp/{REACH}", ["reach_id"], s3=client)
        assert data["reach_id"][0] == 74269900011

        # not renewed: the error stands (one retry only when the credentials changed)
        again = Stubber(client._client)
        again.add_client_error("get_object", service_error_code="ExpiredToken", http_status_code=400)
        again.activate()
        with pytest.raises(Exception, match="ExpiredToken"):
            client.get_object(Bucket="pod", Key=f"riversp/{REACH}")


@pytest.mark.slow
def test_s3_client_refreshes_when_expiration_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    moto = pytest.importorskip("moto")
    import datetime as dt

    import boto3

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("CONFLUENCE_CREDS_PREFIX", "/test/creds")
    clock = [dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)]
    with moto.mock_aws():
        ssm = boto3.client("ssm")
        boto3.client("s3").create_bucket(Bucket="pod", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
        _put_creds(ssm, "first", "2030-01-01 13:00:00")  # naive: UTC
        client = riversp.s3_client()
        client._now = lambda: clock[0]
        _put_creds(ssm, "second", "2030-01-01 14:00:00+00:00")
        client.list_objects_v2(Bucket="pod")
        assert client._request_signer._credentials.access_key == "first"  # 1 h left: kept
        clock[0] = dt.datetime(2030, 1, 1, 12, 56, tzinfo=dt.UTC)  # within the margin: read again
        client.list_objects_v2(Bucket="pod")
        assert client._request_signer._credentials.access_key == "second"
        assert client.expiration == dt.datetime(2030, 1, 1, 14, 0, tzinfo=dt.UTC)
        clock[0] = dt.datetime(2030, 1, 1, 15, 0, tzinfo=dt.UTC)  # expired and not renewed: one clear error
        with pytest.raises(ConfluenceError, match=r"expired at 2030-01-01 14:00:00\+00:00 and were not renewed"):
            client.list_objects_v2(Bucket="pod")


def without_member(src: Path, dest_dir: Path, ext: str) -> Path:
    """A copy of a granule zip without its member ending in ``ext``."""
    dest = dest_dir / src.name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for name in zin.namelist():
            if not name.lower().endswith(ext):
                zout.writestr(name, zin.read(name))
    return dest


@pytest.mark.parametrize(("ext", "reason"), [
    (".shp", r"zip holds no \.shp file"),
    (".shx", r"zip holds no \.shx file \(the shapefile index\) beside SWOT_L2_HR_RiverSP_Reach_1_51_.*\.shp$"),
    (".dbf", r"zip holds no \.dbf file \(the attribute table\) beside SWOT_L2_HR_RiverSP_Reach_1_51_.*\.shp$"),
])
def test_zip_missing_a_member_names_it(sim: Path, tmp_path: Path, ext: str, reason: str) -> None:
    path = without_member(sim / REACH, tmp_path, ext)
    with pytest.raises(InputError, match=f"^{path}: {reason}"):
        riversp.read_granule(path)


@pytest.mark.parametrize("keep", [0.5, 0.95])
def test_truncated_zip_is_one_reason(sim: Path, tmp_path: Path, keep: float) -> None:
    data = (sim / REACH).read_bytes()
    path = tmp_path / REACH
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(InputError, match=f"^{path}: corrupt zip"):
        riversp.read_granule(path)


# ----------------------------------------------------------------------------- rows of some reaches


def _selection_equals_full_read(path: Path, columns: list[str] | None, ids: list[int]) -> int:
    full, full_meta = riversp.read_granule(path, columns)
    part, meta = riversp.read_granule(path, columns, reach_ids=np.array(ids, dtype=np.int64))
    keep = np.isin(full["reach_id"], ids)
    assert list(part) == list(full) and meta.absent == full_meta.absent
    assert meta.n_records == full_meta.n_records and meta.fields == full_meta.fields
    for name, values in full.items():
        assert part[name].dtype == values.dtype, name
        assert part[name].tolist() == values[keep].tolist() or np.array_equal(part[name], values[keep],
                                                                                equal_nan=True), name
    return int(keep.sum())


@pytest.mark.parametrize("feature", [REACH, NODE])
def test_reach_ids_give_the_rows_of_a_full_read(sim: Path, feature: str) -> None:
    ids = [int(r) for r in raw_read(sim / feature)["reach_id"]]
    distinct = sorted(set(ids))
    for pick in ([distinct[3]], distinct[::3], distinct, [74269999991], []):
        n = _selection_equals_full_read(sim / feature, None, pick)
        assert n == sum(i in pick for i in ids)
    assert _selection_equals_full_read(sim / feature, ["reach_id", "wse", "node_q_b", "time_str"], distinct[:2]) > 0


def test_reach_ids_read_only_those_records(sim: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = raw_read(sim / NODE)["reach_id"].astype(np.int64)
    asked: list[object] = []
    real = pyogrio.raw.read

    def spy(*args: object, **kwargs: object) -> object:
        asked.append(kwargs.get("fids"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pyogrio.raw, "read", spy)
    data, meta = riversp.read_granule(sim / NODE, ["reach_id", "wse"], reach_ids=[int(ids[0])])
    assert np.asarray(asked[-1]).tolist() == np.flatnonzero(ids == ids[0]).tolist()
    assert len(data["wse"]) == int((ids == ids[0]).sum()) < meta.n_records == ids.size
    riversp.read_granule(sim / NODE, ["reach_id", "wse"], reach_ids=np.unique(ids))
    assert asked[-1] is None  # every row wanted: one plain read


def test_unreadable_dbf_header_falls_back_to_a_full_read(sim: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(riversp, "dbf_rows", lambda *a, **k: None)
    ids = sorted({int(r) for r in raw_read(sim / NODE)["reach_id"]})
    assert _selection_equals_full_read(sim / NODE, None, ids[:2]) > 0


def _dbf(fields: list[tuple[str, str, int]], rows: list[list[str]], deleted: tuple[int, ...] = ()) -> bytes:
    """A dBASE III table: ``fields`` (name, type, width), ``rows`` of text (padded here)."""
    record_len = 1 + sum(w for _, _, w in fields)
    header_len = 32 + 32 * len(fields) + 1
    head = bytearray(32)
    head[0] = 3
    head[4:8] = len(rows).to_bytes(4, "little")
    head[8:10] = header_len.to_bytes(2, "little")
    head[10:12] = record_len.to_bytes(2, "little")
    for name, kind, width in fields:
        desc = bytearray(32)
        desc[:len(name)] = name.encode()
        desc[11], desc[16] = ord(kind), width
        head += desc
    head += b"\r"
    for i, row in enumerate(rows):
        head += b"*" if i in deleted else b" "
        for (_, kind, width), text in zip(fields, row, strict=True):
            head += (text.rjust(width) if kind == "N" else text.ljust(width)).encode()
    return bytes(head) + b"\x1a"


def test_dbf_rows() -> None:
    fields = [("node_id", "C", 14), ("reach_id", "C", 11), ("wse", "N", 10)]
    rows = [["74269800010011", "74269800011", "1.5"], ["74269800020011", "74269800021", "2"],
            ["74269800010021", "74269800011", "3"], ["", "", "4"], ["74269800010031", "74269800011", "5"]]
    table = _dbf(fields, rows, deleted=(4,))
    n, got = riversp.dbf_rows(table, np.array([74269800011]))  # type: ignore[misc]
    assert n == 5 and got.tolist() == [0, 2]  # the deleted record is left out, as OGR does
    assert riversp.dbf_rows(table, np.array([74269800021, 1]))[1].tolist() == [1]  # type: ignore[index]
    as_number = _dbf([("reach_id", "N", 13)], [["74269800011"], ["74269800021"]])
    assert riversp.dbf_rows(as_number, np.array([74269800021]))[1].tolist() == [1]  # type: ignore[index]
    assert riversp.dbf_rows(_dbf([("other", "C", 11)], [["74269800011"]]), np.array([74269800011])) is None
    assert riversp.dbf_rows(table[:60], np.array([74269800011])) is None  # truncated
